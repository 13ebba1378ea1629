"""Symmetry-function values and their derivatives for one structure, vectorised with numpy.

Every value depends only on neighbour vectors D_p = r_j(+image) - r_i of the centre atom i,
so derivatives are kept per neighbour entry p: dG_i/dD_p (shape P × S × 3). Forces and the
virial follow from them (see :mod:`.model`): dG_i/dr_j = Σ_{p:i→j} dG_i/dD_p and
dG_i/dr_i = -Σ_{p:i→·} dG_i/dD_p. Python loops run over symmetry functions, never atoms.
Single evaluations (MD, single points) take the angular functions from the compiled kernels of
:mod:`.angular_kernel` and never build that tensor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch
from ase.data import atomic_numbers
from scipy.spatial import cKDTree

from .angular_kernel import CompiledAngular
from .cutoff import cutoff_function
from .symfunctions import SymmetryFunction


@dataclasses.dataclass
class Setup:
    """What a calculation needs from input.nn: sorted functions per element, cutoff kind."""

    functions: dict[str, list[SymmetryFunction]]
    cutoff_type: int = 1
    cutoff_alpha: float = 0.0

    @classmethod
    def from_settings(cls, settings) -> Setup:
        kind, alpha = settings.cutoff
        return cls({e: settings.functions_of(e) for e in settings.elements}, kind, alpha)

    @property
    def elements(self) -> list[str]:
        return list(self.functions)

    @property
    def max_cutoff(self) -> float:
        return max(sf.rc for fs in self.functions.values() for sf in fs)


@dataclasses.dataclass
class ElementBlock:
    atoms: np.ndarray  # (n,) indices of this element's atoms in the structure
    values: np.ndarray  # (n, S) raw symmetry-function values
    centre: np.ndarray  # (P,) local centre index (0..n-1) of each neighbour entry
    neighbour: np.ndarray  # (P,) structure index of the neighbour atom
    vectors: np.ndarray  # (P, 3) D_p
    derivatives: np.ndarray | None  # (P, S, 3) dG/dD_p
    contract: Callable[[np.ndarray], np.ndarray] | None = None  # dE/dG (n, S) -> (P, 3), see compute


def neighbours(numbers, positions, cell, pbc, cutoff: float):
    """Neighbour entries (i, j, |D|, D) within the cutoff, periodic images included, sorted by i."""
    positions = np.asarray(positions, float)
    cell = np.asarray(cell, float)
    pbc = np.broadcast_to(np.asarray(pbc, bool), (3,))
    repeats = np.zeros(3, int)
    if pbc.any():
        volume = abs(np.linalg.det(cell))
        if volume <= 0:
            raise ValueError('periodic structure with a zero-volume cell')
        for k in range(3):
            if pbc[k]:
                spacing = volume / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3]))
                repeats[k] = int(np.ceil(cutoff / spacing))
        # wrap into the cell so that the image range above covers every neighbour
        fractional = np.linalg.solve(cell.T, positions.T).T
        fractional[:, pbc] -= np.floor(fractional[:, pbc])
        positions = fractional @ cell
    ranges = [np.arange(-m, m + 1) for m in repeats]
    shifts = np.stack(np.meshgrid(*ranges, indexing='ij'), -1).reshape(-1, 3) @ cell if pbc.any() else np.zeros((1, 3))
    images = (positions[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    pairs = cKDTree(positions).sparse_distance_matrix(cKDTree(images), cutoff, output_type='coo_matrix')
    i, image = pairs.row, pairs.col
    j = image % len(positions)
    vectors = images[image] - positions[i]
    d = np.linalg.norm(vectors, axis=1)
    keep = d > 0.0
    order = np.lexsort((image[keep], i[keep]))
    return i[keep][order], j[keep][order], d[keep][order], vectors[keep][order]


def compute(setup: Setup, numbers, positions, cell, pbc, derivatives: bool | str = True) -> dict[str, ElementBlock]:
    """Symmetry-function blocks per element. ``derivatives``: True fills dG/dD_p (P × S × 3, what
    training needs); ``'contract'`` gives each block a ``contract(dE/dG) -> (P, 3)`` instead,
    Σ_s dE/dG_s dG_s/dD_p without the per-function tensor (one evaluation: MD, single points);
    False: values only."""
    numbers = np.asarray(numbers)
    known = {atomic_numbers[e] for e in setup.elements}
    strangers = sorted(set(numbers.tolist()) - known)
    if strangers:
        raise ValueError(
            f'structure has atomic numbers {strangers} that the potential does not know ({setup.elements})'
        )
    i, j, d, vectors = neighbours(numbers, positions, cell, pbc, setup.max_cutoff)
    blocks = {}
    for element, functions in setup.functions.items():
        z = atomic_numbers[element]
        atoms = np.flatnonzero(numbers == z)
        local = np.full(len(numbers), -1)
        local[atoms] = np.arange(len(atoms))
        keep = numbers[i] == z
        block = ElementBlock(
            atoms=atoms,
            values=np.zeros((len(atoms), len(functions))),
            centre=local[i[keep]],
            neighbour=j[keep],
            vectors=vectors[keep],
            derivatives=np.zeros((int(keep.sum()), len(functions), 3)) if derivatives is True else None,
        )
        _fill(block, d[keep], numbers[j[keep]], functions, setup, derivatives)
        blocks[element] = block
    return blocks


def _fill(block: ElementBlock, distances, neighbour_z, functions, setup: Setup, mode: bool | str) -> None:
    cut = _CutoffCache(setup.cutoff_type, setup.cutoff_alpha)
    n = len(block.atoms)
    radial = [s for s, sf in enumerate(functions) if not sf.angular]
    slopes = np.empty((len(distances), len(radial))) if mode == 'contract' else None
    for column, s in enumerate(radial):
        sf = functions[s]
        fc, dfc = cut(distances, sf.rc)
        weight = neighbour_z.astype(float) if sf.type == 12 else (neighbour_z == atomic_numbers[sf.e1]).astype(float)
        gauss = np.exp(-sf.eta * (distances - sf.rs) ** 2) * weight
        block.values[:, s] = np.bincount(block.centre, gauss * fc, minlength=n)
        if mode:
            slope = gauss * (dfc - 2.0 * sf.eta * (distances - sf.rs) * fc) / distances
            if slopes is not None:
                slopes[:, column] = slope
            else:
                block.derivatives[:, s, :] = slope[:, None] * block.vectors
    angular = [(s, sf) for s, sf in enumerate(functions) if sf.angular]
    terms = None
    if angular and mode is True:  # training: the per-function tensor, numpy
        terms = _AngularTerms(block, distances, neighbour_z, angular, cut)
        terms.add_values()
        terms.fill_derivatives()
    elif angular:  # one evaluation: compiled values and contraction
        terms = CompiledAngular(block, distances, neighbour_z, angular, setup.cutoff_type, setup.cutoff_alpha)
        terms.add_values()
    if mode == 'contract':

        def contract(dedg: np.ndarray) -> np.ndarray:
            """Σ_s dE/dG_s(centre) dG_s/dD_p for every neighbour entry p, (P, 3)."""
            g = np.einsum('ps,ps->p', dedg[:, radial][block.centre], slopes)[:, None] * block.vectors
            if terms is not None:
                terms.contract(dedg, g)
            return g

        block.contract = contract


def _triplets(centre: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b), a < b, of usable neighbour entries that share a centre."""
    entries = np.flatnonzero(usable)
    owners = centre[entries]
    # position of each entry within its centre's run and the run's length
    starts = np.r_[0, np.flatnonzero(np.diff(owners)) + 1]
    lengths = np.diff(np.r_[starts, len(entries)])
    run_start = np.repeat(starts, lengths)
    rank = np.arange(len(entries)) - run_start
    partners = np.repeat(lengths, lengths) - rank - 1
    first = np.repeat(np.arange(len(entries)), partners)
    offsets = np.arange(len(first)) - np.repeat(np.cumsum(partners) - partners, partners)
    second = first + 1 + offsets
    return entries[first], entries[second]


