"""Material-property definitions (the physics both validation engines share), checked on ASE's EMT Cu."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa

from aiida_mlpgen.engines.properties import defects, gsf
from aiida_mlpgen.engines.properties.elastic import cubic_constants, elastic_constants
from aiida_mlpgen.engines.properties.eos import equation_of_state, fit_birch_murnaghan
from aiida_mlpgen.engines.properties.registry import compute, parse_request, request_label
from aiida_mlpgen.engines.properties.tasks import Task, dump_tasks, load_tasks


@pytest.fixture(scope='module')
def cu():
    atoms = bulk('Cu', 'fcc', a=3.6, cubic=True)
    result = equation_of_state(atoms, EMT(), max_strain=0.04)
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
    values, curves = compute('eos', bulk('Cu', 'fcc', a=3.6, cubic=True), EMT(), {'max_strain': 0.04})
    assert values['lattice_parameter'] == pytest.approx(v0 ** (1 / 3), rel=1e-6)
    assert values['bulk_modulus'] == pytest.approx(b / GPa, rel=1e-4)
    assert len(curves['volumes_per_atom']) == 11
    with pytest.raises(ValueError, match='outside the sampled volumes'):
        fit_birch_murnaghan(result.volumes[:4], result.energies[:4], atoms.get_volume())


def test_elastic_constants_are_consistent_with_the_eos(cu):
    atoms, result = cu
    c = elastic_constants(atoms, EMT())
    cubic = cubic_constants(c)
    assert np.allclose(c, c.T) and abs(c[0, 3]) < 1e-3  # cubic symmetry, no normal-shear coupling
    assert cubic['bulk_modulus_elastic'] == pytest.approx(result.bulk_modulus, rel=0.01)
    assert cubic['C11'] > cubic['C12'] > 0 and cubic['C44'] > 0  # mechanically stable fcc
    values, _ = compute('elastic', atoms, EMT(), {'relax': True})
    assert values['C11'] == pytest.approx(cubic['C11'], rel=1e-4)  # fcc: nothing to relax
    # a non-cubic cell gets the full set
    hcp, _ = compute('elastic', bulk('Cu', 'hcp', a=2.55, c=4.16), EMT(), {'relax': True})
    assert {'C11', 'C33', 'C44', 'C66', 'C13'} <= set(hcp) and hcp['C11'] != pytest.approx(hcp['C33'], rel=1e-3)


def test_vacancy_and_interstitial(cu):
    atoms, _ = cu
    vacancy, _ = compute('vacancy', atoms, EMT(), {'supercell': [2, 2, 2]})
    assert 0.8 < vacancy['vacancy_formation_energy'] < 1.6  # EMT Cu: about 1.1-1.3 eV
    # the largest void of fcc is the octahedral site (a/2 from its six neighbours)
    void = defects.largest_void(atoms)
    distances = np.linalg.norm((atoms.get_scaled_positions() - void) @ atoms.cell[:], axis=1)
    assert distances.min() == pytest.approx(atoms.cell[0, 0] / 2, rel=0.05)
    interstitial, _ = compute('interstitial', atoms, EMT(), {'supercell': [2, 2, 2]})
    assert interstitial['interstitial_formation_energy'] > vacancy['vacancy_formation_energy']
    assert 2.0 < interstitial['interstitial_formation_energy'] < 5.0
    with pytest.raises(ValueError, match='from an atom'):
        defects.interstitial_tasks(atoms, [2, 2, 2], [0, 0, 0], None)


def test_surfaces(cu):
    atoms, _ = cu
    g100 = compute('surface', atoms, EMT(), {'miller': [1, 0, 0], 'layers': 5})[0]['surface_energy_100']
    g111 = compute('surface', atoms, EMT(), {'miller': [1, 1, 1], 'layers': 5})[0]['surface_energy_111']
    assert 0.5 < g111 < g100 < 2.5  # J/m²; close-packed facet lowest


def test_stacking_fault_curve(cu):
    atoms, _ = cu
    # (111)[1-10]: a/2[1-10] (s = 0.5) is a lattice translation, and the curve is symmetric about it
    values, curves = compute(
        'gsf', atoms, EMT(), {'plane': [1, 1, 1], 'direction': [1, -1, 0], 'n_points': 9, 'min_height': 12.0}
    )
    gamma = np.array(curves['gamma'])
    assert gamma[0] == 0 and abs(gamma[4]) < 1e-6 and abs(gamma[8]) < 1e-6
    assert gamma[2] == pytest.approx(gamma[6], abs=1e-6) and gamma[1] == pytest.approx(gamma[3], abs=1e-4)
    assert values['usf_energy_111_1-10'] == pytest.approx(gamma.max()) and gamma.max() > 0.1
    cell = gsf.oriented_cell(atoms, [1, 1, 1], [1, -1, 0], 12.0)
    assert np.dot(cell.cell[0], [1, 1, 1]) == pytest.approx(0, abs=1e-9)  # a lies in the plane
    assert cell.cell.lengths()[0] == pytest.approx(atoms.cell[0, 0] * np.sqrt(2))
    with pytest.raises(ValueError, match='does not lie in the plane'):
        gsf.oriented_cell(atoms, [1, 1, 1], [1, 0, 0], 12.0)


def test_phonons_agree_with_ase_phonons(cu, tmp_path):
    from ase.phonons import Phonons

    atoms, _ = cu
    values, curves = compute('phonons', atoms, EMT(), {'supercell': [3, 3, 3], 'mesh': [8, 8, 8]})
    primitive = bulk('Cu', 'fcc', a=atoms.cell[0, 0])
    reference = Phonons(primitive, EMT(), supercell=(4, 4, 4), delta=0.01, name=str(tmp_path / 'ph'))
    reference.run()
    reference.read(acoustic=True)
    x_point = primitive.cell.bandpath().special_points['X']
    omega = reference.band_structure([x_point]).max()  # eV
    thz = omega / 4.135667696e-3
    assert values['phonon_frequency_X'] == pytest.approx(thz, rel=0.02)
    assert values['phonon_min_frequency'] > -0.05  # stable: no imaginary modes
    assert max(max(row) for row in curves['frequencies']) == pytest.approx(values['phonon_max_frequency'])


def test_requests_and_tasks_round_trip():
    assert parse_request('surface:1-10') == ('surface', {'miller': [1, -1, 0]})
    assert parse_request('gsf:110:1-11') == ('gsf', {'plane': [1, 1, 0], 'direction': [1, -1, 1]})
    assert request_label('gsf', {'plane': [1, 1, 0], 'direction': [1, -1, 1]}) == 'gsf_110_1m11'
    for bad, message in (
        ('volume', 'unknown property'),
        ('eos:100', 'takes no argument'),
        ('surface:10', 'need three'),
    ):
        with pytest.raises(ValueError, match=message):
            parse_request(bad)
    tasks = [Task('a', bulk('Cu', cubic=True), 'positions'), Task('b', bulk('Cu'), forces=True)]
    again = load_tasks(dump_tasks(tasks))
    assert [t.name for t in again] == ['a', 'b'] and again[0].relax == 'positions' and again[1].forces
    assert np.allclose(again[0].atoms.positions, tasks[0].atoms.positions)
    with pytest.raises(ValueError, match='unknown relax mode'):
        Task('c', bulk('Cu'), 'cell')
