"""Which explored frames to label: those above the uncertainty threshold, thinned for diversity.

Frames of blown-up runs (uncertainty ``inf``) come first. The other uncertain frames are
grouped into as many clusters as frames are wanted, in a structural fingerprint (per element
pair, the histogram of neighbour distances up to the cutoff, per atom; k-means started from
farthest points), and the frame nearest each cluster's centre is taken: the chosen frames
cover the uncertain region as it is populated, rather than its outskirts (farthest-point
sampling alone picks the most unusual frames, which teaches a potential little about the
typical ones). :func:`select_at_random` is the baseline that ignores the uncertainty.
"""

from __future__ import annotations

import math

import numpy as np


def fingerprint(atoms, elements, cutoff: float, bins: int = 24) -> np.ndarray:
    from ase.neighborlist import neighbor_list

    first, second, distance = neighbor_list('ijd', atoms, cutoff)
    symbols = np.asarray(atoms.get_chemical_symbols())
    parts = []
    edges = np.linspace(0.0, cutoff, bins + 1)
    for a_index, a in enumerate(elements):
        for b in elements[a_index:]:
            mask = (symbols[first] == a) & (symbols[second] == b)
            parts.append(np.histogram(distance[mask], edges)[0] / max(len(atoms), 1))
    return np.concatenate(parts)


def farthest_points(vectors: np.ndarray, count: int, first: int = 0, chosen=()) -> list[int]:
    """``count`` indices of rows of ``vectors``: ``first`` (unless ``chosen`` already holds
    some), then each time the row farthest from all chosen ones."""
    chosen = list(chosen) or [first]
    distance = np.min(np.linalg.norm(vectors[:, None] - vectors[chosen][None], axis=2), axis=1)
    while len(chosen) < min(count, len(vectors)):
        nxt = int(np.argmax(distance))
        if distance[nxt] <= 0 and len(chosen) >= 1:
            break  # what is left duplicates what is chosen
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(vectors - vectors[nxt], axis=1))
    return chosen


def _check_count(max_count: int) -> None:
    if max_count < 0:
        raise ValueError(f'at most how many frames per round: must be >= 0, got {max_count}')


def select(frames, threshold: float, max_count: int, elements, cutoff: float) -> tuple[list[int], float]:
    """Indices of the frames to label and the fraction of frames above ``threshold``
    (``max_count`` 0: the fraction only, nothing chosen)."""
    if threshold < 0:
        raise ValueError(f'the uncertainty threshold must be >= 0, got {threshold}')
    _check_count(max_count)
    if not frames:
        return [], 0.0
    values = np.array([f.max_uncertainty for f in frames])
    above = np.flatnonzero(values > threshold)
    fraction = len(above) / len(frames)
    if len(above) == 0 or max_count == 0:
        return [], fraction
    blown = [int(i) for i in above if math.isinf(values[i])][:max_count]
    if len(blown) >= max_count:
        return blown, fraction
    rest = np.array([i for i in above if not math.isinf(values[i])], int)
    if len(rest) == 0:
        return blown, fraction
    vectors = np.array([fingerprint(frames[i].atoms, elements, cutoff) for i in rest])
    picked = representatives(vectors, values[rest], max_count - len(blown))
    return blown + [int(rest[i]) for i in picked], fraction


def representatives(vectors: np.ndarray, values: np.ndarray, count: int, iterations: int = 100) -> list[int]:
    """``count`` rows of ``vectors``, one per k-means cluster (started from farthest points,
    the first the row of largest ``values``): the row nearest its cluster's centre; clusters
    ordered by their largest value."""
    if count >= len(vectors):
        return [int(i) for i in np.argsort(-values, kind='stable')]
    centres = vectors[farthest_points(vectors, count, first=int(np.argmax(values)))]
    count = len(centres)  # fewer when frames repeat one another
    for _ in range(iterations):
        labels = np.argmin(np.linalg.norm(vectors[:, None] - centres[None], axis=2), axis=1)
        moved = np.array(
            [vectors[labels == c].mean(axis=0) if (labels == c).any() else centres[c] for c in range(count)]
        )
        if np.allclose(moved, centres):
            break
        centres = moved
    labels = np.argmin(np.linalg.norm(vectors[:, None] - centres[None], axis=2), axis=1)
    picks = []
    for c in range(count):
        members = np.flatnonzero(labels == c)
        if len(members):
            distance = np.linalg.norm(vectors[members] - centres[c], axis=1)
            tied = members[distance <= distance.min() + 1e-12]  # equals: the most uncertain of them
            nearest = tied[np.argmax(values[tied])]
            picks.append((float(values[members].max()), int(nearest)))
    return [index for _, index in sorted(picks, key=lambda item: -item[0])]


def select_at_random(frames, threshold: float, max_count: int, seed: int) -> tuple[list[int], float]:
    """The baseline: ``max_count`` frames drawn at random (uncertainty ignored), and the
    fraction of frames above ``threshold`` as :func:`select` reports it."""
    _check_count(max_count)
    if not frames:
        return [], 0.0
    values = np.array([f.max_uncertainty for f in frames])
    fraction = float(np.mean(values > threshold))
    if max_count == 0:
        return [], fraction
    sane = [i for i, f in enumerate(frames) if f.status == 'ok']
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(sane), size=min(max_count, len(sane)), replace=False)
    return sorted(int(sane[i]) for i in chosen), fraction
