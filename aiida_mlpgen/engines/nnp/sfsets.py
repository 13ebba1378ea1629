"""Symmetry-function sets from grids (SPEC.md, NNP): Imbalzano 2018 and Gastegger 2018 rules.

A row is {kind: radial | narrow_angular | wide_angular, mode: centered | shifted, r_low,
r_cutoff, n_points, zeta: [...]} (+ optional rule: imbalzano | gastegger). Radial rows follow
Imbalzano et al., JCP 148, 241730 (2018) by default, angular rows Gastegger et al., JCP 148,
241709 (2018); r_low is used by the Gastegger rule only.

- Gastegger, grid g = linspace(r_low, r_cutoff, n): centred rs = 0, eta = 1/(2 g²);
  shifted rs = g, eta = 1/(2 Δg²).
- Imbalzano: centred rs = 0, eta_m = (m_max^(m/m_max) / rc)², m = 0..n-1 (m_max = n-1);
  shifted: auxiliary r_m = rc / n^(m/n), m = 0..n; eta_m = 1/(r_m - r_{m+1})², rs = r_{m+1},
  listed by ascending rs.

Each row gives, for every central element, one function per neighbour element (radial) or
per unordered neighbour pair (angular), for each grid point, λ = ±1 and ζ. With weighted
functions, radial rows become type 12 and narrow angular rows type 13 (one per central
element); n2p2 has no weighted wide form, so wide rows stay type 9.
"""

from __future__ import annotations

import itertools

import numpy as np

from .symfunctions import SymmetryFunction

KINDS = ('radial', 'narrow_angular', 'wide_angular')
MODES = ('centered', 'shifted')
RULES = ('imbalzano', 'gastegger')


def default_rows(cutoff: float) -> list[dict]:
    """SPEC.md's default set: 10 shifted radial (Imbalzano), centred narrow and wide angular
    (Gastegger, 4 points from r_low = 1 Å, ζ = 1, 3, 12, λ = ±1)."""
    return [
        {'kind': 'radial', 'mode': 'shifted', 'r_low': 1.0, 'r_cutoff': cutoff, 'n_points': 10, 'rule': 'imbalzano'},
        {
            'kind': 'narrow_angular',
            'mode': 'centered',
            'r_low': 1.0,
            'r_cutoff': cutoff,
            'n_points': 4,
            'zeta': [1, 3, 12],
            'rule': 'gastegger',
        },
        {
            'kind': 'wide_angular',
            'mode': 'centered',
            'r_low': 1.0,
            'r_cutoff': cutoff,
            'n_points': 4,
            'zeta': [1, 3, 12],
            'rule': 'gastegger',
        },
    ]


def radial_grid(rule: str, mode: str, n: int, r_cutoff: float, r_low: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(rs, eta) pairs."""
    if n < 2:
        raise ValueError(f'a grid needs at least 2 points, got {n}')
    if rule == 'gastegger':
        if not 0 <= r_low < r_cutoff or (mode == 'centered' and r_low == 0):
            raise ValueError(
                f'gastegger grid needs 0 {"<" if mode == "centered" else "<="} r_low < r_cutoff, '
                f'got r_low={r_low}, r_cutoff={r_cutoff}'
            )
        grid = np.linspace(r_low, r_cutoff, n)
        if mode == 'centered':
            return np.zeros(n), 1.0 / (2.0 * grid**2)
        step = (r_cutoff - r_low) / (n - 1)
        return grid, np.full(n, 1.0 / (2.0 * step**2))
    if rule == 'imbalzano':
        if mode == 'centered':
            m = np.arange(n)
            return np.zeros(n), ((n - 1) ** (m / (n - 1)) / r_cutoff) ** 2
        aux = r_cutoff / n ** (np.arange(n + 1) / n)
        eta = 1.0 / (aux[:-1] - aux[1:]) ** 2
        return aux[1:][::-1].copy(), eta[::-1].copy()
    raise ValueError(f'unknown grid rule {rule!r}; use one of {RULES}')


def functions(rows: list[dict], elements: list[str], weighted: bool = False) -> list[SymmetryFunction]:
    out = []
    for row in rows:
        kind = row['kind']
        rule = row.get('rule') or ('imbalzano' if kind == 'radial' else 'gastegger')
        n_points, r_low = int(row['n_points']), float(row.get('r_low', 0.0))
        rs, eta = radial_grid(rule, row['mode'], n_points, float(row['r_cutoff']), r_low)
        rc = float(row['r_cutoff'])
        for centre in elements:
            if kind == 'radial':
                for r, e in zip(rs, eta, strict=True):
                    if weighted:
                        out.append(SymmetryFunction(centre, 12, e, r, rc))
                    else:
                        out += [SymmetryFunction(centre, 2, e, r, rc, e1=n) for n in elements]
                continue
            zetas = [float(z) for z in row.get('zeta') or [1.0]]
            if weighted and kind == 'narrow_angular':
                pairs = [('', '')]
            else:
                pairs = itertools.combinations_with_replacement(elements, 2)
            kind_number = 13 if weighted and kind == 'narrow_angular' else (3 if kind == 'narrow_angular' else 9)
            grid = list(zip(rs, eta, strict=True))
            for (e1, e2), (r, e), zeta, lam in itertools.product(list(pairs), grid, zetas, (-1.0, 1.0)):
                out.append(SymmetryFunction(centre, kind_number, e, r, rc, e1, e2, lam, zeta))
    return out
