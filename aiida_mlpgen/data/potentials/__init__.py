"""Potential nodes: the files LAMMPS reads, the lines that load them, an ASE calculator."""

from .ace import AcePotentialData
from .ase_calculator import AseCalculatorPotentialData
from .base import PotentialData, PotentialError
from .classical import ClassicalPotentialData
from .combined import OverlayPotentialData
from .committee import CommitteePotentialData
from .nnp import NnpPotentialData
from .snap import SnapPotentialData

__all__ = (
    'AcePotentialData',
    'AseCalculatorPotentialData',
    'ClassicalPotentialData',
    'CommitteePotentialData',
    'NnpPotentialData',
    'OverlayPotentialData',
    'PotentialData',
    'PotentialError',
    'SnapPotentialData',
)
