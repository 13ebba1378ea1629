"""Compiled (numba) angular symmetry functions of one element block, for single evaluations.

An MD step needs the angular values and, once the networks have given dE/dG, the contraction
Σ_s dE/dG_s dG_s/dD_p onto every neighbour entry p; never the per-function derivative tensor
that training needs (that stays in :mod:`.descriptors`). Both passes loop over the triplets of
one centre atom at a time, centres in parallel: every triplet writes only to its own centre's
row of values and to its own centre's neighbour entries, so no two threads write one place.

Per triplet the functions share work: a radial group (eta, rs, rc, narrow, pair weight) gives
one exponential and its partial derivatives, an angular pair (lambda, zeta) one power; each
function then costs a multiply-add. The formulas are those of :mod:`.descriptors`:

    R = exp(-eta Σ (r - rs)^2) fc(r_ij) fc(r_ik) [fc(r_jk)] · weight
    G_s = Σ_triplets 2^(1-zeta) (1 + lambda cos)^zeta R
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
from ase.data import atomic_numbers

from .cutoff import cutoff_function

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

    ``block``: the :class:`~.descriptors.ElementBlock` (centre, vectors), ``distances`` and
    ``neighbour_z`` per neighbour entry, ``a``/``b``: the triplets' two entries (sorted by
    centre, a < b), ``kind``/``alpha``: the cutoff function."""

    def __init__(self, block, distances, neighbour_z, angular, a, b, kind: int, alpha: float):
        self.block, self.tables = block, Tables.of(angular)
        self.a, self.b = a.astype(np.int64), b.astype(np.int64)
        n = len(block.atoms)
        self.starts = np.searchsorted(block.centre[self.a], np.arange(n + 1)).astype(np.int64)
        va, vb = block.vectors[self.a], block.vectors[self.b]
        self.rjk = np.linalg.norm(vb - va, axis=1)
        self.distances = np.ascontiguousarray(distances, dtype=float)
        self.cos = np.einsum('ij,ij->i', va, vb) / (self.distances[self.a] * self.distances[self.b])
        self.za = neighbour_z[self.a].astype(np.int64)
        self.zb = neighbour_z[self.b].astype(np.int64)
        t = self.tables
        # cutoff values and slopes per distinct radius: per entry (r_ij, r_ik) and per triplet (r_jk)
        self.f_entry = np.empty((len(t.rcs), len(distances)))
        self.df_entry = np.empty_like(self.f_entry)
        self.f_jk = np.empty((len(t.rcs), len(self.a)))
        self.df_jk = np.empty_like(self.f_jk)
        for k, rc in enumerate(t.rcs):
            self.f_entry[k], self.df_entry[k] = cutoff_function(self.distances, rc, kind, alpha)
            self.f_jk[k], self.df_jk[k] = cutoff_function(self.rjk, rc, kind, alpha)

    def _arguments(self):
        t = self.tables
        return (
            self.starts,
            self.a,
            self.b,
            self.distances,
            self.rjk,
            self.cos,
            self.za,
            self.zb,
            self.f_entry,
            self.df_entry,
            self.f_jk,
            self.df_jk,
            t.column,
            t.group,
            t.pair,
            t.norm,
            t.eta,
            t.rs,
            t.rc_index,
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
        _contract(*self._arguments(), np.ascontiguousarray(dedg, dtype=float), self.block.vectors, g)


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


@numba.njit(cache=True, parallel=True)
def _values(
    starts, a, b, r, rjk, cos, za, zb, f_entry, df_entry, f_jk, df_jk,
    column, group, pair, norm, eta, rs, rc_index, narrow, weight_kind, z1, z2, lam, zeta, values,
):  # fmt: skip
    n_groups, n_pairs = len(eta), len(lam)
    for c in numba.prange(len(starts) - 1):
        radial = np.empty(n_groups)
        angular = np.empty(n_pairs)
        for t in range(starts[c], starts[c + 1]):
            p, q = a[t], b[t]
            rij, rik = r[p], r[q]
            for g in range(n_groups):
                w = _weight(weight_kind[g], z1[g], z2[g], za[t], zb[t])
                k = rc_index[g]
                fc = f_entry[k, p] * f_entry[k, q]
                if w == 0.0 or fc == 0.0:
                    radial[g] = 0.0
                    continue
                exponent = (rij - rs[g]) ** 2 + (rik - rs[g]) ** 2
                if narrow[g]:
                    fc *= f_jk[k, t]
                    exponent += (rjk[t] - rs[g]) ** 2
                radial[g] = w * fc * np.exp(-eta[g] * exponent)
            for j in range(n_pairs):
                base = 1.0 + lam[j] * cos[t]
                angular[j] = _power(base, zeta[j]) if base > 0.0 else 0.0
            for s in range(len(column)):
                values[c, column[s]] += norm[s] * angular[pair[s]] * radial[group[s]]


@numba.njit(cache=True, parallel=True)
def _contract(
    starts, a, b, r, rjk, cos, za, zb, f_entry, df_entry, f_jk, df_jk,
    column, group, pair, norm, eta, rs, rc_index, narrow, weight_kind, z1, z2, lam, zeta, dedg, vectors, out,
):  # fmt: skip
    n_groups, n_pairs = len(eta), len(lam)
    for c in numba.prange(len(starts) - 1):
        angular = np.empty(n_pairs)
        slope = np.empty(n_pairs)
        angular_sum = np.empty(n_groups)
        slope_sum = np.empty(n_groups)
        for t in range(starts[c], starts[c + 1]):
            p, q = a[t], b[t]
            rij, rik, cosine = r[p], r[q], cos[t]
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
            for g in range(n_groups):
                w = _weight(weight_kind[g], z1[g], z2[g], za[t], zb[t])
                k = rc_index[g]
                f_ij, f_ik = f_entry[k, p], f_entry[k, q]
                if w == 0.0 or f_ij * f_ik == 0.0:
                    continue
                exponent = (rij - rs[g]) ** 2 + (rik - rs[g]) ** 2
                f_c, d_c = 1.0, 0.0
                if narrow[g]:
                    f_c, d_c = f_jk[k, t], df_jk[k, t]
                    exponent += (rjk[t] - rs[g]) ** 2
                e = w * np.exp(-eta[g] * exponent)
                value = e * f_ij * f_ik * f_c
                a_ij += angular_sum[g] * e * (df_entry[k, p] - 2.0 * eta[g] * (rij - rs[g]) * f_ij) * f_ik * f_c / rij
                a_ik += angular_sum[g] * e * f_ij * (df_entry[k, q] - 2.0 * eta[g] * (rik - rs[g]) * f_ik) * f_c / rik
                if narrow[g]:
                    a_jk += angular_sum[g] * e * f_ij * f_ik * (d_c - 2.0 * eta[g] * (rjk[t] - rs[g]) * f_c) / rjk[t]
                a_cos += slope_sum[g] * value / (rij * rik)
            pa = a_ij - a_cos * cosine * rik / rij + a_jk
            pb = a_ik - a_cos * cosine * rij / rik + a_jk
            cross = a_cos - a_jk
            for x in range(3):
                out[p, x] += pa * vectors[p, x] + cross * vectors[q, x]
                out[q, x] += cross * vectors[p, x] + pb * vectors[q, x]
