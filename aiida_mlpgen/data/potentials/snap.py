"""``SnapPotentialData``: a (q)SNAP potential, ``.snapcoeff`` + ``.snapparam``, optional ZBL."""

from __future__ import annotations

from pathlib import Path

from ase.data import atomic_numbers

from .base import PotentialData, PotentialError

__all__ = (
    'SnapPotentialData',
    'check_snap',
    'clean_snapparam',
    'expected_coefficients',
    'parse_snapcoeff',
    'zbl_coeffs',
)

#: .snapparam keys of old LAMMPS versions that current LAMMPS rejects; dropped on import.
LEGACY_KEYS = ('diagonalstyle',)
REQUIRED_KEYS = ('rcutfac', 'twojmax')


def parse_snapcoeff(text: str, where: str = 'snapcoeff') -> dict:
    """Elements with radelem and wj, and coefficient count, of a ``.snapcoeff`` file."""
    lines = [line.split('#')[0].split() for line in text.splitlines()]
    lines = [line for line in lines if line]
    try:
        n_elements, n_coeff = int(lines[0][0]), int(lines[0][1])
        elements, row = {}, 1
        for _ in range(n_elements):
            symbol, radelem, wj = lines[row][0], float(lines[row][1]), float(lines[row][2])
            coefficients = [float(lines[row + 1 + k][0]) for k in range(n_coeff)]
            elements[symbol] = {'radelem': radelem, 'wj': wj, 'coefficients': coefficients}
            row += 1 + n_coeff
    except (IndexError, ValueError) as error:
        raise PotentialError(f'{where}: malformed .snapcoeff ({error})') from error
    if row != len(lines):
        raise PotentialError(f'{where}: {len(lines) - row} unexpected line(s) after the coefficients')
    for symbol in elements:
        if atomic_numbers.get(symbol, 0) < 1:  # X (ASE's dummy) is no element
            raise PotentialError(f'{where}: unknown element {symbol!r}')
    return {'elements': elements, 'n_coeff': n_coeff}


def clean_snapparam(text: str, where: str = 'snapparam') -> tuple[str, dict]:
    """A ``.snapparam`` LAMMPS accepts (legacy keys dropped, True/False -> 1/0), and its values."""
    values, kept = {}, []
    for line in text.splitlines():
        words = line.split('#')[0].split()
        if not words:
            continue
        if len(words) != 2:
            raise PotentialError(f'{where}: cannot read line {line!r}')
        key, value = words
        if key in LEGACY_KEYS:
            continue
        value = {'True': '1', 'False': '0'}.get(value, value)
        values[key] = value
        kept.append(f'{key} {value}')
    missing = [key for key in REQUIRED_KEYS if key not in values]
    if missing:
        raise PotentialError(f'{where}: missing required key(s) {missing}')
    return '\n'.join(kept) + '\n', values


def bispectrum_count(twojmax: int) -> int:
    """Bispectrum components B_{j1 j2 j} of LAMMPS's SNAP for band limit ``twojmax``
    (j2 <= j1 <= j, j1 - j2 <= j <= min(2J, j1 + j2), j1 + j2 + j even): 5, 14, 30, 55 for 2, 4, 6, 8."""
    count = 0
    for j1 in range(twojmax + 1):
        for j2 in range(j1 + 1):
            count += sum(1 for j in range(j1 - j2, min(twojmax, j1 + j2) + 1, 2) if j >= j1)
    return count


