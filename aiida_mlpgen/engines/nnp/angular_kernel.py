"""Compiled (numba) angular symmetry functions of one element block, for single evaluations.

An MD step needs the angular values and, once the networks have given dE/dG, the contraction
Σ_s dE/dG_s dG_s/dD_p onto every neighbour entry p; never the per-function derivative tensor
that training needs (that stays in :mod:`.descriptors`). Both passes walk the pairs (j, k) of
neighbour entries of one centre atom at a time, centres in parallel: a triplet writes only to
its own centre's row of values and to its own centre's neighbour entries, so no two threads
write one place, and no triplet list is built.

The radial factor splits into per-entry parts, computed once per neighbour entry and radial
group (eta, rs, rc, narrow, pair weight): u(r) = exp(-eta (r - rs)^2) fc(r) and its slope, so
a triplet needs an exponential only for r_jk of the narrow groups. An angular pair (lambda,
zeta) gives one power per triplet; each function then costs a multiply-add:

    R = u(r_ij) u(r_ik) [u(r_jk)] · weight,    G_s = Σ_triplets 2^(1-zeta) (1 + lambda cos)^zeta R
"""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np
from ase.data import atomic_numbers

from .cutoff import cutoff_function, cutoff_scalar

#: pair-weight kinds of a radial group: every triplet counts, Z_j Z_k, or only matching element pairs
_ALL, _PRODUCT, _MATCH = 0, 1, 2


@dataclasses.dataclass
class Tables:
    """The angular functions of one element as flat arrays the kernels read."""

    column: np.ndarray  # (F,) column of each angular function in the block's values
    group: np.ndarray  # (F,) its radial group
    pair: np.ndarray  # (F,) its angular pair
    norm: np.ndarray  # (F,) 2^(1 - zeta)
    eta: np.ndarray  # (G,) per radial group
    rs: np.ndarray
    rc_index: np.ndarray  # (G,) index into rcs
    narrow: np.ndarray  # (G,) bool: r_jk enters (types 3, 13)
    weight_kind: np.ndarray  # (G,) _ALL, _PRODUCT or _MATCH
    z1: np.ndarray  # (G,) element pair of _MATCH groups
    z2: np.ndarray
    lam: np.ndarray  # (Q,) per angular pair
    zeta: np.ndarray
    rcs: np.ndarray  # distinct cutoff radii

    @classmethod
    def of(cls, angular) -> Tables:
        """``angular``: (column, SymmetryFunction) of the block's angular functions."""
        rcs = sorted({sf.rc for _, sf in angular})
        groups, pairs, rows = {}, {}, []
        for column, sf in angular:
            if sf.type == 13:
                weight = (_PRODUCT, 0, 0)
            else:
                weight = (_MATCH, *sorted((atomic_numbers[sf.e1], atomic_numbers[sf.e2])))
            key = (sf.eta, sf.rs, rcs.index(sf.rc), sf.type in (3, 13), *weight)
            group = groups.setdefault(key, len(groups))
            pair = pairs.setdefault((sf.lam, sf.zeta), len(pairs))
            rows.append((column, group, pair, 2.0 ** (1.0 - sf.zeta)))
        g = np.array(list(groups), dtype=float).reshape(-1, 7)
        q = np.array(list(pairs), dtype=float).reshape(-1, 2)
        return cls(
            column=np.array([r[0] for r in rows], dtype=np.int64),
            group=np.array([r[1] for r in rows], dtype=np.int64),
            pair=np.array([r[2] for r in rows], dtype=np.int64),
            norm=np.array([r[3] for r in rows]),
            eta=g[:, 0].copy(),
            rs=g[:, 1].copy(),
            rc_index=g[:, 2].astype(np.int64),
            narrow=g[:, 3].astype(np.bool_),
            weight_kind=g[:, 4].astype(np.int64),
            z1=g[:, 5].astype(np.int64),
            z2=g[:, 6].astype(np.int64),
            lam=q[:, 0].copy(),
            zeta=q[:, 1].copy(),
            rcs=np.array(rcs),
        )


