"""The production profile with real PostgreSQL and RabbitMQ (started by the fixture from a
temporary folder, tests/production_services.py): ``mlpgen setup --production`` and ``mlpgen
check``, the embedded profile's work moved there with ``verdi archive`` (potentials byte-identical),
an optimisation submitted to two daemon workers and the daemon restarted while it runs, and
RabbitMQ stopped: refused with a clear message, nothing stored. The load run (50 fits + an
optimisation, the daemon restarted, both profiles) is benchmarks/daemon_load.py."""

import json
import re
import textwrap
import time

import pytest

from . import production_services
from .conftest import REPO

pytestmark = [pytest.mark.slow]

HASHES = textwrap.dedent("""
    import hashlib, json
    from aiida import load_profile, orm
    from aiida_mlpgen.data.potentials import PotentialData
    load_profile()
    out = {}
    for node in orm.QueryBuilder().append(PotentialData, subclassing=True).all(flat=True):
        repo = node.base.repository
        out[node.uuid] = {name: hashlib.sha256(repo.get_object_content(name, mode='rb')).hexdigest()
                          for name in sorted(repo.list_object_names())}
    print(json.dumps(out))
""")
COUNT = 'from aiida import load_profile, orm; load_profile(); print(orm.QueryBuilder().append(orm.Node).count())'


@pytest.fixture(scope='module')
def services(tmp_path_factory):
    reason = production_services.missing()
    if reason:
        pytest.skip(reason)
    started = production_services.start(tmp_path_factory.mktemp('production'))
    yield started
    started.stop()


def _status_until(mlpgen_cli, pk, pattern, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = mlpgen_cli('status', pk).stdout
        if re.search(pattern, text, re.M):
            return text
        time.sleep(2)
    raise AssertionError(f'{pattern!r} not within {timeout} s:\n{text}')


def test_production_profile_takes_the_embedded_work_and_runs_submitted_fits(services, mlpgen_cli, tmp_path):
    mlpgen_cli('setup')
    mlpgen_cli('import', REPO / 'examples' / 'data' / 'Mo_mlearn_slice.json', '-l', 'mo')
    fitted = mlpgen_cli('fit', 'snap', 'mo', '-p', 'twojmax=4', '--output', tmp_path / 'fit').stdout
    assert re.search(r'potential SnapPotentialData<\d+>', fitted)
    embedded = json.loads(mlpgen_cli('-c', HASHES, program='python').stdout.splitlines()[-1])
    assert len(embedded) == 1
    archive = tmp_path / 'embedded.aiida'
    mlpgen_cli('archive', 'create', '--all', archive, program='verdi')

    made = mlpgen_cli('setup', '--production', *services.setup_arguments()).stdout
    assert 'created  profile mlpgen-production  (storage core.psql_dos (database aiida-mlpgen-production)' in made
    assert 'default profile is now mlpgen-production' in made and 'created  code fitsnap@localhost' in made
    again = mlpgen_cli('setup', '--production', *services.setup_arguments()).stdout
    assert 'nothing to do: everything exists' in again
    checked = mlpgen_cli('check').stdout
    assert 'ok    storage  core.psql_dos: reachable' in checked and 'ok    broker   core.rabbitmq: answers' in checked

    mlpgen_cli('archive', 'import', archive, program='verdi')
    moved = json.loads(mlpgen_cli('-c', HASHES, program='python').stdout.splitlines()[-1])
    assert moved == embedded  # the same potentials, byte for byte, under the same UUIDs

    mlpgen_cli('daemon', 'start', '2', program='verdi')
    try:
        optimise = '--optimize rcutfac --budget 4 --in-flight 2 --submit'.split()
        search = mlpgen_cli('fit', 'snap', 'mo', '-p', 'twojmax=2', *optimise).stdout
        assert 'Started the AiiDA daemon' not in search  # running already, with its two workers
        search_pk = int(re.search(r'Submitted \w+<(\d+)>', search).group(1))
        _status_until(mlpgen_cli, search_pk, r'trial \d/4, best')  # the optimisation's own progress line
        # the daemon restarted in the middle: RabbitMQ hands the processes to the new workers
        mlpgen_cli('config', 'set', 'daemon.timeout', '60', program='verdi')
        mlpgen_cli('daemon', 'restart', program='verdi', timeout=180)
        _status_until(mlpgen_cli, search_pk, rf'^{search_pk}\s+MlpGeneratorWorkChain\s+Finished.*finished$')
        report = mlpgen_cli('report', search_pk, tmp_path / 'search').stdout
        assert 'Optimisation: 4 trials, best trial' in report
        # the delivered potential is refitted on all 39 structures; the search's validation errors follow
        assert re.search(r'^energy \[eV/atom\], train\s.*\n.*\nALL\s+39\s', report, re.M)
        assert 'Hyperparameter search: best trial' in report and 'validation errors (on the validation' in report
        rows = (tmp_path / 'search' / 'trials.csv').read_text().splitlines()
        assert rows[0].startswith('trial,pk,exit_status,rcutfac') and len(rows) == 5
        assert (tmp_path / 'search' / 'objective.png').read_bytes()[:4] == b'\x89PNG'

        services.stop_rabbitmq()
        before = mlpgen_cli('-c', COUNT, program='python').stdout.split()[-1]
        refused = mlpgen_cli('fit', 'snap', 'mo', '-p', 'twojmax=2', '--submit', check=False)
        assert refused.returncode == 1 and 'does not answer' in refused.stderr and 'Traceback' not in refused.stderr
        assert mlpgen_cli('-c', COUNT, program='python').stdout.split()[-1] == before
        failing = mlpgen_cli('check', check=False)
        assert failing.returncode == 1 and 'FAIL  broker   core.rabbitmq: does not answer' in failing.stdout
    finally:
        mlpgen_cli('daemon', 'stop', program='verdi', check=False, timeout=120)
