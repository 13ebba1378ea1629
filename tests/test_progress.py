"""Live progress, quick tier: the progress file the programs write, the monitor that reads it over
a real local transport, how a line joins the process status, the foreground progress line, and
``mlpgen status`` on stored nodes."""

import io

import pytest
from click.testing import CliRunner

from aiida_mlpgen.common import progress_file


def test_progress_file_is_replaced_whole_and_read_back(tmp_path):
    clock = iter([100.0, 130.0, 160.0])
    write = progress_file.ProgressFile(tmp_path, clock=lambda: next(clock))
    write('iteration 10/100, loss 0.5', 10, 100)
    write('iteration 20/100, loss 0.25', 20, 100)
    assert sorted(p.name for p in tmp_path.iterdir()) == [progress_file.PROGRESS_FILE]  # no partial file left
    record = progress_file.read((tmp_path / progress_file.PROGRESS_FILE).read_text())
    assert record == {'text': 'iteration 20/100, loss 0.25', 'step': 20, 'total': 100, 'started': 100.0, 'time': 160.0}
    # 60 s for 20 steps: 80 steps to go take 240 s
    assert progress_file.describe(record) == 'iteration 20/100, loss 0.25, ETA 4 min'


@pytest.mark.parametrize(
    'content',
    [b'', b'{', b'[1, 2]', b'{"step": 3}', b'{"text": 5}', b'\xff\xfe'],
    ids=['empty', 'truncated', 'list', 'no text', 'text not a string', 'binary'],
)
def test_a_progress_file_that_is_not_one_reads_as_none(content):
    assert progress_file.read(content) is None


@pytest.mark.parametrize(
    'record',
    [
        {'text': 'stage 2/3', 'step': 2, 'total': 3, 'started': 5.0, 'time': 5.0},  # no time has passed
        {'text': 'epoch 0/30', 'step': 0, 'total': 30, 'started': 0.0, 'time': 9.0},  # nothing done yet
        {'text': 'epoch 30/30', 'step': 30, 'total': 30, 'started': 0.0, 'time': 9.0},  # done
        {'text': 'iteration 7', 'step': 7, 'total': None, 'started': 0.0, 'time': 9.0},  # no total
        {'text': 'x', 'step': True, 'total': 4, 'started': 0.0, 'time': 9.0},
        {'text': 'x', 'step': 1, 'total': float('inf'), 'started': 0.0, 'time': 9.0},
    ],
)
def test_no_eta_where_it_cannot_be_known(record):
    assert progress_file.describe(record) == record['text']


def test_duration_words():
    assert [progress_file.duration(s) for s in (45, 720, 3 * 3600 + 720)] == ['45 s', '12 min', '3.2 h']


def _running_calcjob(tmp_path, caller=None, link_label=None):
    from aiida import orm
    from aiida.common.links import LinkType

    from .conftest import local_code

    code = local_code('progress-true', '/bin/true')
    node = orm.CalcJobNode(computer=code.computer, process_type='aiida.calculations:mlpgen.n2p2')
    node.set_process_label('NnpCalculation')
    if caller is not None:
        node.base.links.add_incoming(caller, LinkType.CALL_CALC, link_label)
    node.store()
    node.set_remote_workdir(str(tmp_path))
    return node


def test_monitor_publishes_the_job_progress_into_extras_and_status(tmp_path):
    from aiida.transports.plugins.local import LocalTransport

    from aiida_mlpgen.calculations import progress

    node = _running_calcjob(tmp_path)
    progress.follow(node)
    heard = []
    progress.LISTENERS.append(lambda n, text, fraction: heard.append((n.pk, text, fraction)))
    try:
        with LocalTransport() as transport:
            assert progress.progress_monitor(node, transport) is None  # no file yet: no news
            assert progress.PROGRESS_EXTRA not in node.base.extras.all
            node.set_process_status('Monitoring scheduler: job state RUNNING')  # what the engine writes
            clock = iter([0.0, 50.0])
            progress_file.ProgressFile(tmp_path, clock=lambda: next(clock))('epoch 5/30, E RMSE 4 meV/atom', 5, 30)
            assert progress.progress_monitor(node, transport) is None  # never stops the job
    finally:
        progress.LISTENERS.pop()
    line = 'epoch 5/30, E RMSE 4 meV/atom, ETA 4 min'
    assert node.base.extras.get(progress.PROGRESS_EXTRA) == line
    assert node.base.extras.get(progress.PROGRESS_FRACTION_EXTRA) == [5, 30]
    assert node.process_status == f'Monitoring scheduler: job state RUNNING | {line}'
    node.set_process_status('Monitoring scheduler: job state RUNNING')  # the engine's next poll keeps the line
    assert node.process_status == f'Monitoring scheduler: job state RUNNING | {line}'
    assert heard == [(node.pk, line, [5, 30])]


