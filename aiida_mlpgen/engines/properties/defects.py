"""Point defects in a supercell: relaxed vacancy and self-interstitial formation energies.

E_f(vacancy) = E(N−1) − (N−1)/N·E(N) and E_f(interstitial) = E(N+1) − (N+1)/N·E(N), with
the perfect supercell's energy per atom as the chemical potential (elemental crystals).
"""

from __future__ import annotations

import numpy as np

from .tasks import Task

VACANCY_DEFAULTS = {'supercell': [3, 3, 3], 'site': 0}
INTERSTITIAL_DEFAULTS = {'supercell': [3, 3, 3], 'position': None, 'element': None}


def _supercell(atoms, supercell):
    if len(supercell) != 3 or min(supercell) < 1:
        raise ValueError(f'supercell must be three positive integers, not {supercell}')
    return atoms.repeat([int(n) for n in supercell])


def largest_void(atoms, grid: int = 24) -> np.ndarray:
    """Fractional position (in ``atoms``' cell) farthest from every atom, on a grid."""
    axis = (np.arange(grid) + 0.5) / grid
    points = np.stack(np.meshgrid(axis, axis, axis, indexing='ij'), -1).reshape(-1, 3)
    frac = atoms.get_scaled_positions()
    delta = points[:, None, :] - frac[None, :, :]
    delta -= np.round(delta)
    distance = np.linalg.norm(delta @ atoms.cell[:], axis=-1).min(axis=1)
    return points[int(np.argmax(distance))]


def vacancy_tasks(atoms, supercell, site):
    perfect = _supercell(atoms, supercell)
    if not 0 <= site < len(atoms):
        raise ValueError(f'vacancy site {site} is not an atom of the {len(atoms)}-atom cell')
    defect = perfect.copy()
    del defect[site]
    return [Task('perfect', perfect), Task('vacancy', defect, 'positions')]


def vacancy_analyse(atoms, results, supercell, site):
    n = len(atoms) * int(np.prod(supercell))
    energy = results['vacancy'].energy - (n - 1) / n * results['perfect'].energy
    return {'vacancy_formation_energy': float(energy)}, {}


def interstitial_tasks(atoms, supercell, position, element):
    perfect = _supercell(atoms, supercell)
    fraction = largest_void(atoms) if position is None else np.asarray(position, float)
    cartesian = fraction @ atoms.cell[:]
    defect = perfect.copy()
    defect.append(element or atoms.get_chemical_symbols()[0])
    defect.positions[-1] = cartesian
    distances = np.linalg.norm(perfect.positions - cartesian, axis=1)
    if distances.min() < 0.5:
        raise ValueError(f'the interstitial at {list(fraction)} is {distances.min():.2f} Å from an atom')
    return [Task('perfect', perfect), Task('interstitial', defect, 'positions')]


def interstitial_analyse(atoms, results, supercell, position, element):
    n = len(atoms) * int(np.prod(supercell))
    energy = results['interstitial'].energy - (n + 1) / n * results['perfect'].energy
    return {'interstitial_formation_energy': float(energy)}, {}
