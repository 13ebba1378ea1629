"""Equation of state: E(V) on isotropic strains, third-order Birch–Murnaghan fit."""

from __future__ import annotations

import dataclasses

import numpy as np
from ase.units import GPa
from scipy.optimize import curve_fit

from .tasks import Task

DEFAULTS = {'n_points': 11, 'max_strain': 0.02}


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


def strains(n_points: int, max_strain: float) -> np.ndarray:
    """Linear strains ε (cell × (1 + ε)), symmetric around 0."""
    if n_points < 5 or not 0 < max_strain < 0.3:
        raise ValueError('eos needs n_points >= 5 and 0 < max_strain < 0.3')
    return np.linspace(-max_strain, max_strain, n_points)


def tasks(atoms, n_points, max_strain) -> list[Task]:
    """Isotropically scaled copies of ``atoms`` (positions scaled with the cell)."""
    out = []
    for index, eps in enumerate(strains(n_points, max_strain)):
        image = atoms.copy()
        image.set_cell(atoms.cell[:] * (1.0 + eps), scale_atoms=True)
        out.append(Task(f'eos_{index:02d}', image))
    return out


def fit_birch_murnaghan(volumes, energies, reference_volume: float) -> EosResult:
    volumes, energies = np.asarray(volumes, float), np.asarray(energies, float)
    quadratic = np.polyfit(volumes, energies, 2)
    if quadratic[0] <= 0:
        raise ValueError('E(V) is not convex over the sampled volumes: no equilibrium volume')
    v_guess = -quadratic[1] / (2 * quadratic[0])
    b_guess = 2 * quadratic[0] * v_guess
    start = (energies.min(), v_guess, b_guess, 4.0)
    (e0, v0, b0, b1), _ = curve_fit(birch_murnaghan, volumes, energies, p0=start, maxfev=20000)
    if not volumes.min() <= v0 <= volumes.max():
        raise ValueError(f'the E(V) minimum {v0:.3f} Å³ lies outside the sampled volumes: widen max_strain')
    return EosResult(
        volumes,
        energies,
        float(e0),
        float(v0),
        float(b0 / GPa),
        float(b1),
        float((v0 / reference_volume) ** (1.0 / 3.0)),
    )


def analyse(atoms, results, n_points, max_strain):
    names = [task.name for task in tasks(atoms, n_points, max_strain)]
    volumes = [results[name].volume for name in names]
    energies = [results[name].energy for name in names]
    fit = fit_birch_murnaghan(volumes, energies, atoms.get_volume())
    n = len(atoms)
    lengths = atoms.cell.lengths()
    values = {
        'lattice_parameter': fit.scale * lengths[0],
        'volume_per_atom': fit.v0 / n,
        'energy_per_atom': fit.e0 / n,
        'bulk_modulus': fit.bulk_modulus,
        'bulk_modulus_derivative': fit.bulk_modulus_derivative,
        'eos_scale': fit.scale,
    }
    if abs(lengths[2] - lengths[0]) > 1e-6 * lengths[0]:
        values['lattice_parameter_c'] = fit.scale * lengths[2]
    curves = {'volumes_per_atom': (fit.volumes / n).tolist(), 'energies_per_atom': (fit.energies / n).tolist()}
    return values, curves


def equation_of_state(atoms, calculator, n_points: int = 11, max_strain: float = 0.04) -> EosResult:
    """E(V) of ``atoms`` with an ASE calculator, fitted (for scripts and tests)."""
    from .tasks import run_tasks

    results = run_tasks(tasks(atoms, n_points, max_strain), calculator)
    names = sorted(results)
    return fit_birch_murnaghan(
        [results[k].volume for k in names], [results[k].energy for k in names], atoms.get_volume()
    )
