"""Validation: property CalcJobs in LAMMPS and ASE, the ValidationWorkChain, ``mlpgen validate``."""

from __future__ import annotations

import glob

import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.calculations.properties import AsePropertiesCalculation, LammpsPropertiesCalculation
from aiida_mlpgen.data.potentials import AseCalculatorPotentialData, SnapPotentialData

from .conftest import BIN, SHARED, local_code

pytestmark = [pytest.mark.slow]


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


@pytest.mark.parametrize(
    'name, settings',
    [
        ('eos', {'n_points': 7, 'max_strain': 0.03}),
        ('vacancy', {'supercell': [2, 2, 2]}),
        ('surface', {'miller': [1, 0, 0], 'layers': 4}),
    ],
)
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
    properties = [
        'eos',
        'elastic',
        'vacancy',
        'interstitial',
        'surface:100',
        'surface:111',
        'gsf:111:11-2',
        'phonons',
        'phases',
    ]
    settings = {
        'vacancy': {'supercell': [2, 2, 2]},
        'interstitial': {'supercell': [2, 2, 2]},
        'surface': {'layers': 4},
        'phonons': {'supercell': [2, 2, 2]},
        'gsf': {'min_height': 12.0},
    }
    results, node = run_get_node(
        ValidationWorkChain,
        potential=emt_cu,
        structure=structure,
        phases=phases,
        properties=orm.List(properties),
        settings=orm.Dict(settings),
        engine=orm.Str('ase'),
        code=codes['ase'],
        reference_potential=emt_cu,
    )
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    rows = results['comparison']['rows']
    keys = {row['property'] for row in rows}
    assert {
        'lattice_parameter',
        'bulk_modulus',
        'C11',
        'C12',
        'C44',
        'vacancy_formation_energy',
        'interstitial_formation_energy',
        'surface_energy_100',
        'surface_energy_111',
        'usf_energy_111_11-2',
        'energy_difference_bcc',
        'phonon_max_frequency',
    } <= keys
    for row in rows:
        assert row['dft'] is not None, row
        assert abs(row['abs_error']) <= 1e-3 * abs(row['dft']) + 1e-9, row
    values = results['values'].get_dict()
    assert values['lattice_parameter'] == pytest.approx(3.59, abs=0.01)  # EMT Cu
    assert 0 < values['energy_difference_bcc'] < 0.1  # fcc is EMT Cu's ground state
    plots = set(results['plots'].base.repository.list_object_names())
    assert {'eos.png', 'relative_errors.png', 'phonons.png', 'gsf_111_11m2.png'} <= plots


@pytest.fixture
def lj_argon(aiida_profile):
    from aiida_mlpgen.data.potentials import ClassicalPotentialData

    return ClassicalPotentialData('lj/cut 8.5', ['1 1 0.0104 3.40'], ['Ar'], 8.5).store()


def test_thermal_expansion_from_npt_md_in_lammps(codes, lj_argon):
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    settings = {
        'thermal_expansion': {
            'temperatures': [20, 60],
            'supercell': [3, 3, 3],
            'steps': 3000,
            'equilibration': 1000,
            'timestep': 0.005,
        }
    }
    results, node = run_get_node(
        ValidationWorkChain,
        potential=lj_argon,
        structure=orm.StructureData(ase=bulk('Ar', 'fcc', a=5.3, cubic=True)),
        properties=orm.List(['eos', 'thermal_expansion']),
        settings=orm.Dict(settings),
        code=codes['lammps'],
    )
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    values = results['values'].get_dict()
    assert 5.2 < values['lattice_parameter'] < 5.3  # LJ fcc: a = 1.55 σ at 0 K
    assert values['lattice_parameter'] < values['lattice_parameter_20K'] < values['lattice_parameter_60K']
    assert 5e-5 < values['thermal_expansion_coefficient'] < 5e-3  # 1/K; solid argon ~ 5e-4
    assert 'thermal_expansion.png' in results['plots'].base.repository.list_object_names()


