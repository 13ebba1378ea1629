"""``AcePotentialData``: an ACE potential (pacemaker .yaml + .yace, optional active set .asi)."""

from __future__ import annotations

import re
from pathlib import Path

from .base import PotentialData, PotentialError

__all__ = ('AcePotentialData',)


def _yaml_elements_cutoff(text: str, where: str) -> tuple[list[str], float]:
    """Elements and largest cutoff of a pacemaker .yaml or .yace; PotentialError for a file
    LAMMPS or pyace could not use: no elements, unknown elements, a cutoff that is not positive,
    NaN or infinite numbers."""
    elements, cutoff = _read_elements_cutoff(text, where)
    from ase.data import atomic_numbers

    unknown = [e for e in elements if atomic_numbers.get(e, 0) < 1]
    if unknown:
        raise PotentialError(f'{where}: unknown element(s) {unknown}')
    if not cutoff > 0:
        raise PotentialError(f'{where}: cutoff {cutoff} must be > 0')
    bad = re.search(r'(?<![A-Za-z_])[-+]?(nan|inf(inity)?)(?![A-Za-z_])', text, re.IGNORECASE)
    if bad:
        line = text[: bad.start()].count('\n') + 1
        raise PotentialError(f'{where}: line {line} holds {bad.group(0)!r}: the potential has non-finite numbers')
    return elements, cutoff


def _read_elements_cutoff(text: str, where: str) -> tuple[list[str], float]:
    import yaml

    header = re.search(r'^elements:\s*\[([^\]]*)\]', text, re.MULTILINE)
    if header:  # .yace (C-tilde basis); its bond keys are lists, which YAML loaders refuse
        elements = [e.strip() for e in header.group(1).split(',') if e.strip()]
        cutoffs = [float(x) for x in re.findall(r'\brcut:\s*([0-9.eE+-]+)', text)]
        if not elements:
            raise PotentialError(f'{where}: no elements')
        return elements, max(cutoffs) if cutoffs else 0.0
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PotentialError(f'{where}: not YAML ({error})') from error
    if not isinstance(content, dict):
        raise PotentialError(f'{where}: not an ACE potential')
    if 'species' in content:  # pacemaker's B-basis .yaml
        elements = []
        for block in content['species']:
            for symbol in str(block.get('speciesblock', '')).split():
                if symbol not in elements:
                    elements.append(symbol)
        cutoffs = [block.get('rcutij', 0) for block in content['species']]
    else:
        raise PotentialError(f'{where}: neither a pacemaker .yaml (species) nor a .yace (elements)')
    if not elements:
        raise PotentialError(f'{where}: no elements')
    return elements, float(max(cutoffs) if cutoffs else 0.0)


