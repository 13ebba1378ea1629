"""Restart handlers, each provoked for real: the failing first run is a stand-in script around
the real code (the failure itself — out of memory, a SLURM walltime kill, a diverged training
— cannot be produced on demand here), the second run is the real code."""

import json
import sys

import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.workflows.restart import FitsnapBaseWorkChain, N2p2BaseWorkChain

from .conftest import BIN, MLEARN, copy_ta_groups, local_code, require

pytestmark = [pytest.mark.slow]

#: First call fails as ``failure`` says, later calls run the real program.
STAND_IN = r"""#!{python}
import os, subprocess, sys
from pathlib import Path
marker = Path({marker!r})
real = {real!r}
first_train = not marker.exists() and (sys.argv[1:2] == ['train'] or {always!r})
if not first_train:
    sys.exit(subprocess.call([real, *sys.argv[1:]]))
marker.write_text('failed once')
failure = {failure!r}
if failure == 'memory':
    sys.stderr.write('Traceback (most recent call last):\nMemoryError: Unable to allocate 93.1 GiB\n')
    sys.exit(1)
if failure == 'walltime' and {always!r}:  # killed before it could write anything
    sys.stderr.write('slurmstepd: error: *** JOB 4243 ON node01 CANCELLED AT 2026-11-25T12:00:00 '
                     'DUE TO TIME LIMIT ***\n')
    sys.exit(1)
code = subprocess.call([real, *sys.argv[1:]])
if failure in ('walltime', 'walltime-after'):
    sys.stderr.write('slurmstepd: error: *** JOB 4242 ON node01 CANCELLED AT 2026-11-25T12:00:00 '
                     'DUE TO TIME LIMIT ***\n')
    sys.exit(1)
if failure == 'nan-snap':
    path = Path('mlpgen_pot.snapcoeff')
    lines = path.read_text().splitlines()
    last = max(i for i, line in enumerate(lines) if line.split() and line.split()[0].lstrip('-').replace('.', '', 1)
               .replace('e-', '', 1).replace('e+', '', 1).isdigit())
    lines[last] = 'nan ' + ' '.join(lines[last].split()[1:])
    path.write_text('\n'.join(lines) + '\n')
if failure == 'nan':
    lines = Path('learning-curve.out').read_text().splitlines()
    words = lines[-1].split()
    lines[-1] = ' '.join([words[0]] + ['nan'] * (len(words) - 1))
    Path('learning-curve.out').write_text('\n'.join(lines) + '\n')
sys.exit(code)
"""


def stand_in(tmp_path, label, real, failure, computer, always=False):
    script = tmp_path / f'{label}-stand-in'
    script.write_text(
        STAND_IN.format(
            python=sys.executable,
            marker=str(tmp_path / f'{label}.failed'),
            real=str(real),
            failure=failure,
            always=always,
        )
    )
    script.chmod(0o755)
    return orm.InstalledCode(label=label, computer=computer, filepath_executable=str(script)).store()


@pytest.fixture(scope='module')
def mo_small(tmp_path_factory):
    records = json.loads(require(MLEARN / 'Mo' / 'training.json').read_text())
    path = tmp_path_factory.mktemp('restart') / 'mo.json'
    path.write_text(json.dumps(records[::12]))
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    return split_training_set(TrainingSetData.from_file(path).store(), orm.Float(0.2), orm.Int(5))


NNP_TINY = {
    'epochs': 3,
    'nodes_per_layer': 6,
    'cutoff': 4.5,
    'force_update_fraction': 0.01,
    'symmetry_functions': [
        {'kind': 'radial', 'mode': 'shifted', 'n_points': 4},
        {'kind': 'narrow_angular', 'mode': 'centered', 'n_points': 2, 'zeta': [1]},
    ],
}


