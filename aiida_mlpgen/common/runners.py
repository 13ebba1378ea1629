"""Console scripts that the AiiDA codes of ``mlpgen setup`` point at.

``mlpgen-fitsnap INPUT`` runs the FitSNAP of this environment as ``python -m fitsnap3``
would, after loading ``libmpi.so.12`` from the mpich wheel (so no LD_LIBRARY_PATH is
needed). The FitSNAP CalcJob uses it as its executable on localhost; a cluster with its
own FitSNAP can point a code at plain ``python -m fitsnap3`` instead.
"""

import runpy
import sys

from .mpi import preload_libmpi


def fitsnap_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (['--version'], ['-V']):
        from importlib.metadata import version

        print(f'fitsnap3 {version("fitsnap3")} (aiida-mlpgen runner)')
        return 0
    preload_libmpi()
    sys.argv = ['fitsnap3', *argv]
    runpy.run_module('fitsnap3', run_name='__main__', alter_sys=True)
    return 0
