"""Labellers: the DFT (or other reference) codes that give training structures their
energies, forces and stresses, pluggable through the ``mlpgen.labellers`` entry points.

A labeller knows, for one consistent setup, how to check its settings against the
structures, which process to run per structure (and per ab initio MD run), and how to
turn that process's output nodes into frames in eV, Å, eV/Å and eV/Å³ (tension positive).
See :mod:`.base` for the interface and ``docs/labellers.md`` for adding one.
"""

from .base import Labeller, LabellingError, LabelResult, known_labellers, load_labeller

__all__ = ('Labeller', 'LabelResult', 'LabellingError', 'load_labeller', 'known_labellers')