class _AngularTerms:
    """Angular values and derivatives of one element block, for training (the compiled
    :class:`~.angular_kernel.CompiledAngular` serves single evaluations).

    Each triplet term t(D_a, D_b) has gradients that are combinations of D_a and D_b only
    (D_c = D_b - D_a): dt/dD_a = P_a D_a + Q D_b, dt/dD_b = Q D_a + P_b D_b. Summed onto
    neighbour entry p: D_p Σ(P_a over a=p, P_b over b=p) + Σ Q D_b + Σ Q D_a — scalar
    coefficients per triplet and function, summed onto the entries. Radial factors are shared
    by functions with equal (eta, rs, rc), angular powers by equal (lambda, zeta).
    """

    def __init__(self, block, distances, neighbour_z, angular, cut):
        self.block, self.angular, self.n_entries = block, angular, len(distances)
        a, b = _triplets(block.centre, distances < max(sf.rc for _, sf in angular))
        self.a, self.b = a, b
        self.va, self.vb = block.vectors[a], block.vectors[b]
        rij, rik = distances[a], distances[b]
        rjk = np.linalg.norm(self.vb - self.va, axis=1)
        inv_ij_ik = 1.0 / (rij * rik)
        cos = np.einsum('ij,ij->i', self.va, self.vb) * inv_ij_ik
        self.za, self.zb = neighbour_z[a], neighbour_z[b]
        self.owner = block.centre[a]
        self.parts = _RadialParts(rij, rik, rjk, cut, inv_ij_ik)
        self.powers = _AngularPowers(cos)
        self.weights = {}
        self.ratio_a, self.ratio_b = cos * rik / rij, cos * rij / rik

    def _radial(self, sf):
        """The function's radial factor: (value, d_ij, d_ik, d_jk, value/(r_ij r_ik))."""
        pair = 'Z' if sf.type == 13 else tuple(sorted((atomic_numbers[sf.e1], atomic_numbers[sf.e2])))
        if pair not in self.weights:
            self.weights[pair] = _pair_weight(pair, self.za, self.zb)
        key = (sf.eta, sf.rs, sf.rc, sf.type in (3, 13), pair)
        return self.parts(sf, key, self.weights[pair])

    def _term(self, sf):
        r, r_ij, r_ik, r_jk, r_over = self._radial(sf)
        power, ang = self.powers(sf.lam, sf.zeta)
        return 2.0 ** (1.0 - sf.zeta), r, r_ij, r_ik, r_jk, r_over, power, ang

    def add_values(self) -> None:
        n = len(self.block.atoms)
        for s, sf in self.angular:
            norm, r, *_, ang = self._term(sf)
            self.block.values[:, s] += np.bincount(self.owner, ang * r, minlength=n) * norm

    def _coefficients(self, sf):
        """(P_a, P_b, Q) of one function, each (T,)."""
        norm, r, r_ij, r_ik, r_jk, r_over, power, ang = self._term(sf)
        dang = (sf.zeta * sf.lam * norm) * power * r_over
        jk = norm * ang * r_jk
        return norm * ang * r_ij - dang * self.ratio_a + jk, norm * ang * r_ik - dang * self.ratio_b + jk, dang - jk

    def fill_derivatives(self, chunk: int = 24) -> None:
        """dG/dD_p of every angular function into the block's (P, S, 3) tensor."""
        triplets = len(self.a)
        if triplets == 0:
            return
        rows = torch.from_numpy(np.concatenate([self.a, self.b]))

        def scatter(values):  # (functions, 2T) -> (entries, functions): sum onto neighbour entries
            out = torch.zeros((values.shape[0], self.n_entries), dtype=torch.float64)
            return out.index_add_(1, rows, torch.from_numpy(values)).numpy().T

        derivatives, vectors = self.block.derivatives, self.block.vectors
        for first in range(0, len(self.angular), chunk):
            part = self.angular[first : first + chunk]
            # one contiguous row per function: rows [a-entries | b-entries]
            own = np.empty((len(part), 2 * triplets))
            other = np.empty((len(part), triplets))
            for row, (_, sf) in enumerate(part):
                own[row, :triplets], own[row, triplets:], other[row] = self._coefficients(sf)
            columns = [s for s, _ in part]
            derivatives[:, columns, :] += scatter(own)[:, :, None] * vectors[:, None, :]
            for k in range(3):
                crossed = np.concatenate([other * self.vb[:, k], other * self.va[:, k]], axis=1)
                derivatives[:, columns, k] += scatter(crossed)


