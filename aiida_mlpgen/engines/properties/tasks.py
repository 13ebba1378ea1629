"""Tasks: the structures a property needs evaluated, in a form both engines run.

A property (see :mod:`.registry`) turns a structure into a list of :class:`Task` — a
structure plus what to do with it: evaluate (``none``), relax the positions
(``positions``), relax them along the normal of the cell's a–b plane only (``normal``,
for stacking faults), or run NPT molecular dynamics (``md``). An engine runs every task
and returns a :class:`TaskResult` for each; the property's ``analyse`` turns the results
into values. The ASE engine (:func:`run_tasks`) and the LAMMPS engine
(:mod:`.lammps_input`) therefore share strain sets, supercells, slabs and fits.
Tasks and results travel as JSON (``tasks.json``, ``results.json``).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from ase import Atoms

RELAX_MODES = ('none', 'positions', 'normal', 'md')
#: convergence of position relaxations: largest force component, eV/Å (both engines)
FMAX = 1e-3
MAX_STEPS = 5000


@dataclasses.dataclass
class Task:
    name: str
    atoms: Atoms
    relax: str = 'none'
    forces: bool = False  # the analysis needs forces (phonons)
    md: dict | None = None  # temperature (K), steps, equilibration, timestep (ps), seed

    def __post_init__(self):
        if self.relax not in RELAX_MODES:
            raise ValueError(f'unknown relax mode {self.relax!r}; known: {", ".join(RELAX_MODES)}')

    def as_dict(self) -> dict:
        return {
            'name': self.name,
            'atoms': atoms_to_dict(self.atoms),
            'relax': self.relax,
            'forces': self.forces,
            'md': self.md,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Task:
        return cls(data['name'], atoms_from_dict(data['atoms']), data['relax'], data['forces'], data['md'])


@dataclasses.dataclass
class TaskResult:
    energy: float  # eV, final structure
    stress: np.ndarray  # 3x3 eV/Å³, tension positive (ASE's sign)
    forces: np.ndarray | None = None  # eV/Å, when the task asked for them
    volume: float | None = None  # Å³; for md the time average
    converged: bool = True

    def as_dict(self) -> dict:
        return {
            'energy': self.energy,
            'stress': np.asarray(self.stress).tolist(),
            'forces': None if self.forces is None else np.asarray(self.forces).tolist(),
            'volume': self.volume,
            'converged': self.converged,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TaskResult:
        forces = data.get('forces')
        return cls(
            float(data['energy']),
            np.array(data['stress'], float),
            None if forces is None else np.array(forces, float),
            data.get('volume'),
            data.get('converged', True),
        )


def atoms_to_dict(atoms: Atoms) -> dict:
    return {
        'symbols': atoms.get_chemical_symbols(),
        'positions': atoms.positions.tolist(),
        'cell': atoms.cell[:].tolist(),
        'pbc': [bool(p) for p in atoms.pbc],
    }


def atoms_from_dict(data: dict) -> Atoms:
    return Atoms(data['symbols'], positions=data['positions'], cell=data['cell'], pbc=data['pbc'])


def dump_tasks(tasks: list[Task]) -> str:
    return json.dumps([task.as_dict() for task in tasks])


def load_tasks(text: str) -> list[Task]:
    return [Task.from_dict(item) for item in json.loads(text)]


def dump_results(results: dict[str, TaskResult]) -> str:
    return json.dumps({name: result.as_dict() for name, result in results.items()})


def load_results(text: str) -> dict[str, TaskResult]:
    return {name: TaskResult.from_dict(item) for name, item in json.loads(text).items()}


def plane_normal(cell) -> np.ndarray:
    normal = np.cross(cell[0], cell[1])
    return normal / np.linalg.norm(normal)


def run_task(task: Task, calculator, fmax: float = FMAX, steps: int = MAX_STEPS) -> TaskResult:
    """Run one task with an ASE calculator (BFGS for relaxations)."""
    from ase.constraints import FixedLine
    from ase.optimize import BFGS

    if task.relax == 'md':
        raise ValueError(f'task {task.name}: molecular dynamics runs in the LAMMPS engine only')
    atoms = task.atoms.copy()
    atoms.calc = calculator
    converged = True
    if task.relax != 'none':
        if task.relax == 'normal':
            normal = plane_normal(atoms.cell[:])
            atoms.set_constraint([FixedLine(i, normal) for i in range(len(atoms))])
        converged = bool(BFGS(atoms, logfile=None).run(fmax=fmax, steps=steps))
    return TaskResult(
        energy=float(atoms.get_potential_energy()),
        stress=np.array(atoms.get_stress(voigt=False), float),
        forces=np.array(atoms.get_forces(apply_constraint=False)) if task.forces else None,
        volume=float(atoms.get_volume()),
        converged=converged,
    )


def run_tasks(tasks: list[Task], calculator, fmax: float = FMAX) -> dict[str, TaskResult]:
    """The ASE engine: every task with ``calculator``."""
    return {task.name: run_task(task, calculator, fmax) for task in tasks}
