"""FitSNAP's Ta_JCP2014 example: through our CalcJob vs FitSNAP run directly, same machine.

    python benchmarks/ta_fitsnap.py [--shared ../shared]

Prints per-group unweighted energy (eV/atom) and force (eV/Å) MAE/RMSE of both runs and of
FitSNAP's published reference (20May21_Standard/Ta_metrics.md), and the wall-time ratio
ours / raw, which is the cost of the AiiDA orchestration. Uses a temporary AiiDA profile.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROW = re.compile(
    r"\|\s*\('([^']+)', 'Unweighted', (?:'Training', )?'(Energy|Force)'\)"
    r'\s*\|\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\S+)'
)
WEIGHTS_FILE = Path(__file__).resolve().parents[1] / 'examples' / 'data' / 'ta_example_group_weights.json'
GROUP_WEIGHTS = {k: tuple(v) for k, v in json.loads(WEIGHTS_FILE.read_text())['weights'].items()}


def read_metrics(path: Path) -> dict:
    return {(m.group(1), m.group(2)): (float(m.group(4)), float(m.group(5))) for m in ROW.finditer(path.read_text())}


def run_raw(dataset: Path, work: Path) -> tuple[dict, float]:
    shutil.copytree(dataset / 'JSON', work / 'JSON')
    shutil.copy(dataset / 'Ta-example.in', work)
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / 'mlpgen-fitsnap'), 'Ta-example.in'],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return read_metrics(work / 'Ta_metrics.md'), time.perf_counter() - start


def run_ours(dataset: Path) -> tuple[dict, float]:
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

    setup()
    start = time.perf_counter()
    training_set = TrainingSetData.from_file(dataset / 'JSON').store()
    weights = {g: dict(zip(('energy', 'forces', 'stress'), w, strict=True)) for g, w in GROUP_WEIGHTS.items()}
    parameters = {
        'twojmax': 6,
        'rcutfac': 4.67637,
        'rfac0': 0.99363,
        'bzeroflag': False,
        'zbl': True,
        'zbl_inner': 4.0,
        'zbl_outer': 4.8,
        'group_weights': weights,
    }
    results, node = run_get_node(
        FitsnapCalculation,
        training_set=training_set,
        parameters=orm.Dict(parameters),
        code=orm.load_code('fitsnap@localhost'),
    )
    elapsed = time.perf_counter() - start
    assert node.is_finished_ok, node.exit_message
    metrics = results['metrics'].get_dict()
    table = {}
    for quantity, kind in (('energy', 'Energy'), ('forces', 'Force')):
        data = metrics[quantity]['train']
        table[('*ALL', kind)] = (data['overall']['mae'], data['overall']['rmse'])
        for group, stats in data['groups'].items():
            table[(group, kind)] = (stats['mae'], stats['rmse'])
    return table, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    args = parser.parse_args()
    dataset = args.shared / 'datasets' / 'Ta_JCP2014'
    reference = read_metrics(dataset / '20May21_Standard' / 'Ta_metrics.md')
    with tempfile.TemporaryDirectory() as work:
        os.environ['AIIDA_PATH'] = str(Path(work) / 'aiida')
        (Path(work) / 'raw').mkdir()
        raw, raw_time = run_raw(dataset, Path(work) / 'raw')
        ours, our_time = run_ours(dataset)
    print(
        '| group | quantity | published MAE / RMSE | FitSNAP direct MAE / RMSE | aiida-mlpgen MAE / RMSE '
        '| max rel. diff |'
    )
    print('|---|---|---|---|---|---|')
    worst = 0.0
    for key in sorted(reference):
        if max(reference[key]) < 1e-10:  # perfect lattices: zero forces up to round-off
            note = 'round-off zero'
        else:
            diff = max(abs(ours[key][i] - reference[key][i]) / reference[key][i] for i in (0, 1))
            worst, note = max(worst, diff), f'{diff:.1e}'
        print(
            f'| {key[0]} | {key[1]} | {reference[key][0]:.6g} / {reference[key][1]:.6g} | '
            f'{raw[key][0]:.6g} / {raw[key][1]:.6g} | {ours[key][0]:.6g} / {ours[key][1]:.6g} | {note} |'
        )
    print()
    print(f'largest relative difference to the published metrics: {worst:.2e}')
    print(
        f'wall time: FitSNAP direct {raw_time:.1f} s, through aiida-mlpgen (import + CalcJob + parse) '
        f'{our_time:.1f} s, ratio {our_time / raw_time:.2f}'
    )


if __name__ == '__main__':
    main()
