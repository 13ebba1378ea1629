"""Symmetry-function definitions: n2p2's ``symfunction_short`` lines, types 2, 3, 9, 12, 13.

Line formats (after the keyword), lengths in the file's unit:

- 2  radial:            ``ec 2 e1 eta rs rc``
- 3  narrow angular:    ``ec 3 e1 e2 eta lambda zeta rc [rs]``
- 9  wide angular:      ``ec 9 e1 e2 eta lambda zeta rc [rs]``
- 12 weighted radial:   ``ec 12 eta rs rc``
- 13 weighted angular:  ``ec 13 eta rs lambda zeta rc``

n2p2 sorts each element's functions (its ``operator<``): type, cutoff type and alpha, rc,
eta, rs, then zeta and lambda for angular types, then neighbour elements by atomic number.
"""

from __future__ import annotations

import dataclasses

RADIAL = (2, 12)
ANGULAR = (3, 9, 13)
WEIGHTED = (12, 13)
TYPES = RADIAL + ANGULAR


@dataclasses.dataclass(frozen=True)
class SymmetryFunction:
    element: str
    type: int
    eta: float
    rs: float
    rc: float
    e1: str = ''
    e2: str = ''
    lam: float = 0.0
    zeta: float = 0.0
    line: int = -1  # line number in input.nn (0-based), for pruning and messages

    @property
    def angular(self) -> bool:
        return self.type in ANGULAR

    def sort_key(self, z: dict[str, int], cutoff: tuple[int, float]) -> tuple:
        neighbours = (z.get(self.e1, 0), z.get(self.e2, 0)) if self.type not in WEIGHTED else (0, 0)
        angular = (self.zeta, self.lam) if self.angular else (0.0, 0.0)
        return (self.type, *cutoff, self.rc, self.eta, self.rs, *angular, *neighbours)

    def to_line(self) -> str:
        f = '{:.10g}'.format
        if self.type == 2:
            body = [self.e1, f(self.eta), f(self.rs), f(self.rc)]
        elif self.type in (3, 9):
            body = [self.e1, self.e2, f(self.eta), f(self.lam), f(self.zeta), f(self.rc), f(self.rs)]
        elif self.type == 12:
            body = [f(self.eta), f(self.rs), f(self.rc)]
        else:
            body = [f(self.eta), f(self.rs), f(self.lam), f(self.zeta), f(self.rc)]
        return ' '.join(['symfunction_short', self.element, str(self.type), *body])


def parse_line(text: str, line: int = -1) -> SymmetryFunction:
    """Parse what follows ``symfunction_short``."""
    words = text.split()
    if len(words) < 2:
        raise ValueError(f'symmetry function line too short: {text!r}')
    try:
        kind = int(words[1])
    except ValueError as error:
        raise ValueError(f'symmetry function type {words[1]!r} is not an integer') from error
    if kind not in TYPES:
        raise ValueError(f'symmetry function type {kind} is not supported (supported: {TYPES})')
    needed = {2: 6, 3: 8, 9: 8, 12: 5, 13: 7}[kind]
    if len(words) < needed:
        raise ValueError(f'type {kind} needs {needed} values, found {len(words)}: {text!r}')
    number = _numbers(words)
    ec = words[0]
    if kind == 2:
        return SymmetryFunction(ec, 2, number(3), number(4), number(5), e1=words[2], line=line)
    if kind in (3, 9):
        e1, e2 = words[2], words[3]
        rs = number(8) if len(words) > 8 else 0.0
        return SymmetryFunction(ec, kind, number(4), rs, number(7), e1, e2, number(5), number(6), line)
    if kind == 12:
        return SymmetryFunction(ec, 12, number(2), number(3), number(4), line=line)
    return SymmetryFunction(ec, 13, number(2), number(3), number(6), lam=number(4), zeta=number(5), line=line)


def _numbers(words):
    def number(index: int) -> float:
        try:
            return float(words[index])
        except ValueError as error:
            raise ValueError(f'{words[index]!r} is not a number') from error

    return number


def ordered_pair(sf: SymmetryFunction, z: dict[str, int]) -> SymmetryFunction:
    """n2p2 swaps e1/e2 of angular functions so that Z(e1) <= Z(e2)."""
    if sf.type in (3, 9) and z[sf.e1] > z[sf.e2]:
        return dataclasses.replace(sf, e1=sf.e2, e2=sf.e1)
    return sf
