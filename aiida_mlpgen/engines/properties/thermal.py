"""Thermal expansion from NPT molecular dynamics (LAMMPS engine): the time-averaged volume
at each temperature, zero pressure, gives a(T); α = (1/a) da/dT from a straight-line fit."""

from __future__ import annotations

import numpy as np

from .tasks import Task

DEFAULTS = {
    'temperatures': [300, 600, 900],
    'supercell': [4, 4, 4],
    'steps': 4000,
    'equilibration': 2000,
    'timestep': 0.001,
    'seed': 4928,
}


def tasks(atoms, temperatures, supercell, steps, equilibration, timestep, seed):
    if not temperatures or min(temperatures) <= 0:
        raise ValueError('thermal_expansion needs positive temperatures (K)')
    cell = atoms.repeat([int(n) for n in supercell])
    return [
        Task(
            f'npt_{int(round(t))}K',
            cell.copy(),
            'md',
            md={
                'temperature': float(t),
                'steps': int(steps),
                'equilibration': int(equilibration),
                'timestep': float(timestep),
                'seed': int(seed),
            },
        )
        for t in temperatures
    ]


def analyse(atoms, results, temperatures, supercell, steps, equilibration, timestep, seed):
    task_list = tasks(atoms, temperatures, supercell, steps, equilibration, timestep, seed)
    reference = atoms.get_volume() * int(np.prod(supercell))
    a0 = atoms.cell.lengths()[0]
    lattice = np.array([a0 * (results[t.name].volume / reference) ** (1 / 3) for t in task_list])
    temps = np.array([t.md['temperature'] for t in task_list])
    values = {f'lattice_parameter_{int(round(t))}K': float(a) for t, a in zip(temps, lattice, strict=True)}
    if len(temps) > 1:
        slope = np.polyfit(temps, lattice, 1)[0]
        values['thermal_expansion_coefficient'] = float(slope / lattice[0])  # 1/K
    return values, {'temperatures': temps.tolist(), 'lattice_parameters': lattice.tolist(), 'a0': float(a0)}
