"""n2p2's Kalman filter weight updater (``kalman_type`` 0 standard, 1 fading memory).

One observation per update (task batch size 1): X = P h, A = h·X + 1/eta (standard) or
+ lambda (fading memory), K = X / A, P ← P - K Xᵀ (÷ lambda for fading memory) + q I,
w ← w + K ξ. Standard: eta grows by exp(etatau) per update up to etamax. Both: q decays by
exp(-qtau) per update down to qmin; fading memory: lambda ← nu·lambda + 1 - nu. qtau and
etatau are given per epoch and divided by the number of updates per epoch, as n2p2 does.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas


class KalmanFilter:
    def __init__(self, weights: np.ndarray, settings, updates_per_epoch: int):
        self.w = weights  # a view: updates land in the caller's array
        self.kind = settings.value('kalman_type', 0, int)
        if self.kind not in (0, 1):
            raise ValueError(f'kalman_type {self.kind} is not 0 (standard) or 1 (fading memory)')
        per = max(updates_per_epoch, 1)
        epsilon = settings.value('kalman_epsilon', 0.01)
        self.q = settings.value('kalman_q0', 0.01)
        self.qtau = settings.value('kalman_qtau', 2.302) / per
        self.qmin = settings.value('kalman_qmin', 1e-6)
        if self.kind == 0:
            self.eta = settings.value('kalman_eta', 0.01)
            if settings.has('kalman_etatau') and settings.has('kalman_etamax'):
                self.etatau = settings.value('kalman_etatau') / per
                self.etamax = settings.value('kalman_etamax')
            else:
                self.etatau, self.etamax = 1.0, self.eta
        else:
            self.lam = settings.value('kalman_lambda_short', 0.96)
            self.nu = settings.value('kalman_nue_short', 0.995)
        # P is symmetric: only its lower triangle is kept current (BLAS symv/syr, in place)
        self.P = np.asfortranarray(np.eye(len(weights)) / epsilon)
        self._diagonal = self.P.ravel(order='K')[:: len(weights) + 1]
        self.updates = 0

    def update(self, error: float, jacobian: np.ndarray) -> None:
        x = blas.dsymv(1.0, self.P, jacobian, lower=1)
        a = float(jacobian @ x)
        if self.kind == 0:
            if self.eta < self.etamax:
                self.eta *= np.exp(self.etatau)
            a += 1.0 / self.eta
        else:
            a += self.lam
        # P <- P - K X^T with K = X / a, symmetric rank-one
        updated = blas.dsyr(-1.0 / a, x, a=self.P, lower=1, overwrite_a=1)
        if updated is not self.P:  # BLAS worked on a copy: keep the diagonal view on the live matrix
            self.P, self._diagonal = updated, updated.ravel(order='K')[:: len(self.w) + 1]
        if self.kind == 1:
            self.P /= self.lam
        self._diagonal += self.q
        self.w += x * (error / a)
        if self.q > self.qmin:
            self.q *= np.exp(-self.qtau)
        if self.kind == 1:
            self.lam = self.nu * self.lam + 1.0 - self.nu
        self.updates += 1
