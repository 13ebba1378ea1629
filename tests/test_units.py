"""Unit conversions against textbook values."""

import pytest

from aiida_mlpgen.common import units


def test_stress_factors():
    # 1 eV/Å^3 = 160.21766 GPa; 1 bar = 1e-4 GPa; pressure sign flips.
    assert units.stress_factor('GPa') == pytest.approx(1 / 160.21766208, rel=1e-8)
    assert units.stress_factor('bar', 'pressure') == pytest.approx(-1e-4 / 160.21766208, rel=1e-8)
    assert units.stress_factor('kB', 'pressure') == pytest.approx(-0.1 / 160.21766208, rel=1e-8)
    assert units.stress_to(units.stress_factor('kbar'), 'kbar') == pytest.approx(1.0)


def test_energy_length_force_factors():
    assert units.energy_factor('Hartree') == pytest.approx(27.211386, rel=1e-6)
    assert units.energy_factor('Ry') == pytest.approx(13.605693, rel=1e-6)
    assert units.length_factor('bohr') == pytest.approx(0.52917721, rel=1e-7)
    assert units.force_factor('hartree', 'bohr') == pytest.approx(51.422067, rel=1e-6)


@pytest.mark.parametrize(
    'call',
    [
        lambda: units.energy_factor('furlong'),
        lambda: units.stress_factor('psi'),
        lambda: units.stress_factor('bar', 'sideways'),
        lambda: units.fitsnap_style_factor('StressStyle', 'electronvolt'),
    ],
)
def test_unknown_units_raise(call):
    with pytest.raises(units.UnitError, match='unknown'):
        call()