def test_dft_reference_dict_gives_errors_and_plots(codes, mo_snap):
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    reference = {
        'lattice_parameter': 3.163,
        'bulk_modulus': 263.0,
        'C44': 100.0,
        'curves': {'eos': {'volumes_per_atom': [15.0, 15.8, 16.6], 'energies_per_atom': [-10.80, -10.85, -10.82]}},
    }
    results, node = run_get_node(
        ValidationWorkChain,
        potential=mo_snap,
        structure=mo_bcc(),
        properties=orm.List(['eos', 'elastic']),
        reference=orm.Dict(reference),
        code=codes['lammps'],
    )
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    rows = {row['property']: row for row in results['comparison']['rows']}
    values = results['values'].get_dict()
    assert rows['lattice_parameter']['abs_error'] == pytest.approx(values['lattice_parameter'] - 3.163)
    assert rows['C44']['rel_error_percent'] == pytest.approx(values['C44'] - 100.0)  # |DFT| = 100
    assert rows['C11']['dft'] is None  # no DFT value given: shown, not compared
    text = results['report'].get_content()
    assert 'lattice_parameter' in text and 'error %' in text
    assert {'eos.png', 'relative_errors.png'} <= set(results['plots'].base.repository.list_object_names())
    equilibrium = results['equilibrium_structure'].get_ase()
    assert equilibrium.cell[0, 0] == pytest.approx(values['lattice_parameter'], rel=1e-9)


@pytest.mark.parametrize(
    'change, message',
    [
        ({'engine': 'lammps', 'potential': 'emt'}, 'runs only as an ASE calculator'),
        ({'properties': ['eos', 'thermal_expansion']}, 'needs the lammps engine'),
        ({'properties': ['eos', 'bandgap']}, 'unknown property'),
        ({'settings': {'vacancy': {'size': 3}}, 'properties': ['vacancy']}, 'unknown setting'),
        (
            {'settings': {'gsf': {'plane': [1, 1, 1], 'direction': [1, 0, 0]}}, 'properties': ['gsf']},
            'not lie in the plane',
        ),
        ({'structure': 'mo'}, 'not in the potential'),
        ({'structure': 'molecule'}, 'periodic in all three'),
        ({'properties': ['eos', 'phases']}, 'give the other phases'),
        ({'reference': {'C11': 1.0}, 'reference_potential': True}, 'not both'),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(change, message, codes, emt_cu, mo_snap, count_nodes):
    from ase import Atoms

    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    dimer = Atoms('Cu2', positions=[[0, 0, 0], [0, 0, 2.3]], cell=[10, 10, 10], pbc=False)
    structures = {
        'cu': orm.StructureData(ase=bulk('Cu', 'fcc', a=3.6, cubic=True)).store(),
        'mo': mo_bcc().store(),
        'molecule': orm.StructureData(ase=dimer).store(),
    }
    inputs = {
        'potential': emt_cu,
        'structure': structures[change.get('structure', 'cu')],
        'properties': orm.List(change.get('properties', ['eos'])).store(),
        'engine': orm.Str(change.get('engine', 'ase')).store(),
        'code': codes[change.get('engine', 'ase')],
    }
    if 'settings' in change:
        inputs['settings'] = orm.Dict(change['settings']).store()
    if 'reference' in change:
        inputs['reference'] = orm.Dict(change['reference']).store()
    if 'reference_potential' in change:
        inputs['reference_potential'] = emt_cu
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(ValidationWorkChain, **inputs)
    assert count_nodes() == before


def test_mlpgen_validate_command(mlpgen_cli, tmp_path):
    import json

    bulk('Cu', 'fcc', a=3.62, cubic=True).write(tmp_path / 'Cu.cif')
    settings = json.dumps({'vacancy': {'supercell': [2, 2, 2]}, 'surface': {'layers': 4}})
    reference = json.dumps({'lattice_parameter': 3.615, 'C44': 82.0})
    out = mlpgen_cli(
        'validate',
        'ase:ase.calculators.emt:EMT',
        'Cu.cif',
        '--engine',
        'ase',
        '--properties',
        'eos,elastic,vacancy,surface:100',
        '--settings',
        settings,
        '--reference',
        reference,
        '--json',
        'out.json',
        '--output-dir',
        'report',
    )
    values = json.loads((tmp_path / 'out.json').read_text())
    for key in (
        'lattice_parameter',
        'bulk_modulus',
        'C11',
        'C12',
        'C44',
        'vacancy_formation_energy',
        'surface_energy_100',
    ):
        assert isinstance(values[key], float), key
    assert values['lattice_parameter'] == pytest.approx(3.59, abs=0.01)
    assert 'surface_energy_100' in out.stdout and (tmp_path / 'report' / 'eos.png').exists()
    row = next(line for line in out.stdout.splitlines() if line.startswith('lattice_parameter '))
    assert '3.615' in row and '-0.69' in row  # EMT's 3.590 Å is 0.7 % below the given value
    refused = mlpgen_cli('validate', 'ase:ase.calculators.emt:EMT', 'Cu.cif', '--engine', 'lammps', check=False)
    assert refused.returncode != 0 and 'runs only as an ASE calculator' in refused.stderr
