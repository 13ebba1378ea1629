"""Explicit unit conversions into the units stored by aiida-mlpgen.

Stored units: energy eV, length Å, force eV/Å, stress eV/Å³ with ASE's sign convention
(positive = tensile). Every importer names the unit it reads and converts here; an
unknown unit name is an error, never a silent pass-through.
"""

from ase import units as _u

ENERGY = {
    'ev': 1.0,
    'electronvolt': 1.0,
    'hartree': _u.Hartree,
    'ha': _u.Hartree,
    'rydberg': _u.Rydberg,
    'ry': _u.Rydberg,
    'kcal/mol': _u.kcal / _u.mol,
    'kj/mol': _u.kJ / _u.mol,
    'mev': 1e-3,
}

LENGTH = {
    'angstrom': 1.0,
    'a': 1.0,
    'å': 1.0,
    'bohr': _u.Bohr,
    'nm': 10.0,
    'nanometer': 10.0,
}

#: Stress units, value of one unit in eV/Å³.
STRESS = {
    'ev/a^3': 1.0,
    'ev/å^3': 1.0,
    'ev/a3': 1.0,
    'ev/angstrom^3': 1.0,
    'bar': 1e5 * _u.Pascal,
    'kbar': 1e8 * _u.Pascal,
    'kb': 1e8 * _u.Pascal,
    'gpa': _u.GPa,
    'pa': _u.Pascal,
    'hartree/bohr^3': _u.Hartree / _u.Bohr**3,
    'ry/bohr^3': _u.Rydberg / _u.Bohr**3,
}

#: Sign conventions for stress: ``tension`` (ASE, positive = tensile) or ``pressure``
#: (VASP's "in kB" line, LAMMPS pressure tensor, FitSNAP: positive = compressive).
STRESS_SIGNS = {'tension': 1.0, 'pressure': -1.0}


class UnitError(ValueError):
    """An unknown or inconsistent unit."""


def _lookup(table: dict, unit: str, kind: str) -> float:
    key = str(unit).strip().lower().replace(' ', '')
    try:
        return table[key]
    except KeyError:
        known = ', '.join(sorted(table))
        raise UnitError(f'unknown {kind} unit {unit!r}; known: {known}') from None


def energy_factor(unit: str) -> float:
    """Factor converting ``unit`` to eV."""
    return _lookup(ENERGY, unit, 'energy')


def length_factor(unit: str) -> float:
    """Factor converting ``unit`` to Å."""
    return _lookup(LENGTH, unit, 'length')


def force_factor(energy_unit: str, length_unit: str) -> float:
    """Factor converting ``energy_unit/length_unit`` to eV/Å."""
    return energy_factor(energy_unit) / length_factor(length_unit)


def stress_factor(unit: str, sign: str = 'tension') -> float:
    """Factor converting a stress in ``unit`` with sign convention ``sign`` to eV/Å³, tension positive."""
    try:
        sign_factor = STRESS_SIGNS[sign]
    except KeyError:
        raise UnitError(f'unknown stress sign convention {sign!r}; use "tension" or "pressure"') from None
    return sign_factor * _lookup(STRESS, unit, 'stress')


def stress_to(stress_ev_a3, unit: str, sign: str = 'tension'):
    """Convert a stored stress (eV/Å³, tension positive) to ``unit`` with sign convention ``sign``."""
    return stress_ev_a3 / stress_factor(unit, sign)


#: FitSNAP's ``<Quantity>Style`` unit names, as (kind, unit) for the converters above.
_FITSNAP_STYLES = {
    'angstrom': ('length', 'angstrom'),
    'bohr': ('length', 'bohr'),
    'electronvolt': ('energy', 'ev'),
    'hartree': ('energy', 'hartree'),
    'rydberg': ('energy', 'rydberg'),
    'kcal/mol': ('energy', 'kcal/mol'),
    'electronvoltperangstrom': ('force', ('ev', 'angstrom')),
    'hartreeperbohr': ('force', ('hartree', 'bohr')),
    'kcal/mol/angstrom': ('force', ('kcal/mol', 'angstrom')),
    'bar': ('stress', 'bar'),
    'kbar': ('stress', 'kbar'),
    'gpa': ('stress', 'gpa'),
    'pa': ('stress', 'pa'),
}
_FITSNAP_KINDS = {
    'PositionsStyle': 'length',
    'LatticeStyle': 'length',
    'EnergyStyle': 'energy',
    'ForcesStyle': 'force',
    'StressStyle': 'stress',
}


def fitsnap_style_factor(key: str, style: str) -> float:
    """Factor converting a FitSNAP JSON quantity ``key`` given in ``style`` to stored units.

    FitSNAP stresses carry the pressure sign, so the stress factor is negative.
    """
    kind, unit = _FITSNAP_STYLES.get(str(style).lower(), (None, None))
    if kind != _FITSNAP_KINDS[key]:
        raise UnitError(f'unknown unit {style!r} for {key}')
    if kind == 'length':
        return length_factor(unit)
    if kind == 'energy':
        return energy_factor(unit)
    if kind == 'force':
        return force_factor(*unit)
    return stress_factor(unit, 'pressure')
