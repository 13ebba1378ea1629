"""Labelled cells for the benchmarks that need data of their own (ASE's EMT plays DFT), and the
errors of a stored potential on them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def held_out_errors(potential_pk: int, images: Path, env) -> dict:
    """Energy (meV/atom) and force (eV/Å) RMSE and MAE of a stored potential on ``images``."""
    code = (
        'import sys, json, numpy as np, ase.io\n'
        'from aiida import load_profile, orm\n'
        'load_profile()\n'
        f'calc = orm.load_node({potential_pk}).get_ase_calculator()\n'
        'de, df = [], []\n'
        'for atoms in ase.io.read(sys.argv[1], index=":"):\n'
        '    e, f = atoms.get_potential_energy(), atoms.get_forces()\n'
        '    atoms.calc = calc\n'
        '    de.append((atoms.get_potential_energy() - e) / len(atoms)); df.append((atoms.get_forces() - f).ravel())\n'
        'de, df = 1000 * np.array(de), np.concatenate(df)\n'
        'print(json.dumps({"e_rmse": float(np.sqrt(np.mean(de**2))), "e_mae": float(np.mean(np.abs(de))),\n'
        '                  "f_rmse": float(np.sqrt(np.mean(df**2))), "f_mae": float(np.mean(np.abs(df)))}))\n'
    )
    out = subprocess.run([sys.executable, '-c', code, str(images)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
