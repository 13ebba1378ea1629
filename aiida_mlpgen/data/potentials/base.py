"""``PotentialData``: files of a fitted potential plus the exact LAMMPS lines that load them."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from aiida.orm import Data
from ase.data import atomic_masses, atomic_numbers

from .overlay import pair_lines, renamed

__all__ = ('PotentialData', 'PotentialError')


class PotentialError(ValueError):
    """A potential that LAMMPS could not load (bad or missing file, wrong keys)."""


class PotentialData(Data):
    """Base of the SNAP, ACE and NNP potential nodes.

    Files live in the node repository; attributes hold the elements (in LAMMPS type
    order), the cutoff, the pair terms (see :mod:`.overlay`; ``{file:NAME}`` in a
    ``pair_coeff`` stands for the path of file NAME), the resulting ``pair_style`` and
    ``pair_coeff`` lines, the LAMMPS packages needed, and an md5 of the files for
    deduplication. ``store()`` refuses a node whose files are missing.
    """

    KEY_POTENTIAL_TYPE = 'potential_type'
    KEY_ELEMENTS = 'elements'
    KEY_CUTOFF = 'cutoff'
    KEY_PAIR_STYLE = 'pair_style'
    KEY_PAIR_COEFFS = 'pair_coeffs'
    KEY_TERMS = 'terms'
    KEY_FILES = 'files'
    KEY_MD5 = 'md5'
    KEY_LAMMPS_PACKAGES = 'lammps_packages'
    POTENTIAL_TYPE = None
    MOD_FILENAME = 'potential.mod'
    REQUIRES_FILES = True  # False for pair styles defined by their arguments alone (ZBL)
    RUNS_IN_LAMMPS = True  # False for ASE-only calculators

    @classmethod
    def from_paths(cls, paths, **options) -> PotentialData:
        """Import existing files (``mlpgen potential import TYPE PATHS``); PotentialError names
        what is wrong with the paths, TypeError an option this type does not take."""
        raise PotentialError(f'{cls.__name__} cannot be imported from files')

    @staticmethod
    def _expect_paths(paths, count: int, directory: bool, what: str) -> list[Path]:
        paths = [Path(p) for p in paths]
        if len(paths) != count or any(p.is_dir() != directory for p in paths):
            raise PotentialError(f'takes {what}, got {" ".join(str(p) for p in paths) or "nothing"}')
        return paths

    def _set_potential(self, files: dict[str, bytes], elements, cutoff, terms: list[dict], packages) -> None:
        if not elements:
            raise PotentialError('a potential needs at least one element')
        for element in elements:
            if atomic_numbers.get(element, 0) < 1:  # X (ASE's dummy) is no element
                raise PotentialError(f'unknown element {element!r}')
        pair_style, pair_coeffs = pair_lines(terms)
        digest = hashlib.md5()
        for name in sorted(files):
            self.base.repository.put_object_from_bytes(files[name], name)
            digest.update(name.encode() + files[name])
        attributes = {
            self.KEY_POTENTIAL_TYPE: self.POTENTIAL_TYPE,
            self.KEY_ELEMENTS: list(elements),
            self.KEY_CUTOFF: float(cutoff),
            self.KEY_PAIR_STYLE: pair_style,
            self.KEY_PAIR_COEFFS: list(pair_coeffs),
            self.KEY_TERMS: [dict(term) for term in terms],
            self.KEY_FILES: sorted(files),
            self.KEY_MD5: digest.hexdigest(),
            self.KEY_LAMMPS_PACKAGES: list(packages),
        }
        for key, value in attributes.items():
            self.base.attributes.set(key, value)

    # --- what users read ----------------------------------------------------------------
    elements = property(lambda self: self.base.attributes.get(self.KEY_ELEMENTS), doc='Elements, LAMMPS type order.')
    cutoff = property(lambda self: self.base.attributes.get(self.KEY_CUTOFF), doc='Largest cutoff, Å.')
    md5 = property(lambda self: self.base.attributes.get(self.KEY_MD5), doc='md5 of the files.')
    filenames = property(lambda self: self.base.attributes.get(self.KEY_FILES), doc='Files of the potential.')

    def overlay_parts(self, prefix: str = 'reference_') -> tuple[list[dict], dict[str, bytes], list[str]]:
        """Terms, files (renamed with ``prefix``) and packages, to overlay this potential on another."""
        files = {name: self.get_file_content(name) for name in self.filenames}
        terms, files = renamed(self.base.attributes.get(self.KEY_TERMS), files, prefix)
        return terms, files, list(self.base.attributes.get(self.KEY_LAMMPS_PACKAGES))

    def get_file_content(self, name: str) -> bytes:
        return self.base.repository.get_object_content(name, mode='rb')

    def lammps_lines(self, directory: str | Path | None = None) -> list[str]:
        """``pair_style`` and ``pair_coeff`` lines, files referred to inside ``directory``
        (relative names when None)."""

        def path(name):
            return str(Path(directory) / name) if directory is not None else name

        lines = [f'pair_style {self.base.attributes.get(self.KEY_PAIR_STYLE)}']
        for coeff in self.base.attributes.get(self.KEY_PAIR_COEFFS):
            for name in self.filenames:
                coeff = coeff.replace('{file:' + name + '}', path(name))
            lines.append(f'pair_coeff {coeff}')
        # pair styles that take a directory (hdnnp) name it {dir}: the folder the files are in
        where = str(Path(directory)) if directory is not None else '.'
        return [line.replace('{dir}', where) for line in lines]

    def mass_lines(self) -> list[str]:
        return [f'mass {i} {atomic_masses[atomic_numbers[e]]:.6f}' for i, e in enumerate(self.elements, 1)]

    def write_files(self, directory) -> Path:
        """The potential's files, as stored, into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in self.filenames:
            (directory / name).parent.mkdir(parents=True, exist_ok=True)  # committees keep members in folders
            (directory / name).write_bytes(self.get_file_content(name))
        return directory

    def write_lammps(self, directory, relative: bool = False) -> Path:
        """Write the files and ``potential.mod`` (masses, pair_style, pair_coeff) into ``directory``.

        ``include potential.mod`` in a LAMMPS input (after the box exists) loads the
        potential. Paths inside are absolute unless ``relative``.
        """
        directory = self.write_files(directory)
        location = None if relative else directory.resolve()
        header = [
            f'# {type(self).__name__} {self.uuid} written by aiida-mlpgen',
            f'# elements (LAMMPS types 1..{len(self.elements)}): {" ".join(self.elements)}',
        ]
        text = '\n'.join(header + self.mass_lines() + self.lammps_lines(location)) + '\n'
        target = directory / self.MOD_FILENAME
        target.write_text(text)
        return target

    def ase_spec(self, prefix: str = '') -> dict:
        """How an ASE calculator is rebuilt from this potential's files (see
        :mod:`aiida_mlpgen.engines.properties.calculators`); files named ``prefix + name``.
        LAMMPS's Python module unless a type evaluates otherwise."""
        return self.lammps_spec(prefix)

    def lammps_spec(self, prefix: str = '') -> dict:
        """The spec of a calculator that runs this potential in LAMMPS's Python module."""
        from aiida_mlpgen.engines.properties.calculators import DIR

        lines = self.lammps_lines(DIR)
        for name in self.filenames:
            lines = [line.replace(f'{DIR}/{name}', f'{DIR}/{prefix}{name}') for line in lines]
        return {'kind': 'lammpslib', 'lines': lines, 'elements': list(self.elements)}

    def get_ase_calculator(self, uncertainty: bool = False, training_set=None, **kwargs):
        """An ASE calculator for this potential (LAMMPS's Python module unless a subclass says
        otherwise); its files live in a temporary folder as long as the calculator.

        ``uncertainty``: the calculator also gives ``results['uncertainty']`` (per atom) and
        ``results['max_uncertainty']``, where the type has a measure of it (SNAP, ACE, NNP
        committees); ``training_set`` is what it is measured against (default: the set the
        fit that made this potential was given)."""
        if uncertainty:
            return self.get_uncertainty_calculator(self._training_atoms(training_set), **kwargs)
        return self._calculator(self.ase_spec(), **kwargs)

    def _calculator(self, spec: dict, **kwargs):
        """The calculator of ``spec`` on this potential's files, written to a temporary folder
        that lives as long as the calculator."""
        from aiida_mlpgen.engines.properties.calculators import calculator_from_spec

        folder = tempfile.TemporaryDirectory(prefix='mlpgen-potential-')
        self.write_files(folder.name)
        calculator = calculator_from_spec(spec, folder.name, **kwargs)
        calculator._mlpgen_files = folder  # keep the files as long as the calculator lives
        return calculator

    #: what ``results['uncertainty']`` measures (None: this type has no measure of its own)
    UNCERTAINTY = None
    #: the measure grades against the training set (SNAP), which ``_training_atoms`` then loads
    UNCERTAINTY_NEEDS_TRAINING_SET = False

    def get_uncertainty_calculator(self, training_atoms, **kwargs):
        """The calculator of ``get_ase_calculator(uncertainty=True)`` (types override it)."""
        raise PotentialError(
            f'{type(self).__name__} has no measure of its uncertainty (SNAP and ACE grade their '
            'descriptors, NNP committees their spread)'
        )

    def get_exploration_calculator(self):
        """The calculator that drives exploration MD: LAMMPS's Python module where it was built
        with every package this potential needs (ML-SNAP for SNAP here; ML-PACE for ACE and
        ML-HDNNP for NNP on clusters whose LAMMPS has them), else this potential's ASE calculator
        (pyace, our NNP engine). A committee's is its first member's."""
        from aiida_mlpgen.engines.properties.calculators import lammps_module_packages

        needed = set(self.base.attributes.get(self.KEY_LAMMPS_PACKAGES) or [])
        if not self.RUNS_IN_LAMMPS or not needed <= lammps_module_packages():
            return self.get_ase_calculator()
        return self._calculator(self.lammps_spec())

    def _training_atoms(self, training_set):
        """ASE Atoms of ``training_set``, or of the set the fit that made this potential was given."""
        if not self.UNCERTAINTY_NEEDS_TRAINING_SET:
            return None
        if training_set is None:
            creator = self.creator
            training_set = getattr(creator.inputs, 'training_set', None) if creator is not None else None
        if training_set is None:
            raise PotentialError('give training_set: this potential was not made by a fit that names one')
        images = training_set.to_ase()
        for atoms in images:
            atoms.calc = None
        return images

    def _validate(self) -> bool:
        super()._validate()
        present = {str(path) for path in self.base.repository.glob()}  # nested names too (committees)
        missing = set(self.filenames or []) - present
        if missing or (not self.filenames and self.REQUIRES_FILES):
            raise PotentialError(f'potential files missing from the node: {sorted(missing) or "none stored"}')
        return True
