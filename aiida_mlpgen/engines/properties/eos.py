"""Equation of state: E(V) on isotropic strains, third-order Birch–Murnaghan fit."""

from __future__ import annotations

import dataclasses

import numpy as np
from ase.units import GPa
from scipy.optimize import curve_fit


def birch_murnaghan(volume, e0, v0, b0, b1):
    eta = (v0 / volume) ** (2.0 / 3.0)
    return e0 + 9.0 * v0 * b0 / 16.0 * ((eta - 1.0) ** 3 * b1 + (eta - 1.0) ** 2 * (6.0 - 4.0 * eta))


@dataclasses.dataclass
class EosResult:
    volumes: np.ndarray  # Å³ per cell
    energies: np.ndarray  # eV per cell
    e0: float
    v0: float
    bulk_modulus: float  # GPa
    bulk_modulus_derivative: float
    scale: float  # lattice scaling factor at v0, relative to the input cell

    def lattice_parameter(self, a_input: float) -> float:
        return a_input * self.scale


def strained_volumes(n_points: int = 11, max_strain: float = 0.04) -> np.ndarray:
    """Linear strains ε (cell × (1 + ε)), symmetric around 0."""
    return np.linspace(-max_strain, max_strain, n_points)


def equation_of_state(atoms, calculator, n_points: int = 11, max_strain: float = 0.04) -> EosResult:
    """Energies of isotropically scaled copies of ``atoms`` (positions scaled with the cell)."""
    strains = strained_volumes(n_points, max_strain)
    volumes, energies = [], []
    for eps in strains:
        image = atoms.copy()
        image.set_cell(atoms.cell[:] * (1.0 + eps), scale_atoms=True)
        image.calc = calculator
        volumes.append(image.get_volume())
        energies.append(image.get_potential_energy())
    return fit_birch_murnaghan(np.array(volumes), np.array(energies), atoms.get_volume())


def fit_birch_murnaghan(volumes, energies, reference_volume: float) -> EosResult:
    volumes, energies = np.asarray(volumes, float), np.asarray(energies, float)
    quadratic = np.polyfit(volumes, energies, 2)
    v_guess = -quadratic[1] / (2 * quadratic[0])
    b_guess = 2 * quadratic[0] * v_guess
    start = (energies.min(), v_guess, b_guess, 4.0)
    (e0, v0, b0, b1), _ = curve_fit(birch_murnaghan, volumes, energies, p0=start, maxfev=20000)
    if not volumes.min() <= v0 <= volumes.max():
        raise ValueError(f'the E(V) minimum {v0:.3f} Å³ lies outside the sampled volumes: widen max_strain')
    return EosResult(volumes, energies, float(e0), float(v0), float(b0 / GPa), float(b1),
                     float((v0 / reference_volume) ** (1.0 / 3.0)))