class CompiledAngular:
    """Angular values and the contraction of one element block (see the module text).

    ``block``: the :class:`~.descriptors.ElementBlock` (centre, vectors; entries sorted by
    centre), ``distances`` and ``neighbour_z`` per neighbour entry, ``kind``/``alpha``: the
    cutoff function."""

    def __init__(self, block, distances, neighbour_z, angular, kind: int, alpha: float):
        self.block, t = block, Tables.of(angular)
        self.tables, self.kind, self.alpha = t, int(kind), float(alpha)
        self.starts = np.searchsorted(block.centre, np.arange(len(block.atoms) + 1)).astype(np.int64)
        self.distances = np.ascontiguousarray(distances, dtype=float)
        self.z = np.ascontiguousarray(neighbour_z, dtype=np.int64)
        self.reach = float(t.rcs.max())
        # u(r) and du/dr per radial group and neighbour entry
        self.u = np.empty((len(t.eta), len(distances)))
        self.du = np.empty_like(self.u)
        for g in range(len(t.eta)):
            fc, dfc = cutoff_function(self.distances, t.rcs[t.rc_index[g]], kind, alpha)
            gauss = np.exp(-t.eta[g] * (self.distances - t.rs[g]) ** 2)
            self.u[g] = gauss * fc
            self.du[g] = gauss * (dfc - 2.0 * t.eta[g] * (self.distances - t.rs[g]) * fc)

    def _arguments(self):
        t = self.tables
        return (
            self.starts,
            self.distances,
            self.block.vectors,
            self.z,
            self.u,
            self.du,
            self.reach,
            self.kind,
            self.alpha,
            t.column,
            t.group,
            t.pair,
            t.norm,
            t.eta,
            t.rs,
            t.rcs[t.rc_index],
            t.narrow,
            t.weight_kind,
            t.z1,
            t.z2,
            t.lam,
            t.zeta,
        )

    def add_values(self) -> None:
        _values(*self._arguments(), self.block.values)

    def contract(self, dedg: np.ndarray, g: np.ndarray) -> None:
        """Add Σ_s dE/dG_s dG_s/dD_p of the angular functions to g (P, 3)."""
        _contract(*self._arguments(), np.ascontiguousarray(dedg, dtype=float), g)


@numba.njit(cache=True, inline='always')
def _power(base, exponent):
    """base^exponent for base > 0; integer exponents by squaring."""
    k = int(exponent)
    if k == exponent and k >= 0:
        result, square = 1.0, base
        while k:
            if k & 1:
                result *= square
            k >>= 1
            if k:
                square *= square
        return result
    return base**exponent


@numba.njit(cache=True, inline='always')
def _weight(kind, z1, z2, za, zb):
    if kind == _PRODUCT:
        return float(za * zb)
    if kind == _MATCH:
        return 1.0 if (za == z1 and zb == z2) or (za == z2 and zb == z1) else 0.0
    return 1.0


@numba.njit(cache=True, inline='always')
def _geometry(vectors, p, q):
    """|D_k - D_j| and cos of the angle at the centre."""
    dx = vectors[q, 0] - vectors[p, 0]
    dy = vectors[q, 1] - vectors[p, 1]
    dz = vectors[q, 2] - vectors[p, 2]
    dot = vectors[p, 0] * vectors[q, 0] + vectors[p, 1] * vectors[q, 1] + vectors[p, 2] * vectors[q, 2]
    return math.sqrt(dx * dx + dy * dy + dz * dz), dot


