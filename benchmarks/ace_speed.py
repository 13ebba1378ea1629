"""ACE fit speed as a new user meets it: ``mlpgen fit ace`` on ~60 Cu cells, both evaluators.

    python benchmarks/ace_speed.py [--evaluators tensorpot,pyace] [--pyace-timeout 600]

The data: 2x2x2 fcc Cu supercells (32 atoms) strained (±3 %), sheared, rattled (0.02–0.1 Å)
and with a vacancy (31 atoms); energies and forces from ASE's EMT playing DFT (seed 7).
64 cells are fitted (split 90/10 by the fit), 16 further cells are held out. Each
evaluator runs ``mlpgen fit ace SET -p number_of_functions=30 -p max_iterations=150
-p cutoff=5`` in a fresh embedded profile; the table gives the wall time of the command,
time per iteration and the held-out energy / force RMSE. A pyace fit still running at
``--pyace-timeout`` is stopped; its time per iteration comes from pacemaker's log.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from emt_cells import KINDS, deform, held_out_errors, label
from scratch import scratch


def cu_cells(n: int, seed: int):
    """``n`` labelled Cu cells of 31–32 atoms (EMT energies and forces)."""
    from ase.build import bulk

    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        atoms = bulk('Cu', 'fcc', a=3.61, cubic=True).repeat((2, 2, 2))
        deform(atoms, kind, rng, 0.03)
        if kind == 'vacancy':
            del atoms[int(rng.integers(len(atoms)))]
        atoms.positions += rng.normal(0, rng.uniform(0.02, 0.1), atoms.positions.shape)
        images.append(label(atoms, kind))
    return images


def stop_unfinished_job(aiida_path: Path) -> tuple[int, float]:
    """Iterations done and seconds per iteration of the job left running by a timed-out command
    (from pacemaker's log.txt), then stop its processes (those working in the job's folder)."""
    from datetime import datetime

    logs = sorted(aiida_path.glob('.aiida/scratch/**/log.txt'), key=lambda p: p.stat().st_mtime)
    if not logs:
        return 0, float('nan')
    folder = logs[-1].parent
    stamps = [
        datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S,%f')
        for line in logs[-1].read_text().splitlines()
        if 'Iteration   #' in line
    ]
    for proc in Path('/proc').glob('[0-9]*'):
        try:
            if Path(os.readlink(proc / 'cwd')) == folder:
                os.kill(int(proc.name), 9)
        except (OSError, ValueError):
            continue
    if len(stamps) < 2:
        return len(stamps), float('nan')
    return len(stamps), (stamps[-1] - stamps[0]).total_seconds() / (len(stamps) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--evaluators', default='tensorpot,pyace')
    parser.add_argument(
        '--pyace-timeout',
        type=float,
        default=600.0,
        help='stop the pyace fit after this many seconds (it needs ~40 min here)',
    )
    args = parser.parse_args()
    import ase.io

    work = scratch('mlpgen-ace-speed-')
    ase.io.write(work / 'cu_train.xyz', cu_cells(64, seed=7))
    ase.io.write(work / 'cu_held_out.xyz', cu_cells(16, seed=8))
    bin_dir = Path(sys.executable).parent
    rows = []
    for evaluator in args.evaluators.split(','):
        env = {**os.environ, 'AIIDA_PATH': str(scratch('mlpgen-ace-speed-aiida-'))}
        env.pop('AIIDA_PROFILE', None)
        subprocess.run(
            [bin_dir / 'mlpgen', 'import', work / 'cu_train.xyz', '-l', 'cu'], env=env, check=True, capture_output=True
        )
        command = [
            bin_dir / 'mlpgen',
            'fit',
            'ace',
            'cu',
            '-p',
            'number_of_functions=30',
            '-p',
            'max_iterations=150',
            '-p',
            'cutoff=5',
        ]
        if evaluator != 'tensorpot':  # tensorpot is the default: the command as a user types it
            command += ['-p', f'evaluator={evaluator}']
        start = time.perf_counter()
        try:
            result = subprocess.run(
                command,
                env=env,
                capture_output=True,
                text=True,
                cwd=work,
                timeout=args.pyace_timeout if evaluator == 'pyace' else None,
            )
        except subprocess.TimeoutExpired:
            done, per_iteration = stop_unfinished_job(Path(env['AIIDA_PATH']))
            rows.append(
                f'| {evaluator} | stopped after {args.pyace_timeout:.0f} s, unfinished | {done} done | '
                f'{per_iteration:.2f} s | - |'
            )
            continue
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr)
        iterations = int(re.search(r'iterations: (\d+)', result.stdout).group(1))
        pk = int(re.search(r'; potential \w+<(\d+)>', result.stdout).group(1))
        errors = held_out_errors(pk, work / 'cu_held_out.xyz', env)
        rows.append(
            f'| {evaluator} | {wall:.0f} s | {iterations} | {wall / max(iterations, 1):.2f} s | '
            f'{errors["e_rmse"]:.2f} / {errors["f_rmse"]:.4f} |'
        )
    print(
        '| evaluator | wall time of `mlpgen fit ace` | iterations | per iteration | held-out E RMSE (meV/atom) / '
        'F RMSE (eV/Å) |'
    )
    print('|---|---|---|---|---|')
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
