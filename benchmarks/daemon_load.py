"""The daemon under load, on the embedded profile (SQLite + ZeroMQ) and on the production
profile (PostgreSQL + RabbitMQ): many small fits and an optimisation at once, the daemon
restarted in the middle.

    python benchmarks/daemon_load.py --profile embedded   [--fits 50] [--trials 16] [--in-flight 8]
    python benchmarks/daemon_load.py --profile production [--workers 2] [--restart-after 20]

A fresh AIIDA_PATH each time (production: PostgreSQL and RabbitMQ started from a temporary
folder by tests/production_services.py, as the tests do). ``--fits`` SNAP fits of the Mo slice
of examples/data (each its own rcutfac, so none is a cache hit) and one SNAP optimisation
(``--trials`` trials, ``--in-flight`` at once) are submitted to ``--workers`` daemon workers;
once ``--restart-after`` processes have ended the daemon is restarted. Then every submitted
process must have ended, finished OK, with exactly one job per fit, and the daemon log must
hold no "database is locked". Prints a Markdown row per profile: wall time, fits per minute,
mean latency (submission to end) and overhead (latency minus the job's own run time, from the
job folder's file times), failures, lost, duplicated, restarts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

SUBMIT = """
import json, sys
from aiida import load_profile, orm
from aiida.engine import submit
from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
from aiida_mlpgen.workflows.optimization import OptimizationWorkChain
load_profile()
fits, trials, in_flight = (int(x) for x in sys.argv[1:4])
from aiida_mlpgen.calculations.functions.training_set import split_training_set
data = split_training_set(orm.load_node(int(sys.argv[4])), orm.Float(0.2), orm.Int(3))  # the search's validation
code = orm.load_code('fitsnap@localhost')
pks = [submit(FitsnapCalculation, training_set=data, code=code,
              parameters=orm.Dict({'twojmax': 4, 'rcutfac': 4.4 + 0.005 * k, 'fit': {'stress': 'off'}})).pk
       for k in range(fits)]
search = submit(OptimizationWorkChain, training_set=data, potential_type=orm.Str('snap'), code=code,
                parameters=orm.Dict({'twojmax': 4, 'fit': {'stress': 'off'}}),
                optimize=orm.Dict({'keys': ['rcutfac', 'fit.forces'], 'budget': trials, 'max_in_flight': in_flight}))
print(json.dumps({'fits': pks, 'search': search.pk}))
"""

STATE = """
import json, sys
from aiida import load_profile, orm
load_profile()
pks = json.loads(sys.argv[1])
out = {}
for pk in pks:
    n = orm.load_node(pk)
    out[pk] = [n.process_state.value if n.process_state else None, n.exit_status]
print(json.dumps(out))
"""

SUMMARY = """
import json, os, sys
from pathlib import Path
from aiida import load_profile, orm
load_profile()
info = json.loads(sys.argv[1])
search = orm.load_node(info['search'])
trial_calcs = [c for c in search.called if isinstance(c, orm.CalcJobNode)]
rows = []
for node in [orm.load_node(pk) for pk in info['fits']] + trial_calcs:
    folder = Path(node.get_remote_workdir() or '/nonexistent')
    times = [p.stat().st_mtime for p in folder.iterdir()] if folder.is_dir() else []
    job = max(times) - min(times) if times else None
    rows.append({'latency': (node.mtime - node.ctime).total_seconds(), 'job': job, 'ok': node.is_finished_ok,
                 'job_id': node.get_job_id()})