@numba.njit(cache=True, parallel=True)
def _values(
    starts, r, vectors, z, u, du, reach, kind, alpha,
    column, group, pair, norm, eta, rs, rc, narrow, weight_kind, z1, z2, lam, zeta, values,
):  # fmt: skip
    n_groups, n_pairs = len(eta), len(lam)
    for c in numba.prange(len(starts) - 1):
        radial = np.empty(n_groups)
        angular = np.empty(n_pairs)
        for p in range(starts[c], starts[c + 1]):
            if r[p] >= reach:
                continue
            for q in range(p + 1, starts[c + 1]):
                if r[q] >= reach:
                    continue
                rjk, dot = _geometry(vectors, p, q)
                cosine = dot / (r[p] * r[q])
                last_rc, fc = -1.0, 0.0  # the cutoff of r_jk, kept while the groups' rc repeats
                for g in range(n_groups):
                    value = u[g, p] * u[g, q] * _weight(weight_kind[g], z1[g], z2[g], z[p], z[q])
                    if value != 0.0 and narrow[g]:
                        if rc[g] != last_rc:
                            last_rc, (fc, _) = rc[g], cutoff_scalar(rjk, rc[g], kind, alpha)
                        value *= fc * math.exp(-eta[g] * (rjk - rs[g]) ** 2)
                    radial[g] = value
                for j in range(n_pairs):
                    base = 1.0 + lam[j] * cosine
                    angular[j] = _power(base, zeta[j]) if base > 0.0 else 0.0
                for s in range(len(column)):
                    values[c, column[s]] += norm[s] * angular[pair[s]] * radial[group[s]]


@numba.njit(cache=True, parallel=True)
def _contract(
    starts, r, vectors, z, u, du, reach, kind, alpha,
    column, group, pair, norm, eta, rs, rc, narrow, weight_kind, z1, z2, lam, zeta, dedg, out,
):  # fmt: skip
    n_groups, n_pairs = len(eta), len(lam)
    for c in numba.prange(len(starts) - 1):
        angular = np.empty(n_pairs)
        slope = np.empty(n_pairs)
        angular_sum = np.empty(n_groups)
        slope_sum = np.empty(n_groups)
        for p in range(starts[c], starts[c + 1]):
            if r[p] >= reach:
                continue
            for q in range(p + 1, starts[c + 1]):
                if r[q] >= reach:
                    continue
                rij, rik = r[p], r[q]
                rjk, dot = _geometry(vectors, p, q)
                cosine = dot / (rij * rik)
                for j in range(n_pairs):
                    base = 1.0 + lam[j] * cosine
                    if base > 0.0:
                        power = _power(base, zeta[j] - 1.0)
                        angular[j], slope[j] = power * base, power * zeta[j] * lam[j]
                    else:
                        angular[j], slope[j] = 0.0, 0.0
                angular_sum[:] = 0.0
                slope_sum[:] = 0.0
                for s in range(len(column)):
                    weighted = dedg[c, column[s]] * norm[s]
                    angular_sum[group[s]] += weighted * angular[pair[s]]
                    slope_sum[group[s]] += weighted * slope[pair[s]]
                a_ij = a_ik = a_jk = a_cos = 0.0
                last_rc, fc, dfc = -1.0, 0.0, 0.0  # the cutoff of r_jk, kept while the groups' rc repeats
                for g in range(n_groups):
                    w = _weight(weight_kind[g], z1[g], z2[g], z[p], z[q])
                    if w == 0.0 or u[g, p] * u[g, q] == 0.0:
                        continue
                    f_jk, d_jk = 1.0, 0.0
                    if narrow[g]:
                        if rc[g] != last_rc:
                            last_rc, (fc, dfc) = rc[g], cutoff_scalar(rjk, rc[g], kind, alpha)
                        gauss = w * math.exp(-eta[g] * (rjk - rs[g]) ** 2)
                        f_jk, d_jk = gauss * fc, gauss * (dfc - 2.0 * eta[g] * (rjk - rs[g]) * fc)
                    else:
                        f_jk = w
                    a_ij += angular_sum[g] * du[g, p] * u[g, q] * f_jk
                    a_ik += angular_sum[g] * u[g, p] * du[g, q] * f_jk
                    a_jk += angular_sum[g] * u[g, p] * u[g, q] * d_jk
                    a_cos += slope_sum[g] * u[g, p] * u[g, q] * f_jk
                a_ij /= rij
                a_ik /= rik
                a_cos /= rij * rik
                if rjk > 0.0:
                    a_jk /= rjk
                pa = a_ij - a_cos * cosine * rik / rij + a_jk
                pb = a_ik - a_cos * cosine * rij / rik + a_jk
                cross = a_cos - a_jk
                for x in range(3):
                    out[p, x] += pa * vectors[p, x] + cross * vectors[q, x]
                    out[q, x] += cross * vectors[p, x] + pb * vectors[q, x]
