"""``mlpgen-properties``: the ASE engine of the validation workflow as a program.

Runs every task of ``tasks.json`` with the calculator described in ``calculator.json``
(files in ``--files``) and writes ``results.json``. It needs aiida-mlpgen installed but
no AiiDA profile, so the ASE engine runs on any computer where the package is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .calculators import calculator_from_spec
from .tasks import dump_results, load_tasks, run_task


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='mlpgen-properties', description=__doc__.splitlines()[0])
    parser.add_argument('tasks', help='tasks.json')
    parser.add_argument('--calculator', default='calculator.json')
    parser.add_argument('--files', default='potential', help='folder with the potential files')
    parser.add_argument('--out', default='results.json')
    parser.add_argument('--version', action='store_true')
    args = parser.parse_args(argv)
    tasks = load_tasks(Path(args.tasks).read_text())
    spec = json.loads(Path(args.calculator).read_text())
    calculator = calculator_from_spec(spec, Path(args.files))
    results = {}
    for task in tasks:
        start = time.perf_counter()
        results[task.name] = run_task(task, calculator)
        print(
            f'{task.name}: {len(task.atoms)} atoms, {task.relax}, E = {results[task.name].energy:.8f} eV, '
            f'{time.perf_counter() - start:.2f} s',
            flush=True,
        )
    Path(args.out).write_text(dump_results(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
