"""Small helpers shared by the format readers and writers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers

from ..checks import TrainingSetError


def symbols_to_numbers(symbols, where: str) -> np.ndarray:
    """Atomic numbers of ``symbols``; an unknown symbol is an error naming ``where``."""
    numbers = []
    for symbol in symbols:
        key = str(symbol).strip()
        if key not in atomic_numbers or key == 'X':
            raise TrainingSetError(f'{where}: unknown element symbol {symbol!r}')
        numbers.append(atomic_numbers[key])
    return np.array(numbers, dtype=np.int64)


def as_number(value, name: str, where: str) -> float:
    """``value`` (a number, or a string of one) as a float; booleans and other text are an
    error naming ``where`` and ``name``."""
    if isinstance(value, bool | np.bool_):
        raise TrainingSetError(f'{where}: {name} {value!r} is a boolean, not a number')
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TrainingSetError(f'{where}: {name} {value!r} is not a number') from None


def natural_key(path: Path):
    """Sort key that orders ``A15_2.json`` before ``A15_10.json``."""
    return [int(part) if part.isdigit() else part for part in re.split(r'(\d+)', path.name)]


def malformed(path, error: Exception) -> TrainingSetError:
    return TrainingSetError(f'{path}: malformed or truncated file ({type(error).__name__}: {error})')


def voigt_to_matrix(values, order: str) -> np.ndarray:
    """A symmetric 3x3 matrix from six components given in ``order`` (e.g. 'xx yy zz yz xz xy')."""
    index = {'x': 0, 'y': 1, 'z': 2}
    matrix = np.zeros((3, 3))
    for value, (a, b) in zip(values, order.split(), strict=True):
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = float(value)
    return matrix


def matrix_to_voigt(matrix, order: str) -> list[float]:
    index = {'x': 0, 'y': 1, 'z': 2}
    return [float(matrix[index[a], index[b]]) for a, b in order.split()]