def test_out_of_memory_halves_the_mpi_ranks(mo_small, tmp_path):
    computer = local_code('fitsnap', BIN / 'mlpgen-fitsnap').computer
    code = stand_in(tmp_path, 'fitsnap-oom', BIN / 'mlpgen-fitsnap', 'memory', computer, always=True)
    results, node = run_get_node(
        FitsnapBaseWorkChain,
        fit={
            'training_set': mo_small,
            'code': code,
            'parameters': orm.Dict({'twojmax': 4}),
            'metadata': {'options': {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}},
        },
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 110  # ERROR_SCHEDULER_OUT_OF_MEMORY, read from the job's stderr
    assert first.get_option('resources')['num_mpiprocs_per_machine'] == 2
    assert second.get_option('resources')['num_mpiprocs_per_machine'] == 1
    assert 'potential' in results


def test_walltime_continues_nnp_training_from_the_last_weights(mo_small, tmp_path):
    computer = local_code('nnp', BIN / 'mlpgen-nnp').computer
    code = stand_in(tmp_path, 'nnp-walltime', BIN / 'mlpgen-nnp', 'walltime', computer)
    results, node = run_get_node(
        N2p2BaseWorkChain, fit={'training_set': mo_small, 'code': code, 'parameters': orm.Dict(NNP_TINY)}
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 120  # ERROR_SCHEDULER_OUT_OF_WALLTIME (SLURM's message)
    restart = second.inputs.restart_folder
    assert sorted(restart.list_object_names()) == ['input.nn', 'mlpgen-split.json', 'scaling.data', 'weights.042.data']
    # the weights of the interrupted run's last epoch are where the new run starts
    last = first.outputs.retrieved.base.repository.get_object_content('weights.042.000003.out')
    assert restart.get_object_content('weights.042.data') == last
    settings = second.outputs.retrieved.base.repository.get_object_content('input.nn')
    assert 'use_old_weights_short' in settings
    assert second.inputs.parameters['epochs'] == 1  # 3 planned, 3 done: one more
    assert 'nnp-prepare.out' not in second.outputs.retrieved.base.repository.list_object_names()  # no re-scaling
    assert results['potential'].epoch in (0, 1)


def test_nan_makes_the_kalman_filter_more_cautious(mo_small, tmp_path):
    computer = local_code('nnp', BIN / 'mlpgen-nnp').computer
    code = stand_in(tmp_path, 'nnp-nan', BIN / 'mlpgen-nnp', 'nan', computer)
    _, node = run_get_node(
        N2p2BaseWorkChain,
        fit={'training_set': mo_small, 'code': code, 'parameters': orm.Dict({**NNP_TINY, 'epochs': 1})},
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 411  # ERROR_NAN_LOSS
    kalman = second.inputs.parameters['kalman']
    assert kalman['epsilon'] == pytest.approx(0.1) and kalman['eta'] == pytest.approx(0.001)


def test_snap_walltime_doubles_the_walltime(mo_small, tmp_path):
    computer = local_code('fitsnap', BIN / 'mlpgen-fitsnap').computer
    code = stand_in(tmp_path, 'fitsnap-walltime', BIN / 'mlpgen-fitsnap', 'walltime', computer, always=True)
    _, node = run_get_node(
        FitsnapBaseWorkChain,
        fit={
            'training_set': mo_small,
            'code': code,
            'parameters': orm.Dict({'twojmax': 4}),
            'metadata': {'options': {'max_wallclock_seconds': 600}},
        },
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 120
    assert second.get_option('max_wallclock_seconds') == 1200


def test_snap_nan_switches_to_ridge(mo_small, tmp_path):
    computer = local_code('fitsnap', BIN / 'mlpgen-fitsnap').computer
    code = stand_in(tmp_path, 'fitsnap-nan', BIN / 'mlpgen-fitsnap', 'nan-snap', computer, always=True)
    _, node = run_get_node(
        FitsnapBaseWorkChain, fit={'training_set': mo_small, 'code': code, 'parameters': orm.Dict({'twojmax': 4})}
    )
    calcs = [n for n in node.called if isinstance(n, orm.CalcJobNode)]
    assert node.is_finished_ok, [(n.exit_status, n.exit_message) for n in calcs]
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 410  # ERROR_NAN_COEFFICIENTS
    assert second.inputs.parameters['solver'] == 'RIDGE'
    assert second.inputs.parameters['solver_options']['alpha'] == pytest.approx(1e-6)


ACE_TINY = {
    'cutoff': 5.0,
    'number_of_functions': 8,
    'min_iterations': 0,
    'max_iterations': 4,
    'display_step': 2,
    'min_relative_train_loss_change': 0.0,
    'min_relative_validation_loss_change': 0.0,
}


@pytest.fixture(scope='module')
def ta_fcc(tmp_path_factory):
    target = copy_ta_groups(tmp_path_factory.mktemp('ace-restart'), ('Displaced_FCC',))
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    return split_training_set(TrainingSetData.from_file(target).store(), orm.Float(0.25), orm.Int(1))


def test_ace_walltime_continues_from_the_interim_potential(ta_fcc, tmp_path):
    from aiida_mlpgen.workflows.restart import PacemakerBaseWorkChain

    computer = local_code('pacemaker', BIN / 'mlpgen-pacemaker').computer
    # the first run trains for real (writing its interim potential) and is then "killed" by SLURM
    code = stand_in(tmp_path, 'pace-walltime', BIN / 'mlpgen-pacemaker', 'walltime-after', computer, always=True)
    _, node = run_get_node(
        PacemakerBaseWorkChain, fit={'training_set': ta_fcc, 'code': code, 'parameters': orm.Dict(ACE_TINY)}
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 120
    interim = first.outputs.retrieved.base.repository.get_object_content('interim_potential_0.yaml')
    assert second.inputs.initial_potential.get_file_content('potential.yaml').decode() == interim


def test_ace_out_of_memory_halves_the_batch(ta_fcc, tmp_path):
    from aiida_mlpgen.workflows.restart import PacemakerBaseWorkChain

    computer = local_code('pacemaker', BIN / 'mlpgen-pacemaker').computer
    code = stand_in(tmp_path, 'pace-oom', BIN / 'mlpgen-pacemaker', 'memory', computer, always=True)
    _, node = run_get_node(
        PacemakerBaseWorkChain,
        fit={'training_set': ta_fcc, 'code': code, 'parameters': orm.Dict({**ACE_TINY, 'batch_size': 40})},
    )
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.pk)
    assert first.exit_status == 110
    assert second.inputs.parameters['batch_size'] == 20
