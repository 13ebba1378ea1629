"""n2p2's Kalman filter weight updater (``kalman_type`` 0 standard, 1 fading memory).

One observation per update (task batch size 1): X = P h, A = h·X + 1/eta (standard) or
+ lambda (fading memory), K = X / A, P ← P - K Xᵀ (÷ lambda for fading memory) + q I,
w ← w + K ξ. Standard: eta grows by exp(etatau) per update up to etamax. Both: q decays by
exp(-qtau) per update down to qmin; fading memory: lambda ← nu·lambda + 1 - nu. qtau and
etatau are given per epoch and divided by the number of updates per epoch, as n2p2 does.
"""

from __future__ import annotations

import numpy as np


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
        self.P = np.eye(len(weights)) / epsilon
        self.updates = 0

    def update(self, error: float, jacobian: np.ndarray) -> None:
        x = self.P @ jacobian
        a = float(jacobian @ x)
        if self.kind == 0:
            if self.eta < self.etamax:
                self.eta *= np.exp(self.etatau)
            a += 1.0 / self.eta
        else:
            a += self.lam
        k = x / a
        self.P -= np.outer(k, x)
        if self.kind == 1:
            self.P /= self.lam
        self.P[np.diag_indices_from(self.P)] += self.q
        self.w += k * error
        if self.q > self.qmin:
            self.q *= np.exp(-self.qtau)
        if self.kind == 1:
            self.lam = self.nu * self.lam + 1.0 - self.nu
        self.updates += 1
