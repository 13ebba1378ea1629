"""Checks that a list of frames is usable DFT training data, before anything is stored.

Each failure raises :class:`TrainingSetError` naming the file and the structure. Two checks
can be relaxed by an explicit flag, which turns the error into a warning: duplicated
structures and DFT settings that differ between structures (SPEC.md: all DFT calculations
of a set share one set of parameters).
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
from ase.data import chemical_symbols
from ase.neighborlist import primitive_neighbor_list

from .frames import SPLIT_CODES, Frame, Frames

#: Closest distance two atoms may have, Å.
MIN_DISTANCE = 0.5
#: Smallest accepted cell volume per atom of a periodic cell, Å³.
MIN_VOLUME_PER_ATOM = 1e-3
#: Largest magnitudes accepted at import (beyond them a value is a unit or parsing error, not
#: physics): energy per atom (eV; all-electron totals of heavy elements reach ~1e6), force
#: component (eV/Å), stress component (eV/Å³, ~1.6e6 GPa). ``allow_extreme_values`` lifts them.
SANITY_BOUNDS = {'energy per atom': 1e7, 'force': 1e4, 'stress': 1e4}
#: |S - Sᵀ| above this (eV/Å³) makes a stress asymmetric: a Cauchy stress is symmetric.
STRESS_SYMMETRY = 1e-6
#: A group name every exporter writes and reads back: a FitSNAP folder, an extxyz/n2p2 comment
#: word and FitSNAP [GROUPS] key, a pacemaker column value: a letter or digit, then letters,
#: digits and _ . + -, at most 100 characters.
GROUP_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.+\-]{0,99}')
#: DFT settings compared across structures, with the tolerance for numbers.
DFT_KEYS = {'code': None, 'cutoff_ev': 1e-3, 'kspacing': 1e-4, 'functional': None, 'pseudopotentials': None}


class TrainingSetError(ValueError):
    """Training data that cannot be used; the message names the file and structure."""


class TrainingSetWarning(UserWarning):
    """Accepted, but worth the user's attention (duplicates, mixed DFT settings)."""


def check_frames(
    frames: list[Frame],
    allow_duplicates: bool = False,
    allow_inconsistent_dft: bool = False,
    energy_only: bool = False,
    molecular: bool = False,
    allow_extreme_values: bool = False,
) -> None:
    """Raise :class:`TrainingSetError` for the first unusable frame; warn for allowed issues.

    Structures without forces are refused unless ``energy_only`` (a set of energies only, whose
    fits must leave forces out), structures that are not periodic unless ``molecular``."""
    if not frames:
        raise TrainingSetError('the training set is empty: no structure was found')
    for index, frame in enumerate(frames):
        check_frame(frame, index, bounds=None if allow_extreme_values else SANITY_BOUNDS)
        if frame.forces is None and not energy_only:
            raise TrainingSetError(
                f'{frame.label}: structure has no forces; a set of energies only needs energy_only=True '
                '(--energy-only), and its fits must leave forces out'
            )
        if not any(frame.pbc) and not molecular:
            raise TrainingSetError(
                f'{frame.label}: structure is not periodic; training structures are periodic cells '
                '(molecules and clusters need molecular=True, --molecular)'
            )
    with_forces = [f.forces is not None for f in frames]
    if any(with_forces) and not all(with_forces):
        bad = frames[with_forces.index(False)]
        raise TrainingSetError(f'{bad.label}: structure has no forces while other structures have them')
    check_duplicates(frames, allow_duplicates)
    check_dft_consistency(frames, allow_inconsistent_dft)


