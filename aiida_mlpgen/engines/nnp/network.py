"""The per-element feed-forward networks and n2p2's ``weights.ZZZ.data`` files.

Connection order (n2p2's): for each layer l ≥ 1, the weights from every neuron j of layer
l-1 to every neuron k of layer l (j outer, k inner), then the biases of layer l. With
``normalize_nodes`` the pre-activation is divided by the previous layer's size.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .settings import NnpInputError

torch.set_default_dtype(torch.float64)

_ACTIVATIONS = {
    'l': lambda x: x,
    't': torch.tanh,
    's': torch.sigmoid,
    'p': torch.nn.functional.softplus,
    'r': torch.relu,
    'g': lambda x: torch.exp(-0.5 * x * x),
    'c': torch.cos,
    'S': lambda x: 1.0 - torch.sigmoid(x),
    'e': lambda x: torch.exp(-x),
    'h': lambda x: x * x,
}


class Network:
    def __init__(self, layout: list[int], activations: list[str], normalize: bool = False):
        if len(activations) != len(layout) - 1:
            raise NnpInputError(f'{len(layout) - 1} layers need as many activations, got {activations}')
        self.layout, self.activations, self.normalize = list(layout), list(activations), normalize
        self.slices = []
        start = 0
        for n_prev, n in zip(layout[:-1], layout[1:], strict=True):
            self.slices.append((start, start + n_prev * n, start + n_prev * n + n))
            start += n_prev * n + n
        self.n_weights = start

    def forward(self, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Outputs (n,) for inputs (n, S); ``w`` is this network's flat connection vector."""
        for (start, middle, end), act, n_prev, n in zip(
            self.slices, self.activations, self.layout[:-1], self.layout[1:], strict=True
        ):
            x = x @ w[start:middle].reshape(n_prev, n) + w[middle:end]
            if self.normalize:
                x = x / n_prev
            x = _ACTIVATIONS[act](x)
        return x[:, 0]

    def initial_weights(self, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
        """n2p2's default: uniform in [low, high), tanh layers scaled à la Glorot–Bengio, biases 0."""
        w = rng.uniform(low, high, self.n_weights)
        layers = zip(self.slices, self.activations, self.layout[:-1], self.layout[1:], strict=True)
        for (start, middle, end), act, n_prev, n in layers:
            if act == 't':
                w[start:middle] *= math.sqrt(6.0 / (n_prev + n))
            w[middle:end] = 0.0
        return w

    # ---- files ---------------------------------------------------------------------------
    def read(self, path) -> np.ndarray:
        path = Path(path)
        if not path.is_file():
            raise NnpInputError(f'{path}: no such weights file')
        values = []
        for number, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            try:
                values.append(float(words[0]))
            except ValueError as error:
                raise NnpInputError(f'{path}:{number}: {error}') from error
        if len(values) != self.n_weights:
            raise NnpInputError(
                f'{path}: {len(values)} connections, but the network {"-".join(map(str, self.layout))} '
                f'needs {self.n_weights}'
            )
        w = np.array(values)
        if not np.isfinite(w).all():
            bad = np.flatnonzero(~np.isfinite(w))[:5] + 1
            raise NnpInputError(f'{path}: non-finite weights (NaN/inf) at connection(s) {bad.tolist()}')
        return w

    def write(self, path, w: np.ndarray) -> None:
        lines = [
            '#' * 80,
            '# Neural network connection values (weights and biases).',
            '#' * 80,
            '# Col  Name       Description',
            '#' * 80,
            '# 1    connection Neural network connection value.',
            '# 2    t          Connection type (a = weight, b = bias).',
            '# 3    index      Index enumerating weights.',
            '# 4    l_s        Starting point layer (end point layer for biases).',
            '# 5    n_s        Starting point neuron in starting layer (end point neuron for biases).',
            '# 6    l_e        End point layer.',
            '# 7    n_e        End point neuron in end layer.',
            '#' * 80,
        ]
        count = 0
        for layer, (n_prev, n) in enumerate(zip(self.layout[:-1], self.layout[1:], strict=True), 1):
            for j in range(n_prev):
                for k in range(n):
                    lines.append(f'{w[count]:24.16E} a {count + 1:9d} {layer - 1:5d} {j + 1:5d} {layer:5d} {k + 1:5d}')
                    count += 1
            for k in range(n):
                lines.append(f'{w[count]:24.16E} b {count + 1:9d} {layer:5d} {k + 1:5d}')
                count += 1
        Path(path).write_text('\n'.join(lines) + '\n')