def test_monitor_ignores_a_garbled_progress_file(tmp_path):
    from aiida.transports.plugins.local import LocalTransport

    from aiida_mlpgen.calculations import progress

    node = _running_calcjob(tmp_path)
    (tmp_path / progress_file.PROGRESS_FILE).write_text('{"text": ')
    with LocalTransport() as transport:
        assert progress.progress_monitor(node, transport) is None
    assert progress.PROGRESS_EXTRA not in node.base.extras.all


def test_every_fit_gets_the_progress_monitor():
    from aiida_mlpgen import potential_types
    from aiida_mlpgen.calculations.progress import MONITOR

    for kind in potential_types.all_types():
        port = kind.calculation_class().spec().inputs['monitors']['progress']
        assert port.default().get_dict() == MONITOR, kind.name


def test_progress_bar_and_plain_lines_for_a_log_file():
    from aiida import orm

    from aiida_mlpgen.calculations import progress
    from aiida_mlpgen.cli.progress_bar import ProgressLine, bar

    assert bar([3, 10]) == '[######--------------]  30% '
    assert bar([12, 10]).startswith('[####################] 100%')
    assert bar(None) == '' and bar([1, 0]) == ''
    node = orm.WorkflowNode()
    node.set_process_label('OptimizationWorkChain')
    node.store()
    stream = io.StringIO()  # not a terminal: one plain line per new progress
    with ProgressLine('SNAP optimisation', stream=stream):
        progress.publish(node, 'trial 1/4, best 0.01', 1, 4)
        progress.publish(node, 'trial 1/4, best 0.01', 1, 4)  # unchanged: no second line
        progress.publish(node, 'trial 2/4, best 0.008', 2, 4)
    assert progress.LISTENERS == []
    lines = stream.getvalue().splitlines()
    assert [line.split(' s  ', 1)[1] for line in lines[:2]] == [
        f'OptimizationWorkChain<{node.pk}>: trial 1/4, best 0.01',
        f'OptimizationWorkChain<{node.pk}>: trial 2/4, best 0.008',
    ]
    assert lines[2].startswith('  SNAP optimisation: done in ')


def _invoke(*args):
    from aiida_mlpgen.cli import cmd_root

    return CliRunner().invoke(cmd_root, list(map(str, args)), catch_exceptions=False)


def test_status_shows_a_tree_with_the_running_fit_and_counts_the_ended(tmp_path):
    from aiida import orm
    from plumpy.process_states import ProcessState

    from aiida_mlpgen.calculations import progress

    parent = orm.WorkflowNode(process_type='aiida.workflows:mlpgen.optimization')
    parent.set_process_label('OptimizationWorkChain')
    parent.set_process_state(ProcessState.WAITING)
    parent.store()
    progress.publish(parent, 'trial 3/8, best 0.0123 (rmse energy)', 3, 8)
    children = []
    for state in (ProcessState.FINISHED, ProcessState.FINISHED, ProcessState.RUNNING):
        child = _running_calcjob(tmp_path, parent, f'trial_{len(children)}')
        child.set_process_state(state)
        if state is ProcessState.FINISHED:
            child.set_exit_status(0 if not children else 410)
            child.seal()
        children.append(child)
    progress.publish(children[2], 'epoch 7/30, E RMSE 3 meV/atom', 7, 30)
    result = _invoke('status', parent.pk)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert 'trial 3/8, best 0.0123 (rmse energy)' in lines[2] and lines[2].startswith(str(parent.pk))
    assert '2 ended, 1 of them failed or killed' in lines[3]
    assert lines[4].startswith(str(children[2].pk)) and 'epoch 7/30, E RMSE 3 meV/atom' in lines[4]
    listing = _invoke('status').output  # the list: the top process with what runs below it
    row = next(line for line in listing.splitlines() if line.startswith(str(parent.pk)))
    assert 'trial 3/8' in row and 'NnpCalculation: epoch 7/30' in row
    assert not any(line.startswith(str(children[2].pk)) for line in listing.splitlines())


def test_status_of_what_is_not_a_process_of_ours_says_so():
    from aiida import orm

    other = orm.CalcJobNode(process_type='aiida.calculations:core.arithmetic.add')
    other.set_process_label('ArithmeticAddCalculation')
    other.store()
    result = _invoke('status', other.pk)
    assert result.exit_code == 1
    assert f'ArithmeticAddCalculation<{other.pk}> is not a process of aiida-mlpgen' in result.output
    data = orm.Dict({'a': 1}).store()
    result = _invoke('status', data.pk)
    assert result.exit_code == 2 and 'is a Dict, not a process' in result.output
    result = _invoke('status', 99999999)
    assert result.exit_code == 2 and 'no single process' in result.output


def test_submit_refuses_output_folders_of_a_foreground_run(tmp_path, count_nodes):
    before = count_nodes()
    result = _invoke('fit', 'snap', 'nothing', '--submit', '--output', tmp_path / 'out')
    assert result.exit_code == 2 and '--output goes with a foreground run' in result.output
    assert not (tmp_path / 'out').exists() and count_nodes() == before