def check_frame(frame: Frame, index: int = 0, bounds: dict | None = SANITY_BOUNDS) -> None:
    """Check one frame's shapes, values (numbers, not booleans or text; within ``bounds``),
    elements, cell and interatomic distances."""
    where = frame.label

    def fail(message):
        raise TrainingSetError(f'{where}: {message}')

    numbers = np.asarray(frame.numbers)
    n = len(numbers)
    if n == 0:
        fail('structure has no atoms')
    if numbers.dtype.kind not in 'iu' or (numbers < 1).any() or (numbers >= len(chemical_symbols)).any():
        fail(f'unknown element (atomic numbers {sorted(set(numbers.tolist()))})')
    positions = _array(frame.positions, (n, 3), 'positions', fail)
    cell = _array(frame.cell, (3, 3), 'cell', fail)
    if frame.energy is None:
        fail('missing energy')
    if isinstance(frame.energy, bool | np.bool_ | str | bytes):
        fail(f'energy {frame.energy!r} is not a number')
    try:
        energy = float(frame.energy)
    except (TypeError, ValueError):
        fail(f'energy {frame.energy!r} is not a number')
    if not math.isfinite(energy):
        fail(f'energy is {energy} (NaN or infinite)')
    forces = _array(frame.forces, (n, 3), 'forces', fail) if frame.forces is not None else None
    stress = _array(frame.stress, (3, 3), 'stress', fail) if frame.stress is not None else None
    if stress is not None and np.abs(stress - stress.T).max() > STRESS_SYMMETRY:
        fail(f'stress is not symmetric (largest |S - Sᵀ| {np.abs(stress - stress.T).max():.3g} eV/Å³)')
    if bounds:
        for name, value in (
            ('energy per atom', abs(energy) / n),
            ('force', 0.0 if forces is None else np.abs(forces).max()),
            ('stress', 0.0 if stress is None else np.abs(stress).max()),
        ):
            if value > bounds[name]:
                fail(
                    f'{name} {value:.3g} beyond {bounds[name]:g} (wrong units?); '
                    'pass allow_extreme_values / --allow-extreme-values if it is real'
                )
    if frame.split not in SPLIT_CODES:
        fail(f'unknown split tag {frame.split!r}; use one of {sorted(SPLIT_CODES)}')
    if not isinstance(frame.group, str) or not GROUP_NAME.fullmatch(frame.group):
        fail(
            f'group name {str(frame.group)[:40]!r}{"..." if len(str(frame.group)) > 40 else ""} cannot be written by '
            'every export format: use up to 100 letters, digits and _ . + - (starting with a letter or digit)'
        )
    if isinstance(frame.weight, bool | np.bool_ | str | bytes):
        fail(f'weight {frame.weight!r} is not a number')
    if not (math.isfinite(frame.weight) and frame.weight >= 0):
        fail(f'weight {frame.weight} must be a finite number >= 0')
    if any(frame.pbc):
        if not all(frame.pbc):
            fail(f'mixed periodicity {tuple(frame.pbc)}: training structures are full periodic cells')
        volume = float(np.linalg.det(cell))
        if abs(volume) < MIN_VOLUME_PER_ATOM * n:
            fail(f'zero-volume (degenerate) cell, volume {volume:.3g} Å³')
        if volume < 0:
            fail(f'left-handed cell (negative determinant {volume:.3g} Å³); swap two lattice vectors')
    _check_distances(positions, cell, frame.pbc, fail)


def _array(values, shape, name, fail) -> np.ndarray:
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError):
        fail(f'{name} are not numbers')
    if raw.dtype.kind not in 'fiu':
        fail(f'{name} are not numbers (found {"booleans" if raw.dtype.kind == "b" else raw.dtype})')
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        fail(f'{name} are not numbers')
    if array.shape != shape:
        fail(f'{name} have shape {array.shape}, expected {shape}')
    if not np.isfinite(array).all():
        fail(f'{name} contain NaN or infinite values')
    return array


def _check_distances(positions, cell, pbc, fail) -> None:
    if len(positions) == 1 and not any(pbc):
        return
    i, j, d = primitive_neighbor_list('ijd', pbc, cell, positions, MIN_DISTANCE, self_interaction=False)
    if len(d):
        k = int(np.argmin(d))
        fail(f'atoms {i[k]} and {j[k]} are {d[k]:.3f} Å apart, closer than {MIN_DISTANCE} Å')


def check_duplicates(frames: list[Frame], allow: bool) -> None:
    packed = Frames.from_frames(frames)
    seen: dict[str, int] = {}
    for index, digest in enumerate(packed.structure_hashes(include_labels=False)):
        if digest in seen:
            first = frames[seen[digest]].label
            message = f'{frames[index].label}: duplicated structure, identical to {first}'
            if not allow:
                raise TrainingSetError(message + ' (pass allow_duplicates / --allow-duplicates to keep both)')
            warnings.warn(message, TrainingSetWarning, stacklevel=3)
        else:
            seen[digest] = index


def check_dft_consistency(frames: list[Frame], allow: bool) -> dict:
    """Settings every frame that reports them agrees on; raise (or warn) where they differ."""
    agreed: dict = {}
    origin: dict = {}
    for frame in frames:
        # Pseudopotentials are compared element by element: a structure may hold a subset.
        settings = {k: v for k, v in frame.dft.items() if k != 'pseudopotentials'}
        settings.update({f'pseudopotential {el}': v for el, v in (frame.dft.get('pseudopotentials') or {}).items()})
        for key, value in settings.items():
            if value is None or (key not in DFT_KEYS and not key.startswith('pseudopotential ')):
                continue
            if key not in agreed:
                agreed[key], origin[key] = value, frame.label
                continue
            if not _same(agreed[key], value, DFT_KEYS.get(key)):
                message = (
                    f'{frame.label}: DFT setting {key!r} = {value!r} differs from {agreed[key]!r} '
                    f'in {origin[key]}; all structures of a training set must share one set of DFT parameters'
                )
                if not allow:
                    raise TrainingSetError(message + ' (pass allow_inconsistent_dft / --allow-inconsistent-dft)')
                warnings.warn(message, TrainingSetWarning, stacklevel=3)
    pseudos = {k.split(' ', 1)[1]: agreed.pop(k) for k in list(agreed) if k.startswith('pseudopotential ')}
    if pseudos:
        agreed['pseudopotentials'] = dict(sorted(pseudos.items()))
    return agreed


def consistent_dft_settings(frames: list[Frame]) -> dict:
    """The DFT settings shared by all frames (first value where they were allowed to differ)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', TrainingSetWarning)
        return check_dft_consistency(frames, allow=True)


def _same(a, b, tolerance) -> bool:
    if tolerance is not None:
        return abs(float(a) - float(b)) <= tolerance * max(1.0, abs(float(a)))
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().upper() == b.strip().upper()
    return a == b