class AcePotentialData(PotentialData):
    """An ACE potential for LAMMPS ``pair_style pace`` (package ML-PACE) and for pyace.

    Holds pacemaker's B-basis ``potential.yaml`` (for refitting/upfitting), the C-tilde
    ``potential.yace`` LAMMPS and pyace evaluate (its ``E0`` holds the per-element
    reference energies, so both give total energies) and, when computed, the active set
    ``potential.asi`` for the extrapolation grade (``pair_style pace/extrapolation``).
    """

    POTENTIAL_TYPE = 'ace'
    YAML_FILENAME = 'potential.yaml'
    YACE_FILENAME = 'potential.yace'
    ASI_FILENAME = 'potential.asi'

    def __init__(
        self,
        yaml_text: str | None = None,
        yace_text: str | None = None,
        asi: bytes | None = None,
        reference_energies: dict | None = None,
        **kwargs,
    ):
        if yace_text is None:
            raise PotentialError('AcePotentialData needs the .yace content (and the .yaml to refit)')
        elements, cutoff = _yaml_elements_cutoff(yace_text, 'potential.yace')
        if yaml_text is not None:
            yaml_elements, _ = _yaml_elements_cutoff(yaml_text, 'potential.yaml')
            if sorted(yaml_elements) != sorted(elements):
                raise PotentialError(f'.yaml elements {yaml_elements} differ from .yace elements {elements}')
        super().__init__(**kwargs)
        files = {self.YACE_FILENAME: yace_text.encode()}
        if yaml_text is not None:
            files[self.YAML_FILENAME] = yaml_text.encode()
        style, coeff = 'pace', f'* * {{file:{self.YACE_FILENAME}}} {" ".join(elements)}'
        if asi is not None:
            files[self.ASI_FILENAME] = asi
        terms = [{'style': style, 'coeffs': [coeff]}]
        self._set_potential(files, elements, cutoff, terms, ['ML-PACE'])
        self.base.attributes.set('reference_energies', dict(reference_energies or {}))
        self.base.attributes.set('has_active_set', asi is not None)

    @classmethod
    def from_paths(cls, paths) -> AcePotentialData:
        (path,) = cls._expect_paths(paths, 1, False, 'one file: a pacemaker YAML or YACE')
        return cls.from_yaml(path)

    @classmethod
    def from_yaml(cls, path, yace=None, **kwargs) -> AcePotentialData:
        """From a pacemaker ``.yaml`` (converted with ``pace_yaml2yace``) or a ``.yace`` alone."""
        path = Path(path)
        text = path.read_text()
        _yaml_elements_cutoff(text, str(path))  # a clear error before any conversion
        if path.suffix == '.yace':
            return cls(None, text, **kwargs)
        yace_path = Path(yace) if yace else None
        if yace_path is None:
            import subprocess
            import sys
            import tempfile

            with tempfile.TemporaryDirectory() as folder:
                target = Path(folder) / 'potential.yace'
                done = subprocess.run(
                    [str(Path(sys.executable).parent / 'pace_yaml2yace'), str(path), '-o', str(target)],
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0 or not target.exists():
                    raise PotentialError(f'{path}: pace_yaml2yace failed: {done.stderr.strip()[-300:]}')
                return cls(text, target.read_text(), **kwargs)
        return cls(text, yace_path.read_text(), **kwargs)

    def lammps_lines(self, directory=None, extrapolation: bool = False) -> list[str]:
        """``pair_style pace`` lines; with ``extrapolation`` (needs the active set) ``pace/extrapolation``,
        which computes the extrapolation grade gamma of every atom."""
        if not extrapolation:
            return super().lammps_lines(directory)
        if not self.base.attributes.get('has_active_set'):
            raise PotentialError('no active set (.asi) stored: fit with active_set=true or run pace_activeset')

        def path(name):
            return str(Path(directory) / name) if directory is not None else name

        return [
            'pair_style pace/extrapolation',
            f'pair_coeff * * {path(self.YACE_FILENAME)} {path(self.ASI_FILENAME)} {" ".join(self.elements)}',
        ]

    UNCERTAINTY = "pyace's extrapolation grade gamma against the stored active set (above 1: outside the training set)"

    def get_uncertainty_calculator(self, training_atoms, **kwargs):
        """The extrapolation calculator with ``gamma`` as ``results['uncertainty']``."""
        from aiida_mlpgen.engines.active.calculators import WithGamma

        return WithGamma(self.get_ase_calculator(extrapolation=True, **kwargs))

    def get_ase_calculator(self, extrapolation: bool = False, uncertainty: bool = False, training_set=None, **kwargs):
        """pyace's ASE calculator giving total energies (reference energies included).

        By default it evaluates the stored ``.yace``. With ``extrapolation`` it evaluates the
        B-basis ``.yaml`` with the stored active set (pyace needs both for the grade) and
        adds the reference energies itself; ``calculator.results['gamma']`` then holds the
        extrapolation grade of every atom (above 1: outside the training domain).
        ``uncertainty``: the same grade as ``results['uncertainty']`` (see PotentialData).
        """
        if uncertainty:
            return self.get_uncertainty_calculator(None, **kwargs)
        if not extrapolation:
            return super().get_ase_calculator(**kwargs)
        import tempfile

        from pyace import PyACECalculator

        if not self.base.attributes.get('has_active_set'):
            raise PotentialError('no active set (.asi) stored: fit with active_set=true')
        folder = tempfile.TemporaryDirectory(prefix='mlpgen-ace-')
        basis = Path(folder.name) / self.YAML_FILENAME
        basis.write_bytes(self.get_file_content(self.YAML_FILENAME))
        asi = Path(folder.name) / self.ASI_FILENAME
        asi.write_bytes(self.get_file_content(self.ASI_FILENAME))
        calculator = _with_reference_energies(PyACECalculator)(
            str(basis), reference_energies=self.base.attributes.get('reference_energies') or {}, **kwargs
        )
        calculator.set_active_set(str(asi))
        calculator._mlpgen_files = folder  # keep the files as long as the calculator lives
        return calculator

    def ase_spec(self, prefix: str = '') -> dict:
        """pyace on the stored .yace (reference energies included as its E0)."""
        return {'kind': 'pace', 'file': prefix + self.YACE_FILENAME}


def _with_reference_energies(base):
    """A subclass of the pyace calculator ``base`` that adds per-element reference energies."""

    class WithReferenceEnergies(base):
        def __init__(self, basis_set, reference_energies, **kwargs):
            super().__init__(basis_set, **kwargs)
            self._reference = dict(reference_energies)

        def calculate(self, atoms=None, properties=('energy', 'forces', 'stress'), system_changes=None, **kw):
            if system_changes is None:
                super().calculate(atoms, properties, **kw)
            else:
                super().calculate(atoms, properties, system_changes, **kw)
            per_atom = [self._reference.get(symbol, 0.0) for symbol in self.atoms.get_chemical_symbols()]
            for key in ('energy', 'free_energy'):
                if key in self.results:
                    self.results[key] = self.results[key] + sum(per_atom)
            if 'energies' in self.results:
                self.results['energies'] = self.results['energies'] + per_atom

    return WithReferenceEnergies