def expected_coefficients(twojmax: int, quadratic: bool, chemflag: bool, n_elements: int) -> int:
    """Coefficients per element in a .snapcoeff: the constant, the linear terms (one per
    bispectrum component, per element triple with chemflag) and, quadratic, their products."""
    linear = bispectrum_count(twojmax) * (n_elements**3 if chemflag else 1)
    return 1 + linear + (linear * (linear + 1) // 2 if quadratic else 0)


def check_snap(coeff: dict, values: dict, where: str = 'SNAP potential') -> None:
    """PotentialError unless the parsed .snapcoeff ``coeff`` and .snapparam ``values`` make a
    potential LAMMPS can run: finite numbers, positive radii, weights and cutoff, and as many
    coefficients as the band limit, quadratic and chemflag settings need."""
    import math

    def number(key, kind=float):
        try:
            value = kind(values[key]) if key in values else None
        except ValueError:
            raise PotentialError(
                f'{where}: {key} {values[key]!r} is not {"an integer" if kind is int else "a number"}'
            ) from None
        if value is not None and not math.isfinite(value):
            raise PotentialError(f'{where}: {key} is {value}')
        return value

    twojmax, rcutfac = number('twojmax', int), number('rcutfac')
    if twojmax < 0:
        raise PotentialError(f'{where}: twojmax {twojmax} must be >= 0')
    if rcutfac <= 0:
        raise PotentialError(f'{where}: rcutfac {rcutfac} must be > 0')
    rfac0, rmin0 = number('rfac0'), number('rmin0')
    if rfac0 is not None and not 0 < rfac0 <= 1:
        raise PotentialError(f'{where}: rfac0 {rfac0} must be in (0, 1]')
    if rmin0 is not None and rmin0 < 0:
        raise PotentialError(f'{where}: rmin0 {rmin0} must be >= 0')
    for symbol, element in coeff['elements'].items():
        for key in ('radelem', 'wj'):
            if not (math.isfinite(element[key]) and element[key] > 0):
                raise PotentialError(f'{where}: {symbol} {key} {element[key]} must be a finite number > 0')
        bad = [k for k, c in enumerate(element['coefficients']) if not math.isfinite(c)]
        if bad:
            raise PotentialError(f'{where}: {symbol} coefficient {bad[0]} is {element["coefficients"][bad[0]]}')
    flags = {key: values.get(key, '0') == '1' for key in ('quadraticflag', 'chemflag')}
    expected = expected_coefficients(twojmax, flags['quadraticflag'], flags['chemflag'], len(coeff['elements']))
    if coeff['n_coeff'] != expected:
        raise PotentialError(
            f'{where}: {coeff["n_coeff"]} coefficients per element, but twojmax {twojmax} '
            f'(quadratic {flags["quadraticflag"]}, chemflag {flags["chemflag"]}) needs {expected}'
        )


def zbl_coeffs(elements: list[str]) -> list[str]:
    """ZBL ``i j Zi Zj`` for every pair of element types."""
    return [
        f'{i} {j} {atomic_numbers[a]} {atomic_numbers[b]}'
        for i, a in enumerate(elements, 1)
        for j, b in enumerate(elements[i - 1 :], i)
    ]


class SnapPotentialData(PotentialData):
    """A SNAP or quadratic SNAP potential for LAMMPS ``pair_style snap`` (package ML-SNAP),
    with optional ZBL repulsion overlaid (``hybrid/overlay zbl rin rout snap``)."""

    POTENTIAL_TYPE = 'snap'
    COEFF_FILENAME = 'potential.snapcoeff'
    PARAM_FILENAME = 'potential.snapparam'

    def __init__(self, snapcoeff: str | None = None, snapparam: str | None = None, zbl=None, reference=None, **kwargs):
        """``snapcoeff``/``snapparam``: file contents. ``zbl``: None or (inner, outer) cutoffs, Å.
        ``reference``: a PotentialData overlaid on the SNAP part (Δ-learning), same elements."""
        if snapcoeff is None or snapparam is None:
            raise PotentialError('SnapPotentialData needs the .snapcoeff and .snapparam contents')
        coeff = parse_snapcoeff(snapcoeff)
        param_text, values = clean_snapparam(snapparam)
        check_snap(coeff, values)
        super().__init__(**kwargs)
        elements = list(coeff['elements'])
        cutoff = float(values['rcutfac']) * 2 * max(v['radelem'] for v in coeff['elements'].values())
        files = {self.COEFF_FILENAME: snapcoeff.encode(), self.PARAM_FILENAME: param_text.encode()}
        packages = ['ML-SNAP']
        terms = []
        if zbl:
            inner, outer = (float(x) for x in zbl)
            if not 0 < inner < outer:
                raise PotentialError(f'ZBL cutoffs must satisfy 0 < inner < outer, got {inner}, {outer}')
            terms.append({'style': f'zbl {inner!r} {outer!r}', 'coeffs': zbl_coeffs(elements)})
        if reference is not None:
            if list(reference.elements) != elements:
                raise PotentialError(f'reference potential elements {reference.elements} differ from {elements}')
            ref_terms, ref_files, ref_packages = reference.overlay_parts()
            terms += ref_terms
            files.update(ref_files)
            packages += [p for p in ref_packages if p not in packages]
            cutoff = max(cutoff, reference.cutoff)
        terms.append(
            {
                'style': 'snap',
                'coeffs': [f'* * {{file:{self.COEFF_FILENAME}}} {{file:{self.PARAM_FILENAME}}} {" ".join(elements)}'],
            }
        )
        self._set_potential(files, elements, cutoff, terms, packages)
        self.base.attributes.set('twojmax', int(values['twojmax']))
        self.base.attributes.set('quadratic', values.get('quadraticflag', '0') == '1')
        self.base.attributes.set('n_coefficients', coeff['n_coeff'])
        self.base.attributes.set('zbl', list(zbl) if zbl else None)
        self.base.attributes.set('reference_potential', reference.uuid if reference is not None else None)

    UNCERTAINTY = 'extrapolation grade of the bispectrum rows against the training set (above 1: outside it)'
    UNCERTAINTY_NEEDS_TRAINING_SET = True

    def descriptor_settings(self) -> dict:
        """``compute sna/atom`` settings of this potential (:mod:`aiida_mlpgen.engines.active.snap_descriptors`)."""
        from aiida_mlpgen.engines.active.snap_descriptors import settings_from

        _, values = clean_snapparam(self.get_file_content(self.PARAM_FILENAME).decode())
        coeff = parse_snapcoeff(self.get_file_content(self.COEFF_FILENAME).decode())
        return settings_from(values, coeff['elements'])

    def get_uncertainty_calculator(self, training_atoms, **kwargs):
        """This potential in LAMMPS, graded per atom by
        :class:`~aiida_mlpgen.engines.active.snap_descriptors.SnapGrades`."""
        from aiida_mlpgen.engines.active.calculators import WithGrades
        from aiida_mlpgen.engines.active.snap_descriptors import SnapGrades

        return WithGrades(self.get_ase_calculator(**kwargs), SnapGrades(self.descriptor_settings(), training_atoms))

    @classmethod
    def from_paths(cls, paths, zbl=None) -> SnapPotentialData:
        coeff, param = cls._expect_paths(paths, 2, False, 'two files: COEFF PARAM')
        return cls.from_files(coeff, param, zbl=zbl)

    @classmethod
    def from_files(cls, snapcoeff, snapparam, zbl=None, reference=None, **kwargs) -> SnapPotentialData:
        """From ``.snapcoeff`` and ``.snapparam`` files (legacy ``diagonalstyle`` is dropped)."""
        return cls(Path(snapcoeff).read_text(), Path(snapparam).read_text(), zbl=zbl, reference=reference, **kwargs)
