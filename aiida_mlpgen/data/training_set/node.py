"""``TrainingSetData``: an immutable AiiDA node holding a checked DFT training set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from aiida.orm import Data
from ase.data import chemical_symbols

from . import formats
from .checks import TrainingSetError, check_frames, consistent_dft_settings
from .frames import SPLIT_CODES, Frame, Frames

__all__ = ('TrainingSetData',)


class TrainingSetData(Data):
    """N structures with total energies, forces, optional stresses and, per structure, a
    group label, a weight and a split tag (train / validation / unassigned).

    The arrays live in one compressed ``.npz`` file in the node's repository; attributes
    carry what a query needs. Units: eV, Å, eV/Å, eV/Å³ (stress positive = tensile).
    Every constructor checks the data first (see :mod:`.checks`) and raises
    :class:`TrainingSetError` naming the file and structure, so nothing half-made exists.
    """

    FILENAME = 'training_set.npz'
    UNITS = {'energy': 'eV', 'length': 'angstrom', 'forces': 'eV/angstrom', 'stress': 'eV/angstrom^3 (tension > 0)'}

    KEY_N_STRUCTURES = 'n_structures'
    KEY_N_ATOMS = 'n_atoms'
    KEY_ELEMENTS = 'elements'
    KEY_GROUPS = 'groups'
    KEY_GROUP_COUNTS = 'group_counts'
    KEY_HAS_FORCES = 'has_forces'
    KEY_HAS_STRESS = 'has_stress'
    KEY_N_NON_PERIODIC = 'n_non_periodic'
    KEY_N_WITH_STRESS = 'n_with_stress'
    KEY_ENERGY_PER_ATOM_RANGE = 'energy_per_atom_range'
    KEY_SPLIT_COUNTS = 'split_counts'
    KEY_CONTENT_HASH = 'content_hash'
    KEY_DFT_SETTINGS = 'dft_settings'
    KEY_UNITS = 'units'
    KEY_SOURCES = 'sources'

    def __init__(
        self,
        frames: list[Frame] | None = None,
        *,
        allow_duplicates: bool = False,
        allow_inconsistent_dft: bool = False,
        energy_only: bool = False,
        molecular: bool = False,
        allow_extreme_values: bool = False,
        sources: list[str] | None = None,
        **kwargs,
    ):
        if frames is None:
            raise TrainingSetError('TrainingSetData needs frames; use TrainingSetData.from_file or from_ase')
        frames = list(frames)
        check_frames(
            frames,
            allow_duplicates,
            allow_inconsistent_dft,
            energy_only=energy_only,
            molecular=molecular,
            allow_extreme_values=allow_extreme_values,
        )
        packed = Frames.from_frames(frames)
        super().__init__(**kwargs)
        self.base.repository.put_object_from_bytes(packed.to_bytes(), self.FILENAME)
        self._set_summary_attributes(packed, consistent_dft_settings(frames), sources or [])

    # --- constructors -------------------------------------------------------------------
    @classmethod
    def from_file(
        cls,
        paths,
        format: str | None = None,
        *,
        group: str | None = None,
        allow_duplicates: bool = False,
        allow_inconsistent_dft: bool = False,
        energy_only: bool = False,
        molecular: bool = False,
        allow_extreme_values: bool = False,
        **reader_options,
    ) -> TrainingSetData:
        """Read one or more files or folders (all in ``format``, detected when None)."""
        paths = [paths] if isinstance(paths, str | Path) else list(paths)
        if not paths:
            raise TrainingSetError('no input path given')
        frames: list[Frame] = []
        for path in paths:
            frames.extend(formats.read(path, format, group=group, **reader_options))
        return cls(
            frames,
            allow_duplicates=allow_duplicates,
            allow_inconsistent_dft=allow_inconsistent_dft,
            energy_only=energy_only,
            molecular=molecular,
            allow_extreme_values=allow_extreme_values,
            sources=[str(Path(p).resolve()) for p in paths],
        )

    @classmethod
    def from_ase(cls, images, *, group: str | None = None, energy_key: str = 'energy', **kwargs) -> TrainingSetData:
        """From ASE ``Atoms`` carrying a calculator (e.g. SinglePointCalculator) with the DFT results."""
        frames = formats.ase_files.frames_from_atoms(list(images), group=group, energy_key=energy_key)
        return cls(frames, **kwargs)

    # --- content ------------------------------------------------------------------------
    def get_frames(self) -> Frames:
        """The arrays, as :class:`Frames` (read once per node object)."""
        cached = getattr(self, '_mlpgen_frames', None)
        if cached is None:
            cached = Frames.from_bytes(self.base.repository.get_object_content(self.FILENAME, mode='rb'))
            self._mlpgen_frames = cached
        return cached

    def get_frame_list(self) -> list[Frame]:
        """Frames as a list, each carrying the set's DFT settings (for merges and re-checks)."""
        frames = self.get_frames().to_frames()
        for frame in frames:
            frame.dft = dict(self.dft_settings)
        return frames

    def to_ase(self) -> list:
        """ASE ``Atoms`` with a SinglePointCalculator holding energy, forces and stress."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator
        from ase.stress import full_3x3_to_voigt_6_stress

        images = []
        for frame in self.get_frames().to_frames():
            atoms = Atoms(numbers=frame.numbers, positions=frame.positions, cell=frame.cell, pbc=frame.pbc)
            results = {'energy': frame.energy}
            if frame.forces is not None:
                results['forces'] = frame.forces
            if frame.stress is not None:
                results['stress'] = full_3x3_to_voigt_6_stress(frame.stress)
            atoms.calc = SinglePointCalculator(atoms, **results)
            atoms.info.update(group=frame.group, weight=frame.weight, split=frame.split)
            images.append(atoms)
        return images

    def export(self, path, format: str) -> list[Path]:
        """Write the set in ``format`` (see :data:`formats.WRITERS`); returns the files written."""
        return formats.write(self.get_frames(), path, format)

    # --- attributes ---------------------------------------------------------------------
    def _set_summary_attributes(self, packed: Frames, dft: dict, sources: list[str]) -> None:
        groups, counts = np.unique(packed.groups, return_counts=True)
        per_atom = packed.energies_per_atom()
        split_counts = {name: int((packed.split == code).sum()) for name, code in SPLIT_CODES.items()}
        attributes = {
            self.KEY_N_STRUCTURES: len(packed),
            self.KEY_N_ATOMS: int(packed.n_atoms.sum()),
            self.KEY_ELEMENTS: sorted({chemical_symbols[z] for z in np.unique(packed.numbers).tolist()}),
            self.KEY_GROUPS: groups.tolist(),
            self.KEY_GROUP_COUNTS: dict(zip(groups.tolist(), counts.tolist(), strict=True)),
            self.KEY_HAS_FORCES: packed.has_forces,
            self.KEY_HAS_STRESS: bool(packed.has_stress.any()),
            self.KEY_N_NON_PERIODIC: int((~packed.pbc.all(axis=1)).sum()),
            self.KEY_N_WITH_STRESS: int(packed.has_stress.sum()),
            self.KEY_ENERGY_PER_ATOM_RANGE: [float(per_atom.min()), float(per_atom.max())],
            self.KEY_SPLIT_COUNTS: split_counts,
            self.KEY_CONTENT_HASH: packed.content_hash(),
            self.KEY_DFT_SETTINGS: dft,
            self.KEY_UNITS: dict(self.UNITS),
            self.KEY_SOURCES: sources,
        }
        for key, value in attributes.items():
            self.base.attributes.set(key, value)

    def _validate(self) -> bool:
        super()._validate()
        if self.FILENAME not in self.base.repository.list_object_names():
            raise TrainingSetError(f'{self.FILENAME} is missing from the node repository')
        if self.get_frames().content_hash() != self.content_hash:
            raise TrainingSetError('stored arrays do not match the content_hash attribute')
        return True

    def _attribute(self, key):
        return self.base.attributes.get(key)

    n_structures = property(lambda self: self._attribute(self.KEY_N_STRUCTURES), doc='Number of structures.')
    n_atoms = property(lambda self: self._attribute(self.KEY_N_ATOMS), doc='Number of atoms in all structures.')
    elements = property(lambda self: self._attribute(self.KEY_ELEMENTS), doc='Sorted element symbols.')
    groups = property(lambda self: self._attribute(self.KEY_GROUPS), doc='Sorted group labels.')
    group_counts = property(lambda self: self._attribute(self.KEY_GROUP_COUNTS), doc='Structures per group.')
    has_forces = property(lambda self: self._attribute(self.KEY_HAS_FORCES), doc='Whether forces are present.')
    has_stress = property(lambda self: self._attribute(self.KEY_HAS_STRESS), doc='Whether any stress is present.')
    n_non_periodic = property(
        lambda self: self.base.attributes.get(self.KEY_N_NON_PERIODIC, 0),
        doc='Structures that are not periodic (a molecular set; 0 for sets stored before this was recorded).',
    )
    split_counts = property(lambda self: self._attribute(self.KEY_SPLIT_COUNTS), doc='Structures per split tag.')
    content_hash = property(lambda self: self._attribute(self.KEY_CONTENT_HASH), doc='Hash of structures + labels.')
    dft_settings = property(lambda self: self._attribute(self.KEY_DFT_SETTINGS) or {}, doc='Shared DFT settings.')
    energy_per_atom_range = property(
        lambda self: self._attribute(self.KEY_ENERGY_PER_ATOM_RANGE), doc='(min, max) energy per atom, eV.'
    )
