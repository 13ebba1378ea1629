"""``ClassicalPotentialData``: any LAMMPS pair style with its files — a Δ-potential such as ZBL or EAM."""

from __future__ import annotations

from pathlib import Path

from .base import PotentialData, PotentialError
from .snap import zbl_coeffs

__all__ = ('ClassicalPotentialData',)


class ClassicalPotentialData(PotentialData):
    """A LAMMPS pair style, its ``pair_coeff`` arguments (``{file:NAME}`` marks a stored file)
    and files, e.g. ``eam/alloy`` with ``* * {file:Mo.eam.alloy} Mo``, or :meth:`zbl`."""

    POTENTIAL_TYPE = 'classical'
    REQUIRES_FILES = False

    def __init__(
        self,
        style: str | None = None,
        coeffs: list[str] | None = None,
        elements: list[str] | None = None,
        cutoff: float | None = None,
        files: dict[str, bytes] | None = None,
        packages=(),
        **kwargs,
    ):
        if not style or not coeffs or not elements or cutoff is None:
            raise PotentialError('ClassicalPotentialData needs a pair style, pair_coeff lines, elements and a cutoff')
        files = dict(files or {})
        for coeff in coeffs:
            for name in [part.split('}')[0] for part in coeff.split('{file:')[1:]]:
                if name not in files:
                    raise PotentialError(f'pair_coeff refers to {{file:{name}}} but no such file was given')
        if any(c in ''.join([style, *coeffs]) for c in '\n;&|`$'):
            raise PotentialError('pair style and coefficients must be single LAMMPS arguments (no ; & | ` $ newline)')
        super().__init__(**kwargs)
        self._set_potential(
            files, list(elements), float(cutoff), [{'style': style, 'coeffs': list(coeffs)}], list(packages)
        )

    @classmethod
    def zbl(cls, elements: list[str], inner: float, outer: float, **kwargs) -> ClassicalPotentialData:
        """Ziegler–Biersack–Littmark screened nuclear repulsion between all element pairs."""
        if not 0 < inner < outer:
            raise PotentialError(f'ZBL cutoffs must satisfy 0 < inner < outer, got {inner}, {outer}')
        return cls(f'zbl {float(inner)!r} {float(outer)!r}', zbl_coeffs(list(elements)), elements, outer, **kwargs)

    @classmethod
    def from_files(cls, style: str, coeffs: list[str], elements, cutoff: float, paths=(), packages=(), **kwargs):
        files = {Path(p).name: Path(p).read_bytes() for p in paths}
        return cls(style, coeffs, elements, cutoff, files, packages, **kwargs)
