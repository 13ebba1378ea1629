"""Training data held as precomputed, scaled symmetry functions and their derivatives.

Rows (atoms) and neighbour entries of all structures are concatenated per element so that
one network pass evaluates every structure; each structure keeps the slices of its rows
and entries for single-structure updates.
"""

from __future__ import annotations

import numpy as np
import torch
from ase.data import atomic_numbers

from . import descriptors


class Dataset:
    def __init__(self, frames, setup: descriptors.Setup, scaler, units):
        """``units``: object with offsets (dict), mean_energy, conv_energy, conv_length."""
        self.frames = frames
        self.elements = setup.elements
        n_atoms = np.array([len(f.numbers) for f in frames])
        self.n_atoms = n_atoms
        self.atom_start = np.r_[0, np.cumsum(n_atoms)[:-1]]
        total = int(n_atoms.sum())
        numbers = np.concatenate([f.numbers for f in frames])
        self.numbers = numbers
        offsets = np.array([units.offsets[e] for e in self.elements])
        z_index = {atomic_numbers[e]: k for k, e in enumerate(self.elements)}
        per_atom_offset = offsets[[z_index[z] for z in numbers]]
        structure_offset = np.bincount(np.repeat(np.arange(len(frames)), n_atoms), per_atom_offset, len(frames))
        energies = np.array([f.energy for f in frames], float)
        #: reference energies and forces in training units (what the networks output)
        self.energy = (energies - structure_offset - n_atoms * units.mean_energy) * units.conv_energy
        self.forces = np.concatenate([f.forces for f in frames]) * units.conv_energy
        self.X, self.D, self.centre, self.neighbour, self.atom_of_row = {}, {}, {}, {}, {}
        self.rows, self.entries = {}, {}
        parts = {e: {'X': [], 'D': [], 'c': [], 'n': [], 'a': []} for e in self.elements}
        counts = {e: [0, 0] for e in self.elements}
        ranges = {e: ([], []) for e in self.elements}
        for s, frame in enumerate(frames):
            blocks = descriptors.compute(setup, frame.numbers, frame.positions, frame.cell, frame.pbc)
            for e, block in blocks.items():
                row0, entry0 = counts[e]
                p = parts[e]
                p['X'].append(scaler(e, block.values))
                p['D'].append(block.derivatives * scaler.factor[e][None, :, None])
                p['c'].append(block.centre + row0)
                p['n'].append(block.neighbour + self.atom_start[s])
                p['a'].append(block.atoms + self.atom_start[s])
                counts[e] = [row0 + len(block.atoms), entry0 + len(block.centre)]
                ranges[e][0].append((row0, counts[e][0]))
                ranges[e][1].append((entry0, counts[e][1]))
        for e in self.elements:
            p = parts[e]
            width = len(setup.functions[e])
            self.X[e] = np.concatenate(p['X']) if p['X'] else np.zeros((0, width))
            self.D[e] = np.concatenate(p['D']) if p['D'] else np.zeros((0, width, 3))
            self.centre[e] = np.concatenate(p['c']).astype(int)
            self.neighbour[e] = np.concatenate(p['n']).astype(int)
            self.atom_of_row[e] = np.concatenate(p['a']).astype(int)
            self.rows[e], self.entries[e] = np.array(ranges[e][0]), np.array(ranges[e][1])
        self.structure_of_atom = np.repeat(np.arange(len(frames)), n_atoms)
        self.row_of_atom = np.zeros(total, int)
        for e in self.elements:
            self.row_of_atom[self.atom_of_row[e]] = np.arange(len(self.atom_of_row[e]))
        self.element_of_atom = np.array([z_index[z] for z in numbers])
        self._X_torch = {e: torch.from_numpy(self.X[e]) for e in self.elements}

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def nbytes(self) -> int:
        return sum(self.D[e].nbytes + self.X[e].nbytes for e in self.elements)

    # ---- all structures at once ------------------------------------------------------------
    def predict(self, networks, weights) -> tuple[np.ndarray, np.ndarray]:
        """Energies (structures) and forces (atoms × 3), training units."""
        energy = np.zeros(len(self.frames))
        forces = np.zeros((len(self.numbers), 3))
        for e in self.elements:
            if len(self.X[e]) == 0:
                continue
            x = self._X_torch[e].clone().requires_grad_(True)
            out = networks[e].forward(torch.from_numpy(weights[e]), x)
            (grad,) = torch.autograd.grad(out.sum(), x)
            structure = self.structure_of_atom[self.atom_of_row[e]]
            energy += np.bincount(structure, out.detach().numpy(), len(self.frames))
            g = np.einsum('ps,psk->pk', grad.numpy()[self.centre[e]], self.D[e])
            for k in range(3):
                forces[:, k] -= np.bincount(self.neighbour[e], g[:, k], len(self.numbers))
                forces[:, k] += np.bincount(self.atom_of_row[e][self.centre[e]], g[:, k], len(self.numbers))
        return energy, forces

    # ---- one structure ------------------------------------------------------------------------
    def energy_jacobian(self, s: int, networks, weights: torch.Tensor, slices) -> tuple[float, np.ndarray]:
        w = weights.detach().requires_grad_(True)
        total = 0.0
        for k, e in enumerate(self.elements):
            lo, hi = self.rows[e][s]
            if hi > lo:
                total = total + networks[e].forward(w[slices[k]], self._X_torch[e][lo:hi]).sum()
        (jac,) = torch.autograd.grad(total, w)
        return float(total.detach()), jac.numpy()

    def force_derivative(self, s: int, atom: int, component: int) -> dict:
        """Per element: (rows, dG_scaled/dr_atom,component for those rows)."""
        out = {}
        for e in self.elements:
            lo, hi = self.entries[e][s]
            if hi == lo:
                continue
            neighbour = self.neighbour[e][lo:hi]
            centre = self.centre[e][lo:hi]
            own = self.atom_of_row[e][centre] == atom
            hit = neighbour == atom
            rows = np.unique(np.concatenate([centre[hit], centre[own][:1]]))
            if len(rows) == 0:
                continue
            position = np.searchsorted(rows, centre)
            v = np.zeros((len(rows), self.D[e].shape[1]))
            derivative = self.D[e][lo:hi, :, component]
            np.add.at(v, position[hit], derivative[hit])
            np.subtract.at(v, position[own], derivative[own])
            out[e] = (rows, v)
        return out

    def force_and_jacobian(self, vectors: dict, networks, weights: torch.Tensor, slices, jacobian: bool):
        """Force component (training units) and, if asked, its gradient with respect to the weights."""
        w = weights.detach().requires_grad_(jacobian)
        force = 0.0
        for k, e in enumerate(self.elements):
            if e not in vectors:
                continue
            rows, v = vectors[e]
            x = self._X_torch[e][rows].clone().requires_grad_(True)
            out = networks[e].forward(w[slices[k]], x)
            (grad,) = torch.autograd.grad(out.sum(), x, create_graph=jacobian)
            force = force - (grad * torch.from_numpy(v)).sum()
        if not jacobian:
            return float(force.detach()), None
        (jac,) = torch.autograd.grad(force, w)
        return float(force.detach()), jac.numpy()
