"""Labelled cells for the benchmarks that need data of their own: ASE's EMT plays DFT."""

from __future__ import annotations

import numpy as np

KINDS = ('strain', 'shear', 'rattle', 'vacancy')


def deform(atoms, kind: str, rng, amplitude: float) -> None:
    """Strain (diagonal) or shear (symmetric off-diagonal) the cell by up to ``amplitude``,
    atoms following; other kinds leave the cell as it is."""
    strain = np.eye(3)
    if kind == 'strain':
        strain += np.diag(rng.uniform(-amplitude, amplitude, 3))
    elif kind == 'shear':
        off = rng.uniform(-amplitude, amplitude, 3)
        strain[0, 1] = strain[1, 0] = off[0]
        strain[0, 2] = strain[2, 0] = off[1]
        strain[1, 2] = strain[2, 1] = off[2]
    atoms.set_cell(atoms.cell @ strain, scale_atoms=True)


def label(atoms, group: str, stress: bool = False):
    """EMT energy, forces (and stress) frozen on ``atoms``, with its group."""
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms.calc = EMT()
    results = {'energy': atoms.get_potential_energy(), 'forces': atoms.get_forces()}
    if stress:
        results['stress'] = atoms.get_stress()
    atoms.calc = SinglePointCalculator(atoms, **results)
    atoms.info['group'] = group
    return atoms
