"""Validation: property CalcJobs in LAMMPS and ASE, the ValidationWorkChain, ``mlpgen validate``."""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.calculations.properties import AsePropertiesCalculation, LammpsPropertiesCalculation
from aiida_mlpgen.data.potentials import AseCalculatorPotentialData, SnapPotentialData

from .conftest import SHARED, local_code

BIN = Path(sys.executable).parent


@pytest.fixture
def codes(aiida_profile):
    return {'lammps': local_code('lmp', BIN / 'lmp'), 'ase': local_code('mlpgen-properties', BIN / 'mlpgen-properties')}


@pytest.fixture
def mo_snap(aiida_profile):
    files = sorted(glob.glob(str(SHARED / 'reference_potentials/mlearn/Mo/snap/*')))
    return SnapPotentialData.from_files(*files).store()


def mo_bcc(a=3.16):
    return orm.StructureData(ase=bulk('Mo', 'bcc', a=a, cubic=True))


def run_property(engine, codes, potential, structure, name, settings=None):
    process = {'lammps': LammpsPropertiesCalculation, 'ase': AsePropertiesCalculation}[engine]
    inputs = {'code': codes[engine], 'potential': potential, 'structure': structure, 'property': orm.Str(name)}
    if settings:
        inputs['settings'] = orm.Dict(settings)
    results, node = run_get_node(process, **inputs)
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    return results['properties'].get_dict(), results['curves'].get_dict()


@pytest.mark.parametrize('name, settings', [
    ('eos', {'n_points': 7, 'max_strain': 0.03}),
    ('vacancy', {'supercell': [2, 2, 2]}),
    ('surface', {'miller': [1, 0, 0], 'layers': 4}),
])
def test_lammps_and_ase_engines_agree_on_mo_snap(name, settings, codes, mo_snap):
    lammps, _ = run_property('lammps', codes, mo_snap, mo_bcc(), name, settings)
    ase, _ = run_property('ase', codes, mo_snap, mo_bcc(), name, settings)
    assert set(lammps) == set(ase)
    for key in lammps:
        assert lammps[key] == pytest.approx(ase[key], rel=1e-3, abs=1e-6), key


@pytest.fixture
def emt_cu(aiida_profile):
    return AseCalculatorPotentialData('ase.calculators.emt:EMT', ['Cu']).store()


def test_emt_against_itself_has_no_error(codes, emt_cu):
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    structure = orm.StructureData(ase=bulk('Cu', 'fcc', a=3.65, cubic=True))
    phases = {'bcc': orm.StructureData(ase=bulk('Cu', 'bcc', a=2.87, cubic=True))}
    properties = ['eos', 'elastic', 'vacancy', 'interstitial', 'surface:100', 'surface:111', 'gsf:111:11-2',
                  'phonons', 'phases']
    settings = {'vacancy': {'supercell': [2, 2, 2]}, 'interstitial': {'supercell': [2, 2, 2]},
                'surface': {'layers': 4}, 'phonons': {'supercell': [2, 2, 2]}, 'gsf': {'min_height': 12.0}}
    results, node = run_get_node(
        ValidationWorkChain, potential=emt_cu, structure=structure, phases=phases, properties=orm.List(properties),
        settings=orm.Dict(settings), engine=orm.Str('ase'), code=codes['ase'], reference_potential=emt_cu)
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    rows = results['comparison']['rows']
    keys = {row['property'] for row in rows}
    assert {'lattice_parameter', 'bulk_modulus', 'C11', 'C12', 'C44', 'vacancy_formation_energy',
            'interstitial_formation_energy', 'surface_energy_100', 'surface_energy_111', 'usf_energy_111_11-2',
            'energy_difference_bcc', 'phonon_max_frequency'} <= keys
    for row in rows:
        assert row['dft'] is not None, row
        assert abs(row['abs_error']) <= 1e-3 * abs(row['dft']) + 1e-9, row
    values = results['values'].get_dict()
    assert values['lattice_parameter'] == pytest.approx(3.59, abs=0.01)  # EMT Cu
    assert 0 < values['energy_difference_bcc'] < 0.1  # fcc is EMT Cu's ground state
    assert {'eos.png', 'relative_errors.png', 'phonons.png'} <= set(results['plots'].base.repository.list_object_names())