calcs = orm.QueryBuilder().append(orm.CalcJobNode).count()
print(json.dumps({'rows': rows, 'calcjobs': calcs, 'trials': len(trial_calcs), 'search_ok': search.is_finished_ok,
                  'start': min(orm.load_node(pk).ctime.timestamp() for pk in info['fits']),
                  'end': max(r.mtime.timestamp() for r in [orm.load_node(pk) for pk in info['fits']] + [search])}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--profile', choices=['embedded', 'production'], default='embedded')
    parser.add_argument('--fits', type=int, default=50)
    parser.add_argument('--trials', type=int, default=16)
    parser.add_argument('--in-flight', type=int, default=8)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--restart-after', type=int, default=20, help='Restart the daemon once this many have ended.')
    parser.add_argument('--timeout', type=float, default=3600)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix='mlpgen-load-'))
    env = {k: v for k, v in os.environ.items() if k not in ('AIIDA_PROFILE',)}
    env['AIIDA_PATH'] = str(root / 'home')
    (root / 'home').mkdir()

    def run(program, *arguments, check=True):
        done = subprocess.run([str(BIN / program), *map(str, arguments)], env=env, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise SystemExit(f'{program} {arguments} failed:\n{done.stdout}\n{done.stderr}')
        return done.stdout

    services = None
    try:
        if args.profile == 'production':
            sys.path.insert(0, str(REPO))
            from tests import production_services

            services = production_services.start(root / 'services')
            run('mlpgen', 'setup', '--production', *services.setup_arguments())
        else:
            run('mlpgen', 'setup')
        imported = run('mlpgen', 'import', REPO / 'examples' / 'data' / 'Mo_mlearn_slice.json', '-l', 'mo')
        data_pk = int(imported.split('<')[1].split('>')[0])
        run('verdi', 'config', 'set', 'daemon.timeout', 60)  # the circus controller answers slowly under load
        run('verdi', 'daemon', 'start', args.workers)
        info = json.loads(run('python', '-c', SUBMIT, args.fits, args.trials, args.in_flight, data_pk).splitlines()[-1])
        watched = [*info['fits'], info['search']]
        restarted, start = 0, time.monotonic()
        while time.monotonic() - start < args.timeout:
            states = json.loads(run('python', '-c', STATE, json.dumps(watched)).splitlines()[-1])
            ended = [pk for pk, (state, _) in states.items() if state in ('finished', 'excepted', 'killed')]
            if not restarted and len(ended) >= args.restart_after:
                run('verdi', 'daemon', 'restart')
                restarted = 1
                print(f'daemon restarted with {len(ended)} of {len(watched)} processes ended', flush=True)
            if len(ended) == len(watched):
                break
            time.sleep(5)
        states = json.loads(run('python', '-c', STATE, json.dumps(watched)).splitlines()[-1])
        summary = json.loads(run('python', '-c', SUMMARY, json.dumps(info)).splitlines()[-1])
        log = root / 'home' / '.aiida' / 'daemon' / 'log'
        locked = sum(p.read_text(errors='replace').count('database is locked') for p in log.glob('*.log'))
    finally:  # never leave a daemon behind, also when a step failed
        run('verdi', 'daemon', 'stop', check=False)
        if services is not None:
            services.stop()
    rows = summary['rows']
    lost = sum(1 for state, _ in states.values() if state not in ('finished', 'excepted', 'killed'))
    failed = sum(1 for state, status in states.values() if state != 'finished' or status != 0)
    expected = args.fits + summary['trials']
    duplicated = summary['calcjobs'] - expected  # a fit run twice would be a second CalcJobNode
    wall = summary['end'] - summary['start']
    latency = sum(r['latency'] for r in rows) / len(rows)
    jobs = [r['job'] for r in rows if r['job'] is not None]
    overhead = latency - sum(jobs) / len(jobs)
    name = 'SQLite + ZeroMQ' if args.profile == 'embedded' else 'PostgreSQL + RabbitMQ'
    header = ['profile', 'workers', 'processes', 'wall (s)', 'fits/min', 'mean latency (s)', 'overhead/fit (s)']
    header += ['failed', 'lost', 'duplicated', '"database is locked"', 'daemon restarts']
    processes = f'{args.fits} fits + optimisation ({summary["trials"]} trials, {args.in_flight} in flight)'
    row = [name, args.workers, processes, f'{wall:.0f}', f'{60 * len(rows) / wall:.1f}', f'{latency:.1f}']
    row += [f'{overhead:.1f}', failed, lost, duplicated, locked, restarted]
    print('| ' + ' | '.join(header) + ' |')
    print('|' + '---|' * len(header))
    print('| ' + ' | '.join(map(str, row)) + ' |')


if __name__ == '__main__':
    main()
