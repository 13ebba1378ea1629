"""``--submit`` and ``mlpgen status`` through the real command, daemon and fitting codes: a fit
sent to the daemon returns at once, its progress comes from the running job's own progress file
(NNP epochs, ACE iterations) into ``mlpgen status`` and ``verdi process list``, the daemon is
restarted under it, and it ends with the metrics of the same fit run in the foreground. A broker
that does not answer is refused before anything is stored."""

import json
import re
import socket
import textwrap
import time
from pathlib import Path

import pytest

from .conftest import REPO
from .test_hostile_input import _running_under

pytestmark = [pytest.mark.slow]

NNP = ('-p', 'epochs=6', '-p', 'nodes_per_layer=5', '-p', 'cutoff=4.5')  # 4.5 Å: a third less time
ACE = ('-p', 'number_of_functions=12', '-p', 'cutoff=5', '-p', 'max_iterations=300', '-p', 'min_iterations=300')


def _pk(output: str) -> int:
    return int(re.search(r'Submitted \w+<(\d+)>', output).group(1))


def _wait_for(mlpgen_cli, pk, pattern, timeout=240):
    """``mlpgen status PK`` until its output matches ``pattern``; that output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = mlpgen_cli('status', pk).stdout
        if re.search(pattern, text):
            return text
        time.sleep(1)
    raise AssertionError(f'no {pattern!r} within {timeout} s:\n{text}')


def _command_line(pid: int) -> str:
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode()
    except OSError:
        return ''


def _metrics(mlpgen_cli, *pks) -> list[dict]:
    script = textwrap.dedent(f"""
        import json
        from aiida import load_profile, orm
        load_profile()
        print(json.dumps([orm.load_node(pk).outputs.metrics.get_dict() for pk in {list(pks)}]))
    """)
    return json.loads(mlpgen_cli('-c', script, program='python').stdout.splitlines()[-1])


def test_submitted_fits_show_live_progress_and_end_like_foreground_ones(mlpgen_cli, tmp_path):
    mlpgen_cli('setup')
    mlpgen_cli('config', 'unset', 'caching.enabled_for', program='verdi')  # the foreground fit runs again
    mlpgen_cli('import', REPO / 'examples' / 'data' / 'Mo_mlearn_slice.json', '-l', 'mo')
    try:
        nnp = mlpgen_cli('fit', 'nnp', 'mo', *NNP, '--submit').stdout
        assert 'Started the AiiDA daemon' in nnp and f'mlpgen status {_pk(nnp)}' in nnp
        ace = mlpgen_cli('fit', 'ace', 'mo', *ACE, '--submit').stdout
        workdir = mlpgen_cli.aiida_path / '.aiida' / 'scratch'
        assert 'Started the AiiDA daemon' not in ace  # it runs already
        nnp_pk, ace_pk = _pk(nnp), _pk(ace)
        assert 'Finished' not in mlpgen_cli('status', nnp_pk).stdout  # the command returned before the fit ended

        line = _wait_for(mlpgen_cli, nnp_pk, r'epoch \d+/6, E RMSE [\d.]+ meV/atom, F RMSE [\d.]+ eV/A')
        # a job in the scheduler is Waiting; a worker busy with it (polling, updating) shows Running
        assert re.search(rf'^{nnp_pk}\s+NnpCalculation\s+(Waiting|Running)\s', line, re.M), line
        # the daemon restarted while both run: the new worker takes them up again, progress and all
        mlpgen_cli('config', 'set', 'daemon.timeout', '60', program='verdi')
        mlpgen_cli('daemon', 'restart', program='verdi', timeout=180)
        line = _wait_for(mlpgen_cli, ace_pk, r'iteration \d+/300, loss [\d.e+-]+, ETA \d+')
        listing = mlpgen_cli('process', 'list', program='verdi').stdout  # the same text for verdi
        assert re.search(rf'{ace_pk} .*job state RUNNING \| iteration \d+/300, loss', listing), listing
        overview = mlpgen_cli('status').stdout
        assert re.search(rf'^{ace_pk}\s+PacemakerCalculation\s+(Waiting|Running)\s+.*iteration \d+/300', overview, re.M)

        # enough of ACE: `verdi process kill` reaches the daemon over the embedded ZeroMQ broker,
        # the process is Killed within seconds and its job (mlpgen-pacemaker) is stopped
        start = time.monotonic()
        killed = mlpgen_cli('process', 'kill', ace_pk, program='verdi', timeout=120)
        assert f'Request to kill Process<{ace_pk}> processed' in killed.stdout + killed.stderr
        assert time.monotonic() - start < 30
        assert re.search(rf'^{ace_pk}\s+PacemakerCalculation\s+Killed', mlpgen_cli('status', '-a').stdout, re.M)
        time.sleep(1)
        assert not [pid for pid in _running_under(workdir) if 'pacemaker' in _command_line(pid)]
        _wait_for(mlpgen_cli, nnp_pk, r'finished', timeout=300)
        report = mlpgen_cli('report', nnp_pk, tmp_path / 'submitted').stdout
        assert f'NnpCalculation<{nnp_pk}>' in report and (tmp_path / 'submitted' / 'report.txt').exists()
        foreground = mlpgen_cli('fit', 'nnp', 'mo', *NNP, '--output', tmp_path / 'foreground')
        fg_pk = int(re.search(r'Process NnpCalculation<(\d+)>', foreground.stdout).group(1))
        # stderr is no terminal here: the progress comes as plain lines, as into a log file (which
        # lines depends on when the monitor polls: a 6-epoch fit may end between two polls)
        line = rf'^ +\d+ s  NnpCalculation<{fg_pk}>: (preparing: symmetry-function ranges|epoch \d+/6, E RMSE)'
        assert re.search(line, foreground.stderr, re.M), foreground.stderr
        submitted, direct = _metrics(mlpgen_cli, nnp_pk, fg_pk)
        for quantity in ('energy', 'forces'):
            for split in ('train', 'validation'):
                a, b = submitted[quantity][split]['overall'], direct[quantity][split]['overall']
                assert a['rmse'] == pytest.approx(b['rmse'], rel=1e-9), (quantity, split)
        assert re.search(
            rf'^{nnp_pk}\s+NnpCalculation\s+Finished\s+.*finished$', mlpgen_cli('status', '-a').stdout, re.M
        )
    finally:
        mlpgen_cli('daemon', 'stop', program='verdi', check=False)


def test_submit_with_a_broker_that_does_not_answer_stores_nothing(mlpgen_cli):
    """A profile whose broker (RabbitMQ here) is down: --submit says so, nothing is stored and no
    daemon is left running. (The port is one nothing listens on.)"""
    mlpgen_cli('setup')
    mlpgen_cli('import', REPO / 'examples' / 'data' / 'Mo_mlearn_slice.json', '-l', 'mo')
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    path = mlpgen_cli.aiida_path / '.aiida' / 'config.json'
    config = json.loads(path.read_text())
    profile = config['profiles'][config['default_profile']]
    profile['process_control'] = {
        'backend': 'core.rabbitmq',
        'config': {
            'broker_protocol': 'amqp',
            'broker_username': 'guest',
            'broker_password': 'guest',
            'broker_host': '127.0.0.1',
            'broker_port': port,
            'broker_virtual_host': '',
        },
    }
    path.write_text(json.dumps(config))
    count = 'from aiida import load_profile, orm; load_profile(); print(orm.QueryBuilder().append(orm.Node).count())'
    before = mlpgen_cli('-c', count, program='python').stdout.split()[-1]
    result = mlpgen_cli('fit', 'nnp', 'mo', *NNP, '--submit', check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f'RabbitMQ at 127.0.0.1:{port}) does not answer' in result.stderr
    assert 'nothing was submitted' in result.stderr and 'Traceback' not in result.stderr
    assert mlpgen_cli('-c', count, program='python').stdout.split()[-1] == before
    from ase.build import bulk

    bulk('Cu', 'fcc', a=3.6).write(mlpgen_cli.aiida_path.parent / 'cu.cif')
    emt = 'ase:ase.calculators.emt:EMT'
    for command in (  # every long command's --submit goes the same way
        ('validate', emt, 'cu.cif', '--properties', 'eos'),
        ('generate', 'cu.cif', '--labeller', emt),
        ('learn', 'mo', '--type', 'snap', '--labeller', emt),
    ):
        result = mlpgen_cli(*command, '--submit', check=False)
        assert result.returncode == 1 and 'does not answer' in result.stderr, (command, result.stderr)
        assert 'nothing was submitted' in result.stderr and 'Traceback' not in result.stderr
        assert mlpgen_cli('-c', count, program='python').stdout.split()[-1] == before, command
    daemon = mlpgen_cli('daemon', 'status', program='verdi', check=False)
    assert 'The daemon is not running' in daemon.stdout + daemon.stderr
