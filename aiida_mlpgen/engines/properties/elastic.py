"""Elastic constants by finite strain–stress: ±δ along each Voigt strain, central differences."""

from __future__ import annotations

import numpy as np
from ase.units import GPa

VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def strain_matrix(index: int, amount: float) -> np.ndarray:
    """Symmetric strain with engineering component ``amount`` in Voigt slot ``index``."""
    i, j = VOIGT[index]
    eps = np.zeros((3, 3))
    if i == j:
        eps[i, i] = amount
    else:
        eps[i, j] = eps[j, i] = amount / 2.0
    return eps


def elastic_constants(atoms, calculator, delta: float = 0.005, relax=None) -> np.ndarray:
    """The 6×6 Cij (GPa) of ``atoms`` (an equilibrium cell). ``relax(atoms)`` relaxes internal
    coordinates of each strained cell (clamped-ion constants when None)."""
    c = np.zeros((6, 6))
    for index in range(6):
        stresses = []
        for sign in (1.0, -1.0):
            image = atoms.copy()
            deformation = np.eye(3) + strain_matrix(index, sign * delta)
            image.set_cell(atoms.cell[:] @ deformation.T, scale_atoms=True)
            image.calc = calculator
            if relax is not None:
                relax(image)
            stresses.append(image.get_stress(voigt=True))  # ASE: xx yy zz yz xz xy, positive = tensile
        c[:, index] = (stresses[0] - stresses[1]) / (2.0 * delta)
    return 0.5 * (c + c.T) / GPa


def cubic_constants(c: np.ndarray) -> dict:
    """C11, C12, C44 averaged over the cubic-equivalent entries, and the bulk modulus."""
    c11 = float(np.mean([c[0, 0], c[1, 1], c[2, 2]]))
    c12 = float(np.mean([c[0, 1], c[0, 2], c[1, 2]]))
    c44 = float(np.mean([c[3, 3], c[4, 4], c[5, 5]]))
    return {'C11': c11, 'C12': c12, 'C44': c44, 'bulk_modulus': (c11 + 2 * c12) / 3.0}
