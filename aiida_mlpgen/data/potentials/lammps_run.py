"""Evaluate structures with a potential in the ``lmp`` executable (one LAMMPS run for all).

Used to check that a stored potential, loaded by the lines of ``write_lammps``, gives in
LAMMPS what the fit predicted, and to measure published potentials on training data.
Cells are rotated into LAMMPS's lower-triangular frame and forces and stresses rotated
back, so results are in the frame of the input structures.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.lammps import Prism
from ase.io.lammpsdata import write_lammps_data
from ase.units import bar

_RESULT = re.compile(r'^MLPGEN (\d+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$', re.MULTILINE)


@functools.cache
def installed_packages(lmp: str) -> frozenset[str]:
    """The packages a LAMMPS executable was built with (from ``lmp -h``)."""
    done = subprocess.run([lmp, '-h'], capture_output=True, text=True, timeout=120)
    text = done.stdout.split('Installed packages:', 1)
    if len(text) < 2:
        raise RuntimeError(f'{lmp} -h did not list installed packages')
    block = text[1].lstrip('\n').split('\n\n', 1)[0]
    return frozenset(block.split())


def check_packages(potential, lmp: str) -> None:
    """Raise PotentialError, naming them, when ``lmp`` lacks a package ``potential`` needs."""
    from .base import PotentialError

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
    check_packages(potential, lmp)
    directory = Path(directory)
    mod = potential.write_lammps(directory / 'potential')
    script = []
    prisms = []
    for index, atoms in enumerate(structures):
        prism = Prism(atoms.get_cell(), pbc=atoms.pbc)
        prisms.append(prism)
        data = directory / f'structure_{index}.data'
        write_lammps_data(data, atoms, specorder=list(potential.elements), prismobj=prism, units='metal')
        script += [
            'clear',
            'units metal',
            'atom_style atomic',
            'boundary p p p',
            'atom_modify map array sort 0 0',
            f'read_data {data.name}',
            f'include {mod.resolve()}',
            'thermo_style custom step pe pxx pyy pzz pxy pxz pyz',
            'thermo_modify format float %.15g',
            'run 0',
            f'print "MLPGEN {index} $(pe:%.15g) $(pxx:%.15g) $(pyy:%.15g) $(pzz:%.15g) '
            f'$(pxy:%.15g) $(pxz:%.15g) $(pyz:%.15g)"',
            f'write_dump all custom forces_{index}.dump id fx fy fz modify sort id format float %.15g',
        ]
    (directory / 'in.evaluate').write_text('\n'.join(script) + '\n')
    done = subprocess.run(
        [lmp, '-in', 'in.evaluate', '-log', 'log.lammps', '-screen', 'none'],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = (directory / 'log.lammps').read_text() if (directory / 'log.lammps').exists() else ''
    if done.returncode != 0:
        tail = '\n'.join((log or done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f'LAMMPS failed (exit {done.returncode}):\n{tail}')
    energies, forces, stresses = [], [], []
    found = {int(m.group(1)): [float(x) for x in m.groups()[1:]] for m in _RESULT.finditer(log)}
    for index, prism in enumerate(prisms):
        pe, pxx, pyy, pzz, pxy, pxz, pyz = found[index]
        energies.append(pe)
        rows = np.loadtxt(directory / f'forces_{index}.dump', skiprows=9, ndmin=2)
        forces.append(prism.vector_to_ase(rows[:, 1:4]))
        pressure = np.array([[pxx, pxy, pxz], [pxy, pyy, pyz], [pxz, pyz, pzz]])
        stresses.append(prism.tensor2_to_ase(-pressure * bar))
    return {'energy': energies, 'forces': forces, 'stress': stresses}
