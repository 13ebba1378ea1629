"""Evaluate structures with a potential in the ``lmp`` executable (one LAMMPS run for all).

Used to check that a stored potential, loaded by the lines of ``write_lammps``, gives in
LAMMPS what the fit predicted, and to measure published potentials on training data.
Cells are rotated into LAMMPS's lower-triangular frame and forces and stresses rotated
back, so results are in the frame of the input structures.
"""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from aiida_mlpgen.engines.properties.lammps_run import installed_packages, run_lmp

__all__ = ('check_packages', 'evaluate_with_lmp', 'installed_packages', 'run_lmp')


def check_packages(potential, lmp: str) -> None:
    """Raise PotentialError, naming them, when ``lmp`` lacks a package ``potential`` needs."""
    from .base import PotentialError

    if not potential.RUNS_IN_LAMMPS:
        raise PotentialError(
            f'{type(potential).__name__} runs only as an ASE calculator, not in LAMMPS: use the ASE engine'
        )
    needed = potential.base.attributes.get(potential.KEY_LAMMPS_PACKAGES) or []
    missing = [package for package in needed if package not in installed_packages(lmp)]
    if missing:
        raise PotentialError(
            f'{type(potential).__name__} needs the LAMMPS package(s) {", ".join(missing)}, which {lmp} was not '
            f'built with. Evaluate it with get_ase_calculator(), or use a LAMMPS that has {", ".join(missing)} '
            '(on a cluster, for example).'
        )


def evaluate_with_lmp(
    potential, structures: list[Atoms], directory, lmp: str = 'lmp', timeout: int = 1800
) -> dict[str, list]:
    """Energies (eV), forces (eV/Å) and stresses (3x3, eV/Å³, tension positive) of ``structures``.

    ``potential`` is a :class:`~aiida_mlpgen.data.potentials.PotentialData`; its files and
    ``potential.mod`` are written to ``directory``, which also keeps the LAMMPS input and log.
    """
    from aiida_mlpgen.engines.properties.lammps_input import read_results, write_input
    from aiida_mlpgen.engines.properties.tasks import Task

    check_packages(potential, lmp)
    directory = Path(directory)
    mod = potential.write_lammps(directory / 'potential')
    tasks = [Task(f'structure_{i}', atoms, forces=True) for i, atoms in enumerate(structures)]
    write_input(tasks, directory, list(potential.elements), str(mod.resolve()))
    log = run_lmp(directory, lmp, timeout)
    results = read_results(tasks, log, lambda name: (directory / name).read_text())
    ordered = [results[task.name] for task in tasks]
    return {
        'energy': [r.energy for r in ordered],
        'forces': [r.forces for r in ordered],
        'stress': [r.stress for r in ordered],
    }
