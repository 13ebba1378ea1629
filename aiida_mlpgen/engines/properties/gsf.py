"""Generalized stacking-fault energy γ(s) on a plane, along a direction (tilted-cell method).

The crystal is re-cut into a cell whose a and b vectors span the plane ``(hkl)`` (a along
the lattice direction ``[uvw]``) and stacked until it is ``min_height`` Å high. Tilting c
by s·a puts one fault of shift s·|[uvw]| at the periodic boundary; atoms relax along the
plane normal only. γ(s) = (E(s) − E(0)) / A in J/m². Reported: the first interior
minimum of γ(s) (a stable fault, ``isf_energy_…``) and the highest γ before it (the
unstable fault, ``usf_energy_…``), or the highest γ when the curve has no such minimum.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from ase.build import make_supercell

from .surfaces import EV_PER_A2_TO_J_PER_M2, miller_label
from .tasks import Task

DEFAULTS = {'plane': [1, 1, 0], 'direction': [1, -1, 1], 'n_points': 11, 'max_shift': 1.0, 'min_height': 20.0}


def _integer_vectors(span: int = 3):
    return [np.array(v) for v in itertools.product(range(-span, span + 1), repeat=3) if any(v)]


def oriented_cell(atoms, plane, direction, min_height):
    """``atoms`` re-cut: a = [uvw], b = the in-plane lattice vector giving the smallest area,
    c = the lattice vector out of the plane with the smallest step, stacked to ``min_height``."""
    h, u = np.array(plane, int), np.array(direction, int)
    if not h.any() or not u.any():
        raise ValueError('plane and direction must be non-zero integer triples')
    if int(h @ u) != 0:
        raise ValueError(f'direction {list(u)} does not lie in the plane {list(h)}')
    lattice = atoms.cell[:]
    length = lambda v: np.linalg.norm(v @ lattice)  # noqa: E731
    in_plane = [v for v in _integer_vectors() if int(h @ v) == 0 and np.cross(u, v).any()]
    v = min(in_plane, key=lambda v: (round(np.linalg.norm(np.cross(u @ lattice, v @ lattice)), 6), length(v)))
    out = [w for w in _integer_vectors() if int(h @ w) != 0]
    step = min(abs(int(h @ w)) for w in out)
    w = min((w for w in out if abs(int(h @ w)) == step), key=length)
    matrix = np.array([u, v, w])
    if np.linalg.det(matrix) < 0:
        matrix[2] *= -1
    cell = make_supercell(atoms, matrix)
    normal = np.cross(cell.cell[0], cell.cell[1])
    height = abs(cell.cell[2] @ normal) / np.linalg.norm(normal)
    return cell.repeat((1, 1, max(1, math.ceil(min_height / height))))


def shifts(n_points, max_shift):
    if n_points < 3 or not 0 < max_shift <= 1:
        raise ValueError('gsf needs n_points >= 3 and 0 < max_shift <= 1')
    return np.linspace(0.0, max_shift, n_points)


def tasks(atoms, plane, direction, n_points, max_shift, min_height):
    cell = oriented_cell(atoms, plane, direction, min_height)
    out = []
    for index, s in enumerate(shifts(n_points, max_shift)):
        image = cell.copy()
        tilted = image.cell[:].copy()
        tilted[2] += s * tilted[0]
        image.set_cell(tilted, scale_atoms=False)
        out.append(Task(f'gsf_{index:02d}', image, 'normal' if index else 'none'))
    return out


def analyse(atoms, results, plane, direction, n_points, max_shift, min_height):
    task_list = tasks(atoms, plane, direction, n_points, max_shift, min_height)
    area = task_list[0].atoms.cell.area(2)
    energies = np.array([results[t.name].energy for t in task_list])
    gamma = (energies - energies[0]) / area * EV_PER_A2_TO_J_PER_M2
    label = f'{miller_label(plane)}_{miller_label(direction)}'
    interior_minima = [i for i in range(1, len(gamma) - 1) if gamma[i] < gamma[i - 1] and gamma[i] <= gamma[i + 1]]
    first_minimum = interior_minima[0] if interior_minima else len(gamma) - 1
    # the unstable fault: the barrier on the way to the first stable fault (or the top of the curve)
    values = {f'usf_energy_{label}': float(gamma[: first_minimum + 1].max())}
    if interior_minima:
        values[f'isf_energy_{label}'] = float(gamma[first_minimum])
    curves = {'shift': shifts(n_points, max_shift).tolist(), 'gamma': gamma.tolist(), 'label': label}
    return values, curves
