"""n2p2's cutoff functions (``cutoff_type`` 0–8, inner fraction ``alpha``).

x = (r - alpha·rc) / (rc - alpha·rc); f = 1 below alpha·rc and 0 from rc on.
0 hard, 1 cos, 2 tanh^3 (unnormalised), 3 tanh^3 (normalised), 4 exp, 5–8 polynomials 1–4.
One compiled scalar function (:func:`cutoff_scalar`, also called inside the angular kernels)
and its array form (:func:`cutoff_function`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

KINDS = range(9)
_TANH_PRE = 1.0 / math.tanh(1.0) ** 3  # type 3 is 1 at r = 0


@numba.njit(cache=True)
def cutoff_scalar(r, rc, kind, alpha):
    """(f, df/dr) at one distance."""
    if r >= rc:
        return 0.0, 0.0
    if kind == 2 or kind == 3:  # tanh forms ignore alpha
        t = math.tanh(1.0 - r / rc)
        pre = _TANH_PRE if kind == 3 else 1.0
        return pre * t**3, pre * 3.0 * t**2 * (t**2 - 1.0) / rc
    rci = alpha * rc
    if r < rci:
        return 1.0, 0.0
    width = rc - rci
    x = (r - rci) / width
    if kind == 0:
        value, slope = 1.0, 0.0
    elif kind == 1:
        value, slope = 0.5 * (math.cos(math.pi * x) + 1.0), -0.5 * math.pi * math.sin(math.pi * x)
    elif kind == 4:
        tmp = 1.0 / (x * x - 1.0)
        value = math.e * math.exp(tmp)
        slope = -2.0 * math.e * x * tmp * tmp * math.exp(tmp)
    elif kind == 5:
        value, slope = (2.0 * x - 3.0) * x * x + 1.0, x * (6.0 * x - 6.0)
    elif kind == 6:
        value = ((15.0 - 6.0 * x) * x - 10.0) * x**3 + 1.0
        slope = x * x * ((60.0 - 30.0 * x) * x - 30.0)
    elif kind == 7:
        value = (x * (x * (20.0 * x - 70.0) + 84.0) - 35.0) * x**4 + 1.0
        slope = x**3 * (x * (x * (140.0 * x - 420.0) + 420.0) - 140.0)
    else:  # 8
        value = (x * (x * ((315.0 - 70.0 * x) * x - 540.0) + 420.0) - 126.0) * x**5 + 1.0
        slope = x**4 * (x * (x * ((2520.0 - 630.0 * x) * x - 3780.0) + 2520.0) - 630.0)
    return value, slope / width


@numba.njit(cache=True)
def _cutoff_array(r, rc, kind, alpha, f, df):
    for i in range(r.size):
        f[i], df[i] = cutoff_scalar(r[i], rc, kind, alpha)


def cutoff_function(r: np.ndarray, rc: float, kind: int = 1, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives d f / d r."""
    if kind not in KINDS:
        raise ValueError(f'cutoff_type {kind} is not one of 0-8')
    r = np.asarray(r, dtype=float)
    flat = np.ascontiguousarray(r).ravel()
    f, df = np.empty_like(flat), np.empty_like(flat)
    _cutoff_array(flat, float(rc), int(kind), float(alpha), f, df)
    return f.reshape(r.shape), df.reshape(r.shape)
