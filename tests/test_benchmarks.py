"""Smoke test of the benchmark suite: ``benchmarks/mlearn.py --quick`` on a tiny slice of mlearn Mo.

Nothing here times anything: it keeps the script working and checks its numbers are sane.
"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]


def test_mlearn_quick_on_a_tiny_slice(mo_slice, tmp_path):
    data = tmp_path / 'data' / 'Mo'
    data.mkdir(parents=True)
    records = json.loads(mo_slice.read_text())
    (data / 'training.json').write_text(json.dumps(records))
    env = {k: v for k, v in os.environ.items() if k not in ('AIIDA_PROFILE',)}
    env['AIIDA_PATH'] = str(tmp_path / 'aiida')
    out = tmp_path / 'out'
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / 'benchmarks' / 'mlearn.py'),
            '--quick',
            '--elements',
            'Mo',
            '--types',
            'snap',
            '--data',
            str(tmp_path / 'data'),
            '--out',
            str(out),
            '--validation-fraction',
            '0.34',
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with open(out / 'results.csv') as handle:
        rows = list(csv.DictReader(handle))
    ours = {row['type'] for row in rows if row['source'] == 'ours'}
    published = {row['type'] for row in rows if row['source'] != 'ours'}
    assert ours == published == {'snap'}  # the other types take the same path (fit: generator; evaluate)
    for row in rows:
        assert float(row['energy_rmse']) >= float(row['energy_mae']) > 0
        assert float(row['forces_rmse']) >= float(row['forces_mae']) > 0
    snap = next(row for row in rows if row['type'] == 'snap' and row['source'] != 'ours')
    assert float(snap['energy_rmse']) < 30  # the published SNAP on its own training structures (8.5 on all)
    assert (out / 'error_vs_fit_time.png').stat().st_size > 10_000
    assert '| Mo | snap | ours |' in (out / 'results.md').read_text()
