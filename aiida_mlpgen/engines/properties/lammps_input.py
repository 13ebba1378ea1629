"""The LAMMPS engine: one LAMMPS input running every task, and the reader of its output.

Each task is a ``clear``-separated block: read the structure (rotated into LAMMPS's
lower-triangular frame by ASE's Prism), ``include`` the potential, then ``run 0``,
``minimize`` (conjugate gradients; for ``normal`` the in-plane force components are
zeroed, which in LAMMPS's frame is x and y), or NPT dynamics with a time-averaged volume.
A line ``MLPGEN <index> pe pxx pyy pzz pxy pxz pyz vol converged`` and, when forces are
wanted, a sorted dump per task carry the results back; stresses and forces are rotated
back into the frame of the task's structure.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from ase.calculators.lammps import Prism
from ase.io.lammpsdata import write_lammps_data
from ase.units import bar

from .tasks import FMAX, MAX_STEPS, Task, TaskResult

INPUT_NAME = 'in.lammps'
LOG_NAME = 'log.lammps'
_RESULT = re.compile(r'^MLPGEN (\d+)((?: \S+){9})$', re.MULTILINE)


def data_name(index: int) -> str:
    return f'task_{index:03d}.data'


def dump_name(index: int) -> str:
    return f'task_{index:03d}.dump'


def _block(index: int, task: Task, potential_mod: str) -> list[str]:
    lines = [
        'clear',
        'units metal',
        'atom_style atomic',
        'boundary p p p',
        'atom_modify map array sort 0 0',
        f'read_data {data_name(index)}',
        f'include {potential_mod}',
        'thermo_style custom step pe pxx pyy pzz pxy pxz pyz vol',
        'thermo_modify format float %.15g',
        'variable converged equal 1',
    ]
    if task.relax in ('positions', 'normal'):
        if task.relax == 'normal':
            lines.append('fix mlpgen_plane all setforce 0.0 0.0 NULL')
        lines += [
            'min_style cg',
            f'minimize 0.0 {FMAX} {MAX_STEPS} {10 * MAX_STEPS}',
            f'variable converged equal "fmax < {2 * FMAX}"',
        ]
        lines.append('run 0')
    elif task.relax == 'md':
        md = task.md
        t, dt = md['temperature'], md['timestep']
        lines += [
            f'timestep {dt}',
            f'velocity all create {2 * t} {md["seed"]} dist gaussian mom yes rot yes',
            f'fix mlpgen_npt all npt temp {t} {t} {100 * dt} iso 0.0 0.0 {1000 * dt}',
            'thermo 1000',
            f'run {md["equilibration"]}',
            'reset_timestep 0',
            'variable volume equal vol',
            f'fix mlpgen_avg all ave/time 1 {md["steps"]} {md["steps"]} v_volume',
            f'run {md["steps"]}',
        ]
    else:
        lines.append('run 0')
    volume = 'f_mlpgen_avg' if task.relax == 'md' else 'vol'
    lines.append(
        f'print "MLPGEN {index} $(pe:%.15g) $(pxx:%.15g) $(pyy:%.15g) $(pzz:%.15g) $(pxy:%.15g) '
        f'$(pxz:%.15g) $(pyz:%.15g) $({volume}:%.15g) ${{converged}}"'
    )
    if task.forces:
        lines.append(f'write_dump all custom {dump_name(index)} id fx fy fz modify sort id format float %.15g')
    return lines


def write_input(tasks: list[Task], directory, elements: list[str], potential_mod: str = 'potential.mod') -> Path:
    """Data files and ``in.lammps`` for ``tasks`` in ``directory``; the potential is loaded by
    ``include potential_mod`` (a path LAMMPS resolves from ``directory``)."""
    directory = Path(directory)
    script = []
    for index, task in enumerate(tasks):
        unknown = set(task.atoms.get_chemical_symbols()) - set(elements)
        if unknown:
            raise ValueError(f'task {task.name}: element(s) {sorted(unknown)} not in the potential ({elements})')
        write_lammps_data(
            directory / data_name(index),
            task.atoms,
            specorder=list(elements),
            prismobj=Prism(task.atoms.get_cell(), pbc=True),
            units='metal',
        )
        script += _block(index, task, potential_mod)
    target = directory / INPUT_NAME
    target.write_text('\n'.join(script) + '\n')
    return target


def read_results(tasks: list[Task], log_text: str, dump_text) -> dict[str, TaskResult]:
    """Results of ``tasks`` from the log and ``dump_text(name) -> str`` for the force dumps.

    Raises ValueError naming the first task without a result line."""
    found = {int(m.group(1)): [float(x) for x in m.group(2).split()] for m in _RESULT.finditer(log_text)}
    results = {}
    for index, task in enumerate(tasks):
        if index not in found:
            raise ValueError(f'LAMMPS printed no result for task {index} ({task.name})')
        pe, pxx, pyy, pzz, pxy, pxz, pyz, volume, converged = found[index]
        prism = Prism(task.atoms.get_cell(), pbc=True)
        pressure = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
        forces = None
        if task.forces:
            rows = np.loadtxt(dump_text(dump_name(index)).splitlines(), skiprows=9, ndmin=2)
            forces = prism.vector_to_ase(rows[:, 1:4])
        results[task.name] = TaskResult(pe, prism.tensor2_to_ase(-pressure * bar), forces, volume, bool(converged))
    return results
