"""n2p2's cutoff functions (``cutoff_type`` 0–8, inner fraction ``alpha``), vectorised.

x = (r - alpha·rc) / (rc - alpha·rc); f = 1 below alpha·rc and 0 from rc on.
0 hard, 1 cos, 2 tanh^3 (unnormalised), 3 tanh^3 (normalised), 4 exp, 5–8 polynomials 1–4.
"""

from __future__ import annotations

import numpy as np

_TANH_PRE = ((np.e + 1) / (np.e - 1)) ** 3


def cutoff_function(r: np.ndarray, rc: float, kind: int = 1, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives d f / d r."""
    r = np.asarray(r, dtype=float)
    f, df = np.zeros_like(r), np.zeros_like(r)
    inside = r < rc
    if kind in (2, 3):  # tanh forms ignore alpha
        t = np.tanh(1.0 - r[inside] / rc)
        pre = _TANH_PRE if kind == 3 else 1.0
        f[inside] = pre * t**3
        df[inside] = pre * 3.0 * t**2 * (t**2 - 1.0) / rc
        return f, df
    rci = alpha * rc
    width = rc - rci
    f[r < rci] = 1.0
    mid = inside & (r >= rci)
    x = (r[mid] - rci) / width
    if kind == 0:
        value, slope = np.ones_like(x), np.zeros_like(x)
    elif kind == 1:
        value, slope = 0.5 * (np.cos(np.pi * x) + 1.0), -0.5 * np.pi * np.sin(np.pi * x)
    elif kind == 4:
        tmp = 1.0 / (x * x - 1.0)
        value = np.e * np.exp(tmp)
        slope = -2.0 * np.e * x * tmp * tmp * np.exp(tmp)
    elif kind == 5:
        value, slope = (2.0 * x - 3.0) * x * x + 1.0, x * (6.0 * x - 6.0)
    elif kind == 6:
        value = ((15.0 - 6.0 * x) * x - 10.0) * x**3 + 1.0
        slope = x * x * ((60.0 - 30.0 * x) * x - 30.0)
    elif kind == 7:
        value = (x * (x * (20.0 * x - 70.0) + 84.0) - 35.0) * x**4 + 1.0
        slope = x**3 * (x * (x * (140.0 * x - 420.0) + 420.0) - 140.0)
    elif kind == 8:
        value = (x * (x * ((315.0 - 70.0 * x) * x - 540.0) + 420.0) - 126.0) * x**5 + 1.0
        slope = x**4 * (x * (x * ((2520.0 - 630.0 * x) * x - 3780.0) + 2520.0) - 630.0)
    else:
        raise ValueError(f'cutoff_type {kind} is not one of 0-8')
    f[mid], df[mid] = value, slope / width
    return f, df