def _pair_weight(key, za, zb):
    """Neighbour-pair weight: Z_j Z_k for weighted functions, else 1 where the pair's elements
    match (None when every triplet matches, to skip the product)."""
    if key == 'Z':
        return (za * zb).astype(float)
    z1, z2 = key
    match = ((za == z1) & (zb == z2)) | ((za == z2) & (zb == z1))
    return None if match.all() else match.astype(float)


class _AngularPowers:
    """(1 + λ cos)^(ζ-1) and (1 + λ cos)^ζ, zero where 1 + λ cos <= 0; integer ζ by squaring."""

    def __init__(self, cos):
        self.cos, self.cache = cos, {}

    def __call__(self, lam, zeta):
        key = (lam, zeta)
        if key not in self.cache:
            plam = 1.0 + lam * self.cos
            positive = plam > 0.0
            base = np.where(positive, plam, 0.0)
            exponent = zeta - 1.0
            if exponent.is_integer() and exponent >= 0:
                power = _integer_power(base, int(exponent))
            else:
                power = np.where(positive, np.where(positive, base, 1.0) ** exponent, 0.0)
            self.cache[key] = (power, power * base)
        return self.cache[key]


def _integer_power(x, k: int):
    result = np.ones_like(x)
    square = x
    while k:
        if k & 1:
            result = result * square
        k >>= 1
        if k:
            square = square * square
    return result


