"""``SnapPotentialData``: a (q)SNAP potential, ``.snapcoeff`` + ``.snapparam``, optional ZBL."""

from __future__ import annotations

from pathlib import Path

from ase.data import atomic_numbers

from .base import PotentialData, PotentialError

__all__ = ('SnapPotentialData', 'clean_snapparam', 'parse_snapcoeff', 'zbl_coeffs')

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
        if symbol not in atomic_numbers:
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

    @classmethod
    def from_paths(cls, paths, zbl=None) -> SnapPotentialData:
        coeff, param = cls._expect_paths(paths, 2, False, 'two files: COEFF PARAM')
        return cls.from_files(coeff, param, zbl=zbl)

    @classmethod
    def from_files(cls, snapcoeff, snapparam, zbl=None, reference=None, **kwargs) -> SnapPotentialData:
        """From ``.snapcoeff`` and ``.snapparam`` files (legacy ``diagonalstyle`` is dropped)."""
        return cls(Path(snapcoeff).read_text(), Path(snapparam).read_text(), zbl=zbl, reference=reference, **kwargs)
