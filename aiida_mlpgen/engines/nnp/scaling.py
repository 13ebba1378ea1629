"""``scaling.data`` (min, max, mean, sigma of every symmetry function), histograms, pruning.

Rows: element index (1-based, elements by atomic number), function index (1-based, n2p2's
sorted order), min, max, mean, sample standard deviation — n2p2's nnp-scaling columns.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers

from .settings import NnpInputError

_HEADER = (
    '#' * 80 + '\n# Symmetry function scaling data.\n' + '#' * 80 + '\n'
    '# Col  Name     Description\n' + '#' * 80 + '\n'
    '# 1    e_index  Element index.\n# 2    sf_index Symmetry function index.\n'
    '# 3    sf_min   Symmetry function minimum.\n# 4    sf_max   Symmetry function maximum.\n'
    '# 5    sf_mean  Symmetry function mean.\n# 6    sf_sigma Symmetry function sigma.\n' + '#' * 80 + '\n'
)


@dataclasses.dataclass
class Statistics:
    """Per element: arrays (S,) of min, max, mean, sigma."""

    minimum: dict[str, np.ndarray]
    maximum: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]
    sigma: dict[str, np.ndarray]

    @classmethod
    def from_values(cls, values: dict[str, list[np.ndarray]]) -> Statistics:
        stats = cls({}, {}, {}, {})
        for element, parts in values.items():
            g = np.concatenate(parts) if parts else np.zeros((0, 0))
            if len(g) == 0:
                raise NnpInputError(f'no {element} atoms in the data: cannot compute its scaling')
            stats.minimum[element], stats.maximum[element] = g.min(axis=0), g.max(axis=0)
            stats.mean[element] = g.mean(axis=0)
            stats.sigma[element] = g.std(axis=0, ddof=1) if len(g) > 1 else np.zeros(g.shape[1])
        return stats

    def write(self, path) -> None:
        rows = []
        for index, element in enumerate(_by_z(self.minimum), 1):
            tables = (self.minimum[element], self.maximum[element], self.mean[element], self.sigma[element])
            columns = zip(*tables, strict=True)
            for s, (lo, hi, mean, sigma) in enumerate(columns, 1):
                rows.append(f'{index:10d} {s:10d} {lo:24.16E} {hi:24.16E} {mean:24.16E} {sigma:24.16E}')
        Path(path).write_text(_HEADER + '\n'.join(rows) + '\n')

    @classmethod
    def read(cls, path, settings) -> Statistics:
        path = Path(path)
        if not path.is_file():
            raise NnpInputError(f'{path}: no such scaling file (run the scaling step first)')
        elements = settings.elements
        rows: dict[int, list] = {}
        for number, line in enumerate(path.read_text(errors='replace').splitlines(), 1):
            words = line.split('#', 1)[0].split()
            if not words:
                continue
            if len(words) < 6:
                raise NnpInputError(f'{path}:{number}: expected 6 columns, found {len(words)}')
            try:
                element, index = int(words[0]), int(words[1])
                numbers = [float(w) for w in words[2:6]]
            except ValueError as error:
                raise NnpInputError(f'{path}:{number}: {error}') from error
            if not 1 <= element <= len(elements):
                raise NnpInputError(f'{path}:{number}: element index {element}, input.nn has {len(elements)} elements')
            rows.setdefault(element, []).append((index, numbers))
        stats = cls({}, {}, {}, {})
        for position, element in enumerate(elements, 1):
            expected = len(settings.functions_of(element))
            found = sorted(rows.get(position, []))
            if len(found) != expected or [i for i, _ in found] != list(range(1, expected + 1)):
                raise NnpInputError(
                    f'{path}: {len(found)} scaling rows for {element} but input.nn defines {expected} symmetry '
                    f'functions: the scaling data belong to other symmetry functions (rerun the scaling step)'
                )
            table = np.array([values for _, values in found])
            if not np.isfinite(table).all():
                raise NnpInputError(f'{path}: non-finite scaling values for {element}')
            stats.minimum[element], stats.maximum[element], stats.mean[element], stats.sigma[element] = table.T
        return stats

    def histograms(self, values: dict[str, list[np.ndarray]], bins: int, folder) -> list[Path]:
        """n2p2's ``sf.ZZZ.SSSS.histo`` files: bins + 1 bins from min to max + one bin width."""
        written = []
        for element, parts in values.items():
            g = np.concatenate(parts)
            for s in range(g.shape[1]):
                lo, hi = self.minimum[element][s], self.maximum[element][s]
                if not lo < hi:
                    continue
                hi = hi + (hi - lo) / bins
                counts, edges = np.histogram(g[:, s], bins=bins + 1, range=(lo, hi))
                path = Path(folder) / f'sf.{atomic_numbers[element]:03d}.{s + 1:04d}.histo'
                head = (
                    f'#SFINFO min         {self.minimum[element][s]:15.8E}\n'
                    f'#SFINFO max         {self.maximum[element][s]:15.8E}\n'
                    f'#SFINFO mean        {self.mean[element][s]:15.8E}\n'
                    f'#SFINFO sigma       {self.sigma[element][s]:15.8E}\n'
                    '# symfunc_l symfunc_r hist\n'
                )
                rows = zip(edges[:-1], edges[1:], counts, strict=True)
                body = '\n'.join(f'{a:16.8E} {b:16.8E} {c:16.8E}' for a, b, c in rows)
                path.write_text(head + body + '\n')
                written.append(path)
        return written


def _by_z(table: dict) -> list[str]:
    return sorted(table, key=lambda e: atomic_numbers[e])


@dataclasses.dataclass
class Scaler:
    """G_scaled = offset + factor * G (per element, per function), from n2p2's scaling modes."""

    offset: dict[str, np.ndarray]
    factor: dict[str, np.ndarray]

    @classmethod
    def create(cls, stats: Statistics, mode: str, smin: float, smax: float) -> Scaler:
        offset, factor = {}, {}
        for element in stats.minimum:
            lo, hi, mean, sigma = (t[element] for t in (stats.minimum, stats.maximum, stats.mean, stats.sigma))
            span = np.where(hi > lo, hi - lo, np.inf)  # a constant function carries no information
            if mode == 'none':
                f, ref, s0 = np.ones_like(lo), np.zeros_like(lo), 0.0
            elif mode == 'scale':
                f, ref, s0 = (smax - smin) / span, lo, smin
            elif mode == 'center':
                f, ref, s0 = np.ones_like(lo), mean, 0.0
            elif mode == 'scalecenter':
                f, ref, s0 = (smax - smin) / span, mean, smin
            elif mode == 'sigma':
                f, ref, s0 = (smax - smin) / np.where(sigma > 0, sigma, np.inf), mean, smin
            else:
                raise ValueError(f'unknown scaling mode {mode!r}')
            factor[element], offset[element] = f, s0 - f * ref
        return cls(offset, factor)

    def __call__(self, element: str, values: np.ndarray) -> np.ndarray:
        return self.offset[element] + self.factor[element] * values


def prune_range(settings, stats: Statistics, threshold: float) -> set[int]:
    """input.nn line numbers of functions whose max - min is below the threshold."""
    lines = set()
    for element in settings.elements:
        spans = stats.maximum[element] - stats.minimum[element]
        for sf, span in zip(settings.functions_of(element), spans, strict=True):
            if abs(span) < threshold:
                lines.add(sf.line)
    return lines
