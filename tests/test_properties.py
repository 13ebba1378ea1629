"""Material-property definitions (the physics the validation workflow runs), checked on ASE's EMT Cu."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa

from aiida_mlpgen.engines.properties.defects import vacancy_formation_energy
from aiida_mlpgen.engines.properties.elastic import cubic_constants, elastic_constants
from aiida_mlpgen.engines.properties.eos import equation_of_state, fit_birch_murnaghan
from aiida_mlpgen.engines.properties.surfaces import surface_energy


@pytest.fixture(scope='module')
def cu():
    atoms = bulk('Cu', 'fcc', a=3.6, cubic=True)
    result = equation_of_state(atoms, EMT())
    atoms.set_cell(atoms.cell[:] * result.scale, scale_atoms=True)
    return atoms, result


def test_eos_agrees_with_ase(cu):
    atoms, result = cu
    ase_eos = EquationOfState(result.volumes, result.energies, eos='birchmurnaghan')
    v0, e0, b = ase_eos.fit()
    assert result.v0 == pytest.approx(v0, rel=1e-6)
    assert result.e0 == pytest.approx(e0, abs=1e-8)
    assert result.bulk_modulus == pytest.approx(b / GPa, rel=1e-4)
    assert atoms.cell[0, 0] == pytest.approx(v0 ** (1 / 3), rel=1e-6)  # conventional cubic cell: V = a³
    with pytest.raises(ValueError, match='outside the sampled volumes'):
        fit_birch_murnaghan(result.volumes[:4], result.energies[:4], atoms.get_volume())


def test_elastic_constants_are_consistent_with_the_eos(cu):
    atoms, result = cu
    c = elastic_constants(atoms, EMT())
    cubic = cubic_constants(c)
    assert np.allclose(c, c.T) and abs(c[0, 3]) < 1e-3  # cubic symmetry, no normal-shear coupling
    assert cubic['bulk_modulus'] == pytest.approx(result.bulk_modulus, rel=0.01)
    assert cubic['C11'] > cubic['C12'] > 0 and cubic['C44'] > 0  # mechanically stable fcc


def test_vacancy_and_surfaces(cu):
    atoms, _ = cu
    vacancy = vacancy_formation_energy(atoms, EMT(), repeat=(2, 2, 2))
    assert 0.8 < vacancy < 1.6  # EMT Cu: about 1.1-1.3 eV
    g100 = surface_energy(atoms, EMT(), (1, 0, 0), layers=5)
    g111 = surface_energy(atoms, EMT(), (1, 1, 1), layers=5)
    assert 0.5 < g111 < g100 < 2.5  # J/m²; close-packed facet lowest
