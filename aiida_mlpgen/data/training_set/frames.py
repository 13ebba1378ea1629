"""``Frames``: the in-memory form of a training set, plain numpy, no AiiDA.

Importers build a list of :class:`Frame` (one DFT structure with its labels), checks run
on that list, and :class:`Frames` packs it into flat arrays for storage. Units: eV, Å,
eV/Å, eV/Å³ (stress positive = tensile, ASE's convention).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io

import numpy as np

#: Split tags, stored as small integers.
SPLIT_CODES = {'unassigned': 0, 'train': 1, 'validation': 2}
SPLIT_NAMES = {code: name for name, code in SPLIT_CODES.items()}


@dataclasses.dataclass
class Frame:
    """One structure with its DFT results, as read from a file."""

    cell: np.ndarray  # (3, 3), rows are lattice vectors, Å
    numbers: np.ndarray  # (n,) atomic numbers
    positions: np.ndarray  # (n, 3) Å, Cartesian
    energy: float | None  # total energy, eV
    forces: np.ndarray | None  # (n, 3) eV/Å
    stress: np.ndarray | None = None  # (3, 3) eV/Å³, tension positive
    pbc: tuple = (True, True, True)
    group: str = 'default'
    weight: float = 1.0
    split: str = 'unassigned'
    source: str = ''  # file (and index) it came from, for messages and provenance
    dft: dict = dataclasses.field(default_factory=dict)  # DFT settings found in the file

    @property
    def label(self) -> str:
        return self.source or '<in memory>'

    @classmethod
    def from_atoms(cls, atoms, **labels) -> Frame:
        """A frame with the cell, periodicity, species and positions of ASE ``atoms``, and ``labels``."""
        return cls(
            cell=np.asarray(atoms.cell[:], float),
            pbc=tuple(bool(p) for p in atoms.pbc),
            numbers=atoms.numbers.astype(np.int64),
            positions=atoms.positions.copy(),
            **labels,
        )


_ARRAY_KEYS = (
    'cells',
    'pbc',
    'n_atoms',
    'numbers',
    'positions',
    'energies',
    'forces',
    'stress',
    'has_stress',
    'groups',
    'weights',
    'split',
    'sources',
)


@dataclasses.dataclass
class Frames:
    """A whole training set as flat arrays (atoms of all structures concatenated)."""

    cells: np.ndarray  # (N, 3, 3)
    pbc: np.ndarray  # (N, 3) bool
    n_atoms: np.ndarray  # (N,) int
    numbers: np.ndarray  # (M,) int
    positions: np.ndarray  # (M, 3)
    energies: np.ndarray  # (N,)
    forces: np.ndarray  # (M, 3); NaN when the set has no forces
    stress: np.ndarray  # (N, 3, 3); NaN where has_stress is False
    has_stress: np.ndarray  # (N,) bool
    groups: np.ndarray  # (N,) str
    weights: np.ndarray  # (N,) float
    split: np.ndarray  # (N,) int8, see SPLIT_CODES
    sources: np.ndarray  # (N,) str

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_frames(cls, frames: list[Frame]) -> Frames:
        """Pack checked frames into arrays (run :func:`checks.check_frames` first)."""
        n = len(frames)
        has_forces = all(f.forces is not None for f in frames)
        forces = [np.asarray(f.forces, float) if has_forces else np.full((len(f.numbers), 3), np.nan) for f in frames]
        stress = np.full((n, 3, 3), np.nan)
        has_stress = np.zeros(n, bool)
        for i, frame in enumerate(frames):
            if frame.stress is not None:
                stress[i] = frame.stress
                has_stress[i] = True
        return cls(
            cells=np.array([f.cell for f in frames], float).reshape(n, 3, 3),
            pbc=np.array([f.pbc for f in frames], bool).reshape(n, 3),
            n_atoms=np.array([len(f.numbers) for f in frames], np.int64),
            numbers=np.concatenate([np.asarray(f.numbers, np.int64) for f in frames]),
            positions=np.concatenate([np.asarray(f.positions, float) for f in frames]).reshape(-1, 3),
            energies=np.array([f.energy for f in frames], float),
            forces=np.concatenate(forces).reshape(-1, 3),
            stress=stress,
            has_stress=has_stress,
            groups=np.array([str(f.group) for f in frames], dtype=str),
            weights=np.array([f.weight for f in frames], float),
            split=np.array([SPLIT_CODES[f.split] for f in frames], np.int8),
            sources=np.array([str(f.source) for f in frames], dtype=str),
        )

    def to_frames(self) -> list[Frame]:
        """Unpack into a list of :class:`Frame` (DFT settings are kept on the node, not here)."""
        out = []
        for i, (start, stop) in enumerate(self.atom_slices()):
            out.append(
                Frame(
                    cell=self.cells[i].copy(),
                    numbers=self.numbers[start:stop].copy(),
                    positions=self.positions[start:stop].copy(),
                    energy=float(self.energies[i]),
                    forces=self.forces[start:stop].copy() if self.has_forces else None,
                    stress=self.stress[i].copy() if self.has_stress[i] else None,
                    pbc=tuple(bool(x) for x in self.pbc[i]),
                    group=str(self.groups[i]),
                    weight=float(self.weights[i]),
                    split=SPLIT_NAMES[int(self.split[i])],
                    source=str(self.sources[i]),
                )
            )
        return out

    # --- (de)serialisation --------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """One compressed ``.npz`` file, readable with ``allow_pickle=False``."""
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **{key: getattr(self, key) for key in _ARRAY_KEYS})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, content: bytes) -> Frames:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            return cls(**{key: archive[key] for key in _ARRAY_KEYS})

    # --- views --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.n_atoms)

    @property
    def has_forces(self) -> bool:
        return bool(len(self.forces)) and not np.isnan(self.forces).all()

    def atom_slices(self) -> list[tuple[int, int]]:
        ends = np.cumsum(self.n_atoms)
        starts = ends - self.n_atoms
        return list(zip(starts.tolist(), ends.tolist(), strict=True))

    def volumes(self) -> np.ndarray:
        return np.abs(np.linalg.det(self.cells))

    def energies_per_atom(self) -> np.ndarray:
        return self.energies / self.n_atoms

    def subset(self, indices) -> Frames:
        """A new Frames holding the structures ``indices`` in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        slices = self.atom_slices()
        atom_index = np.concatenate([np.arange(*slices[i]) for i in indices]) if len(indices) else np.zeros(0, np.int64)
        return Frames(
            cells=self.cells[indices],
            pbc=self.pbc[indices],
            n_atoms=self.n_atoms[indices],
            numbers=self.numbers[atom_index],
            positions=self.positions[atom_index],
            energies=self.energies[indices],
            forces=self.forces[atom_index],
            stress=self.stress[indices],
            has_stress=self.has_stress[indices],
            groups=self.groups[indices],
            weights=self.weights[indices],
            split=self.split[indices],
            sources=self.sources[indices],
        )

    @classmethod
    def concatenate(cls, parts: list[Frames]) -> Frames:
        return cls(**{key: np.concatenate([getattr(p, key) for p in parts]) for key in _ARRAY_KEYS})

    def replace(self, **changes) -> Frames:
        return dataclasses.replace(self, **changes)

    # --- hashing ------------------------------------------------------------------------
    def structure_hashes(self, include_labels: bool = True) -> list[str]:
        """One sha256 per structure, on values rounded to what every exporter preserves.

        With ``include_labels`` the energy, forces, stress and group count too; without,
        only the atoms and cell (used to find duplicated structures).
        """
        hashes = []
        for i, (start, stop) in enumerate(self.atom_slices()):
            digest = _atoms_digest(self.numbers[start:stop], self.pbc[i], self.cells[i], self.positions[start:stop])
            if include_labels:
                digest.update(_rounded(self.energies[i : i + 1], 8).tobytes())
                if self.has_forces:
                    digest.update(_rounded(self.forces[start:stop], 8).tobytes())
                if self.has_stress[i]:
                    digest.update(_rounded(self.stress[i], 10).tobytes())
                digest.update(str(self.groups[i]).encode())
            hashes.append(digest.hexdigest())
        return hashes

    def content_hash(self) -> str:
        """Order-independent hash of the structures, their labels and groups.

        Weights, split tags and source names are annotations and do not count, so a set
        exported and re-imported in any supported format hashes the same.
        """
        digest = hashlib.sha256()
        for item in sorted(self.structure_hashes()):
            digest.update(item.encode())
        return digest.hexdigest()


