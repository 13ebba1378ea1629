"""Extrapolation grades of a model that is linear in per-atom descriptors (D-optimality).

The training set's descriptor rows of one element span what the model has seen. The
*active set* is the subset of rows (as many as the descriptors have directions) whose
parallelepiped has the largest volume, found with the maxvol iteration of Goreinov et al.
A new atom's row ``b`` is written in the basis of the active rows, ``c = b A⁻¹``; its grade
is ``max |c_j|``: at most 1 (up to the iteration's tolerance) for every training atom —
interpolation — and above 1 when the atom lies outside what the training set spans.
Directions the training set never varies along (rank deficit) are dropped first: a row's
size along them is added to the grade, relative to the smallest kept direction or to a
thousandth of the rows' size, whichever is smaller. (A set with fewer distinct environments
than descriptors — one small crystal — spans few directions; measured against its smallest
kept direction alone, which is then the rows' whole size, a 0.3 Å rattle of a 2-atom bcc cell
graded 0.99 against that cell: "known".)
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: relative singular value below which a direction of the training rows counts as absent
RANK_TOLERANCE = 1e-7
#: a row's size off the training rows' span that adds 1 to its grade, relative to their RMS size (at most)
RESIDUAL_UNIT = 1e-3


def maxvol(rows: np.ndarray, tolerance: float = 1.01, max_iterations: int = 500) -> np.ndarray:
    """Indices of ``rows.shape[1]`` rows of ``rows`` (n × r, full column rank) spanning a
    near-maximal volume: no row has a coefficient above ``tolerance`` in their basis."""
    import scipy.linalg

    n, r = rows.shape
    if n < r:
        raise ValueError(f'{n} rows cannot span {r} directions')
    _, _, pivots = scipy.linalg.qr(rows.T, pivoting=True, mode='economic')
    chosen = np.array(pivots[:r])
    coefficients = rows @ np.linalg.inv(rows[chosen])
    for _ in range(max_iterations):
        i, j = np.unravel_index(np.argmax(np.abs(coefficients)), coefficients.shape)
        if abs(coefficients[i, j]) <= tolerance:
            break
        # row i replaces active row j: a rank-one update of every row's coefficients
        column = coefficients[:, j].copy()
        row = coefficients[i].copy()
        row[j] -= 1.0
        coefficients -= np.outer(column, row) / coefficients[i, j]
        chosen[j] = i
    return chosen


@dataclasses.dataclass
class ActiveSet:
    """The active set of one element: a projection onto the directions the training rows
    span, and the inverse of the active rows in those directions."""

    basis: np.ndarray  # r × k: descriptor space -> the k directions kept
    inverse: np.ndarray  # k × k: inverse of the active rows (projected)
    scale: float  # the size off the span that adds 1 to a grade (see the module text)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> ActiveSet:
        rows = np.asarray(rows, float)
        if rows.ndim != 2 or len(rows) == 0:
            raise ValueError('no descriptor rows to build an active set from')
        if not np.isfinite(rows).all():
            raise ValueError('descriptor rows are not finite')
        _, values, vt = np.linalg.svd(rows, full_matrices=False)
        kept = values > RANK_TOLERANCE * values[0] if values[0] > 0 else np.zeros_like(values, bool)
        if not kept.any():
            raise ValueError('the descriptor rows are all zero')
        basis = vt[kept].T
        projected = rows @ basis
        active = maxvol(projected)
        rms = float(np.sqrt((rows**2).sum(axis=1).mean()))
        scale = min(float(values[kept][-1] / np.sqrt(len(rows))), RESIDUAL_UNIT * rms)
        return cls(basis, np.linalg.inv(projected[active]), scale)

    def grades(self, rows: np.ndarray) -> np.ndarray:
        """The grade of each row (≤ ~1 inside the training set, > 1 outside)."""
        rows = np.atleast_2d(np.asarray(rows, float))
        projected = rows @ self.basis
        grade = np.abs(projected @ self.inverse).max(axis=1)
        residual = np.linalg.norm(rows - projected @ self.basis.T, axis=1) / self.scale
        return grade + residual


def grades_by_element(active_sets: dict, descriptors: np.ndarray, symbols) -> np.ndarray:
    """Per-atom grades of a structure whose rows ``descriptors`` belong to atoms ``symbols``."""
    out = np.empty(len(symbols))
    symbols = np.asarray(symbols)
    for element in set(symbols.tolist()):
        mask = symbols == element
        if element not in active_sets:
            raise ValueError(f'no active set for {element}: the training set has none')
        out[mask] = active_sets[element].grades(descriptors[mask])
    return out


def active_sets_from(descriptor_list, symbol_list) -> dict[str, ActiveSet]:
    """An active set per element from the rows of many structures."""
    rows: dict[str, list] = {}
    for descriptors, symbols in zip(descriptor_list, symbol_list, strict=True):
        for row, symbol in zip(descriptors, symbols, strict=True):
            rows.setdefault(symbol, []).append(row)
    return {element: ActiveSet.from_rows(np.array(found)) for element, found in rows.items()}
