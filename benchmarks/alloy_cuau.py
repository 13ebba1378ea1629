"""SNAP beside NNP on a binary alloy: random fcc Cu–Au, held-out cells.

    python benchmarks/alloy_cuau.py [--train 200] [--held-out 50] [--budget 30]
                                    [--snap "--optimize"] [--nnp "-p epochs=15"] [--only snap,nnp]

The data: 2x2x2 fcc supercells (32 atoms) with Cu and Au drawn at random at a random
composition, lattice constant by Vegard's law (Cu 3.61, Au 4.08 Å), then one of: strained
(±4 %), sheared (±4 %), rattled (0.03–0.15 Å), one or two vacancies; every cell is rattled a
little (0.02–0.06 Å) on top. Energies, forces and stresses from ASE's EMT playing DFT. The
training cells (seed 11) are imported with `mlpgen import`; the held-out cells (seed 12)
are never seen by any fit. Each type runs as a user types it, e.g. ``mlpgen fit snap cuau
--optimize`` (no keys: the defaults of the type), in one embedded profile; the table gives
the held-out energy and force RMSE and MAE, the ratio to the NNP's, the fit wall time and
the number of fits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from emt_cells import KINDS, deform, held_out_errors, label
from scratch import scratch

A_CU, A_AU = 3.61, 4.08


def alloy_cells(n: int, seed: int):
    """``n`` labelled fcc Cu–Au cells of 30–32 atoms (EMT energies, forces and stresses)."""
    from ase.build import bulk

    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        x_au = rng.uniform(0.0, 1.0)
        atoms = bulk('Cu', 'fcc', a=A_CU * (1 - x_au) + A_AU * x_au, cubic=True).repeat((2, 2, 2))
        atoms.set_chemical_symbols(list(np.where(rng.random(len(atoms)) < x_au, 'Au', 'Cu')))
        deform(atoms, kind, rng, 0.04)
        if kind == 'vacancy':
            for _ in range(int(rng.integers(1, 3))):
                del atoms[int(rng.integers(len(atoms)))]
        sigma = rng.uniform(0.03, 0.15) if kind == 'rattle' else rng.uniform(0.02, 0.06)
        atoms.positions += rng.normal(0, sigma, atoms.positions.shape)
        images.append(label(atoms, kind, stress=True))
    return images


def run_fit(kind: str, extra: str, env, work: Path, log: Path) -> tuple[int, float, int]:
    """(potential pk, wall seconds, number of fits) of ``mlpgen fit KIND cuau EXTRA``."""
    command = [
        str(Path(sys.executable).parent / 'mlpgen'),
        'fit',
        kind,
        'cuau',
        *shlex.split(extra),
        '--output',
        str(work / f'{kind}_out'),
    ]
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    wall = time.perf_counter() - start
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f'{" ".join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
    pk = int(re.search(r'; potential \w+<(\d+)>', result.stdout).group(1))
    trials = re.search(r'Optimisation: (\d+) trials', result.stdout)
    fits = int(trials.group(1)) + 1 if trials else 1  # the search's trials and the refit
    return pk, wall, fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--train', type=int, default=200)
    parser.add_argument('--held-out', type=int, default=50)
    parser.add_argument('--snap', default='--optimize', help='arguments of `mlpgen fit snap cuau`')
    parser.add_argument('--nnp', default='-p epochs=15', help='arguments of `mlpgen fit nnp cuau`')
    parser.add_argument('--only', default='snap,nnp', help='which types to fit')
    parser.add_argument('--work', default=None, help='working folder (default: a new temporary one)')
    args = parser.parse_args()
    import ase.io

    work = Path(args.work) if args.work else scratch('mlpgen-cuau-')
    work.mkdir(parents=True, exist_ok=True)
    ase.io.write(work / 'cuau_train.xyz', alloy_cells(args.train, seed=11))
    ase.io.write(work / 'cuau_held_out.xyz', alloy_cells(args.held_out, seed=12))
    env = {**os.environ, 'AIIDA_PATH': str(work / 'aiida')}
    env.pop('AIIDA_PROFILE', None)
    mlpgen = str(Path(sys.executable).parent / 'mlpgen')
    subprocess.run(
        [mlpgen, 'import', str(work / 'cuau_train.xyz'), '-l', 'cuau'], env=env, check=True, capture_output=True
    )
    results = {}
    for kind in args.only.split(','):
        extra = getattr(args, kind)
        pk, wall, fits = run_fit(kind, extra, env, work, work / f'{kind}.log')
        results[kind] = {
            'arguments': extra,
            'wall': wall,
            'fits': fits,
            **held_out_errors(pk, work / 'cuau_held_out.xyz', env),
        }
        print(f'{kind}: {results[kind]}', flush=True)
    nnp = results.get('nnp')
    print(f'\n{args.train} training cells, {args.held_out} held-out cells (work folder {work})\n')
    print(
        "| type | `mlpgen fit` arguments | E RMSE / MAE (meV/atom) | F RMSE / MAE (eV/Å) | E, F RMSE / NNP's | "
        'fits | wall (s) |'
    )
    print('|---|---|---|---|---|---|---|')
    for kind, r in results.items():
        ratio = f'{r["e_rmse"] / nnp["e_rmse"]:.2f}, {r["f_rmse"] / nnp["f_rmse"]:.2f}' if nnp else '-'
        print(
            f'| {kind} | `{r["arguments"]}` | {r["e_rmse"]:.2f} / {r["e_mae"]:.2f} | {r["f_rmse"]:.4f} / '
            f'{r["f_mae"]:.4f} | {ratio} | {r["fits"]} | {r["wall"]:.0f} |'
        )
    (work / 'results.json').write_text(json.dumps(results, indent=1))


if __name__ == '__main__':
    main()