class _RadialParts:
    """exp(-eta Σ (r - rs)^2) Π fc (weighted) and its partial derivatives divided by the
    matching distance, cached per (eta, rs, rc, narrow, pair weight)."""

    def __init__(self, rij, rik, rjk, cut, inv_ij_ik):
        self.r, self.cut, self.inv, self.cache = (rij, rik, rjk), cut, inv_ij_ik, {}

    def __call__(self, sf, key: tuple, weight):
        """``key``: (eta, rs, rc, whether r_jk enters (narrow), pair weight key)."""
        narrow = key[3]
        if key not in self.cache:
            rij, rik, rjk = self.r
            fij, dfij = self.cut(rij, sf.rc)
            fik, dfik = self.cut(rik, sf.rc)
            exponent = (rij - sf.rs) ** 2 + (rik - sf.rs) ** 2
            if narrow:
                fjk, dfjk = self.cut(rjk, sf.rc)
                exponent += (rjk - sf.rs) ** 2
            else:
                fjk, dfjk = 1.0, 0.0
            e = np.exp(-sf.eta * exponent)
            if weight is not None:
                e *= weight
            e_ij_ik = e * fij * fik
            value = e_ij_ik * fjk
            d_ij = e * (dfij - 2.0 * sf.eta * (rij - sf.rs) * fij) * fik * fjk / rij
            d_ik = e * fij * (dfik - 2.0 * sf.eta * (rik - sf.rs) * fik) * fjk / rik
            if narrow:
                d_jk = e_ij_ik * (dfjk - 2.0 * sf.eta * (rjk - sf.rs) * fjk) / rjk
            else:
                d_jk = np.zeros_like(rij)
            self.cache[key] = (value, d_ij, d_ik, d_jk, value * self.inv)
        return self.cache[key]


class _CutoffCache:
    def __init__(self, kind, alpha):
        self.kind, self.alpha, self.cache = kind, alpha, {}

    def __call__(self, r, rc):
        key = (id(r), rc)
        if key not in self.cache:
            self.cache[key] = (r, cutoff_function(r, rc, self.kind, self.alpha))
        return self.cache[key][1]
