"""Δ-learning as calcfunctions: overlay a Δ-potential on the fit (and the deprecated in-daemon
subtraction; see :mod:`aiida_mlpgen.calculations.delta`)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from aiida.engine import calcfunction

from aiida_mlpgen.data.potentials import OverlayPotentialData, PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData

from .training_set import derived_training_set

__all__ = ('overlay_potential', 'subtract_delta')


@calcfunction
def subtract_delta(training_set: TrainingSetData, delta_potential: PotentialData) -> TrainingSetData:
    """The training set with the Δ-potential's energies, forces and stresses subtracted
    (evaluated with its ASE calculator); splits, groups and weights are kept.

    Deprecated: it evaluates the potential inside the AiiDA daemon; the generator runs a
    :class:`~aiida_mlpgen.calculations.delta.DeltaSubtractionCalculation` (a job) instead."""
    warnings.warn(
        'subtract_delta evaluates the potential in the daemon; use DeltaSubtractionCalculation',
        DeprecationWarning,
        stacklevel=2,
    )
    calculator = delta_potential.get_ase_calculator()
    frames = []
    for frame, atoms in zip(training_set.get_frame_list(), training_set.to_ase(), strict=True):
        atoms.calc = calculator
        energy = frame.energy - atoms.get_potential_energy()
        forces = None if frame.forces is None else frame.forces - atoms.get_forces()
        stress = None
        if frame.stress is not None:
            stress = frame.stress - atoms.get_stress(voigt=False)
        if not np.isfinite(energy) or (forces is not None and not np.isfinite(forces).all()):
            raise ValueError(f'{frame.label}: the Δ-potential gives non-finite values')
        frames.append(dataclasses.replace(frame, energy=float(energy), forces=forces, stress=stress))
    return derived_training_set(training_set, frames)


@calcfunction
def overlay_potential(fitted: PotentialData, delta_potential: PotentialData) -> OverlayPotentialData:
    """The fitted potential on top of the Δ-potential: what reproduces the DFT data."""
    return OverlayPotentialData(fitted, delta_potential)
