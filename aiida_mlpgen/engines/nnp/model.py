"""A loaded n2p2 potential: energies, analytic forces and stress of structures.

Units are the potential's own (those of its input.nn); :mod:`.calculator` converts.
E = Σ_atoms NN_element(scaled G) (/conv_energy + mean_energy per atom when the potential was
normalised by nnp-norm) + Σ_atoms atom_energy(element).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from ase.data import atomic_numbers

from . import descriptors
from .network import Network
from .scaling import Scaler, Statistics
from .settings import NnpInputError, Settings


@dataclasses.dataclass
class Result:
    energy: float
    forces: np.ndarray | None
    stress: np.ndarray | None  # (3, 3) dE/dε / V, ASE's sign convention
    atomic_energies: np.ndarray


class Potential:
    def __init__(self, settings: Settings, stats: Statistics, weights: dict[str, np.ndarray]):
        self.settings, self.stats = settings, stats
        self.setup = descriptors.Setup.from_settings(settings)
        mode, smin, smax = settings.scaling
        self.scaler = Scaler.create(stats, mode, smin, smax)
        self.networks = {e: network_of(settings, len(fs)) for e, fs in self.setup.functions.items()}
        self.weights = weights
        self.offsets = settings.atom_energies
        norm = settings.normalization
        self.mean_energy, self.conv_energy = (norm[0], norm[1]) if norm else (0.0, 1.0)

    @classmethod
    def load(cls, folder, epoch: int | None = None) -> Potential:
        """input.nn + scaling.data + weights.ZZZ.data (or weights.ZZZ.EPOCH.out) from a folder."""
        folder = Path(folder)
        settings = Settings.read(folder / 'input.nn')
        stats = Statistics.read(folder / 'scaling.data', settings)
        weights = {}
        for element in settings.elements:
            z = atomic_numbers[element]
            name = f'weights.{z:03d}.data' if epoch is None else f'weights.{z:03d}.{epoch:06d}.out'
            net = network_of(settings, len(settings.functions_of(element)))
            weights[element] = net.read(folder / name)
        return cls(settings, stats, weights)

    @property
    def elements(self) -> list[str]:
        return self.setup.elements

    @property
    def cutoff(self) -> float:
        return self.setup.max_cutoff

    # ---- per-atom network outputs ------------------------------------------------------------
    def atomic(self, element: str, values: np.ndarray, gradient: bool = True):
        """Network outputs (n,) and dE/dG_raw (n, S) for raw symmetry-function values."""
        x = torch.from_numpy(self.scaler(element, values)).requires_grad_(gradient)
        w = torch.from_numpy(self.weights[element])
        out = self.networks[element].forward(w, x)
        if not gradient:
            return out.detach().numpy(), None
        (grad,) = torch.autograd.grad(out.sum(), x)
        return out.detach().numpy(), grad.numpy() * self.scaler.factor[element]

    def evaluate(self, numbers, positions, cell, pbc, forces: bool = True, stress: bool = False) -> Result:
        numbers = np.asarray(numbers)
        positions = np.asarray(positions, float)
        blocks = descriptors.compute(
            self.setup, numbers, positions, cell, pbc, derivatives='contract' if forces or stress else False
        )
        atomic = np.zeros(len(numbers))
        f = np.zeros((len(numbers), 3)) if forces else None
        virial = np.zeros((3, 3))
        for element, block in blocks.items():
            if len(block.atoms) == 0:
                continue
            out, dedg = self.atomic(element, block.values, gradient=forces or stress)
            atomic[block.atoms] = out / self.conv_energy + self.mean_energy + self.offsets[element]
            if dedg is None:
                continue
            g = block.contract(dedg) / self.conv_energy  # dE/dD_p of every neighbour entry
            if forces:
                for k in range(3):
                    f[:, k] -= np.bincount(block.neighbour, g[:, k], minlength=len(numbers))
                    f[:, k] += np.bincount(block.atoms[block.centre], g[:, k], minlength=len(numbers))
            virial += g.T @ block.vectors
        s = None
        if stress:
            volume = abs(np.linalg.det(np.asarray(cell, float)))
            if volume <= 0:
                raise NnpInputError('stress needs a periodic cell with non-zero volume')
            s = 0.5 * (virial + virial.T) / volume
        return Result(float(atomic.sum()), f, s, atomic)


def network_of(settings: Settings, n_inputs: int) -> Network:
    layout, activations, normalize = settings.layout(n_inputs)
    return Network(layout, activations, normalize)