def _atoms_digest(numbers, pbc, cell, positions):
    digest = hashlib.sha256()
    for array in (
        np.asarray(numbers).astype(np.int64),
        np.asarray(pbc).astype(np.int8),
        _rounded(cell, 8),
        _rounded(positions, 8),
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest


def atoms_hash(atoms) -> str:
    """The hash :meth:`Frames.structure_hashes` gives ``atoms`` without labels."""
    return _atoms_digest(atoms.numbers, atoms.pbc, atoms.cell[:], atoms.positions).hexdigest()


def _rounded(values: np.ndarray, decimals: int) -> np.ndarray:
    # ``+ 0.0`` turns -0.0 into 0.0 so that the bytes do not depend on the sign of zero.
    return np.round(np.asarray(values, dtype=float), decimals) + 0.0


def choose_validation(groups, unassigned, fraction: float, seed: int) -> np.ndarray:
    """Indices of the ``unassigned`` structures to tag validation: ``round(fraction * n)`` of
    each group, drawn with ``seed`` (stratified, reproducible)."""
    rng = np.random.default_rng(int(seed))
    groups, unassigned = np.asarray(groups), np.asarray(unassigned, bool)
    chosen = []
    for group in np.unique(groups):
        members = np.flatnonzero((groups == group) & unassigned)
        chosen.extend(rng.permutation(members)[: int(round(fraction * len(members)))].tolist())
    return np.array(sorted(chosen), dtype=np.int64)


def held_out_count(group_counts: dict, fraction: float) -> int:
    """How many structures :func:`choose_validation` tags validation in a set without a split
    ({group: structures}), from the counts alone."""
    return sum(int(round(fraction * count)) for count in group_counts.values())


def assign_folds(groups, folds: int, seed: int) -> np.ndarray:
    """The fold (0 .. ``folds`` - 1) of each structure for k-fold cross-validation: each group's
    structures are shuffled with ``seed`` and dealt round-robin, so every fold sees every group.
    Raises ValueError when a group has fewer structures than folds."""
    rng = np.random.default_rng(int(seed))
    groups = np.asarray(groups)
    names, counts = np.unique(groups, return_counts=True)
    problem = fold_problem(dict(zip(names.tolist(), counts.tolist(), strict=True)), folds)
    if problem:
        raise ValueError(problem)
    assignment = np.empty(len(groups), dtype=np.int64)
    offset = 0
    for group in names:
        members = rng.permutation(np.flatnonzero(groups == group))
        assignment[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)
    return assignment


def fold_problem(group_counts: dict, folds: int) -> str | None:
    """Why ``folds``-fold cross-validation cannot deal these groups ({group: structures}), or None."""
    for group, count in sorted(group_counts.items()):
        if count < folds:
            return f'group {str(group)!r} has {count} structure(s), fewer than the {folds} folds'
    return None
