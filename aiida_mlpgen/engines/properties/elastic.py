"""Elastic constants by finite strain–stress: ±δ along each Voigt strain, central differences."""

from __future__ import annotations

import numpy as np
from ase.units import GPa

from .tasks import Task

DEFAULTS = {'delta': 0.005, 'relax': True}
VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]  # ASE's order: xx yy zz yz xz xy


def strain_matrix(index: int, amount: float) -> np.ndarray:
    """Symmetric strain with engineering component ``amount`` in Voigt slot ``index``."""
    i, j = VOIGT[index]
    eps = np.zeros((3, 3))
    if i == j:
        eps[i, i] = amount
    else:
        eps[i, j] = eps[j, i] = amount / 2.0
    return eps


def _name(index, sign):
    return f'strain_{index + 1}{"p" if sign > 0 else "m"}'


def tasks(atoms, delta, relax) -> list[Task]:
    """Twelve strained cells of ``atoms`` (an equilibrium cell); internal coordinates relaxed
    when ``relax`` (relaxed-ion constants), else clamped-ion."""
    if not 0 < delta < 0.05:
        raise ValueError('elastic delta must lie in (0, 0.05)')
    out = []
    for index in range(6):
        for sign in (1.0, -1.0):
            image = atoms.copy()
            image.set_cell(atoms.cell[:] @ (np.eye(3) + strain_matrix(index, sign * delta)).T, scale_atoms=True)
            out.append(Task(_name(index, sign), image, 'positions' if relax else 'none'))
    return out


def voigt(stress: np.ndarray) -> np.ndarray:
    return np.array([stress[i, j] for i, j in VOIGT])


def cij_from_results(results, delta) -> np.ndarray:
    c = np.zeros((6, 6))
    for index in range(6):
        plus, minus = (voigt(results[_name(index, s)].stress) for s in (1.0, -1.0))
        c[:, index] = (plus - minus) / (2.0 * delta)
    return 0.5 * (c + c.T) / GPa


def is_cubic(c: np.ndarray, tolerance: float = 0.01) -> bool:
    scale = np.abs(c).max()
    groups = [[c[0, 0], c[1, 1], c[2, 2]], [c[0, 1], c[0, 2], c[1, 2]], [c[3, 3], c[4, 4], c[5, 5]]]
    off = [c[i, j] for i in range(6) for j in range(6) if i != j and not (i < 3 and j < 3)]
    return all(np.ptp(g) <= tolerance * scale for g in groups) and np.abs(off).max() <= tolerance * scale


def cubic_constants(c: np.ndarray) -> dict:
    """C11, C12, C44 averaged over the cubic-equivalent entries, and the bulk modulus."""
    c11 = float(np.mean([c[0, 0], c[1, 1], c[2, 2]]))
    c12 = float(np.mean([c[0, 1], c[0, 2], c[1, 2]]))
    c44 = float(np.mean([c[3, 3], c[4, 4], c[5, 5]]))
    return {'C11': c11, 'C12': c12, 'C44': c44, 'bulk_modulus_elastic': (c11 + 2 * c12) / 3.0}


def analyse(atoms, results, delta, relax):
    c = cij_from_results(results, delta)
    if is_cubic(c):
        values = cubic_constants(c)
    else:
        values = {f'C{i + 1}{j + 1}': float(c[i, j]) for i in range(6) for j in range(i, 6)}
        values['bulk_modulus_elastic'] = float((c[0, 0] + c[1, 1] + c[2, 2] + 2 * (c[0, 1] + c[0, 2] + c[1, 2])) / 9)
    return values, {'cij': c.tolist()}


def elastic_constants(atoms, calculator, delta: float = 0.005, relax: bool = False) -> np.ndarray:
    """The 6×6 Cij (GPa) of ``atoms`` with an ASE calculator (for scripts and tests)."""
    from .tasks import run_tasks

    return cij_from_results(run_tasks(tasks(atoms, delta, relax), calculator), delta)
