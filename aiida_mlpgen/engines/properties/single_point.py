"""One structure as it is: energy, forces, stress (the ``ase`` labeller's property)."""

from __future__ import annotations

import numpy as np

from .tasks import Task

DEFAULTS: dict = {}


def tasks(atoms) -> list[Task]:
    return [Task('single_point', atoms.copy(), forces=True)]


def analyse(atoms, results):
    result = results['single_point']
    values = {
        'energy': result.energy,
        'energy_per_atom': result.energy / len(atoms),
        'forces': np.asarray(result.forces).tolist(),
        'stress': np.asarray(result.stress).tolist(),
    }
    return values, {}
