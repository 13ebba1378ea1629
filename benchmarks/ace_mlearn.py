"""ACE (pacemaker, tensorpot) on each mlearn training set, 90/10 split, beside GAP and MTP.

    python benchmarks/ace_mlearn.py [--elements Ge,Li,Mo,Si] [--functions N] [--cutoff R]
        [--force-weight 0.02] [--max-iterations 300] [--min-iterations N] [--evaluator tensorpot]
        [--protocol fast|moderate|precise]

Each element: all of ``../shared/datasets/mlearn/<El>/training.json``, split 90/10 per group
(seed 42, ``split_training_set``), fitted through ``PacemakerCalculation`` on a temporary
embedded profile. Prints a Markdown table of held-out (the 10 %) energy and force MAE
beside the best published models on these data sets (Zuo et al., J. Phys. Chem. A 124,
731 (2020), test-set MAE: their test sets, not ours), and the fit's wall time; writes
``benchmarks/results/ace_mlearn.csv``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from scratch import scratch_profile

#: Zuo et al. 2020, test-set MAE (energy meV/atom, force eV/Å) of GAP and MTP.
PUBLISHED = {
    'Ge': {'GAP': (2.06, 0.05), 'MTP': (1.79, 0.05)},
    'Li': {'GAP': (0.49, 0.01), 'MTP': (0.49, 0.01)},
    'Mo': {'GAP': (2.24, 0.09), 'MTP': (2.83, 0.09)},
    'Si': {'GAP': (2.91, 0.07), 'MTP': (2.21, 0.06)},
}


def fit_element(element: str, args, shared: Path) -> dict:
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.potential_types import protocol_parameters

    data = TrainingSetData.from_file(shared / 'datasets' / 'mlearn' / element / 'training.json').store()
    split = split_training_set(data, orm.Float(0.1), orm.Int(args.seed))
    parameters = protocol_parameters(
        'ace',
        args.protocol,
        {
            key: value
            for key, value in (
                ('cutoff', args.cutoff),
                ('number_of_functions', args.functions),
                ('force_weight', args.force_weight),
                ('max_iterations', args.max_iterations),
                ('min_iterations', args.min_iterations),
            )
            if value is not None
        },
    )
    parameters.update(evaluator=args.evaluator, display_step=10)
    args.used = parameters
    start = time.perf_counter()
    results, node = run_get_node(
        PacemakerCalculation,
        training_set=split,
        parameters=orm.Dict(parameters),
        code=orm.load_code('pacemaker@localhost'),
    )
    wall = time.perf_counter() - start
    if not node.is_finished_ok:
        raise SystemExit(f'{element}: fit failed: {node.exit_status} {node.exit_message}')
    metrics = results['metrics'].get_dict()
    held_out = {q: metrics[q]['validation']['overall'] for q in ('energy', 'forces')}
    return {
        'element': element,
        'train': split.split_counts['train'],
        'held_out': split.split_counts['validation'],
        'iterations': int(results['learning_curve'].get_array('training_iteration')[-1]),
        'energy_mae': held_out['energy']['mae'] * 1000,
        'energy_rmse': held_out['energy']['rmse'] * 1000,
        'force_mae': held_out['forces']['mae'],
        'force_rmse': held_out['forces']['rmse'],
        'wall_s': wall,
        'potential_pk': results['potential'].pk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--elements', default='Ge,Li,Mo,Si')
    parser.add_argument('--functions', type=int, default=None)
    parser.add_argument('--cutoff', type=float, default=None)
    parser.add_argument('--force-weight', type=float, default=None, help="pacemaker's kappa")
    parser.add_argument('--max-iterations', type=int, default=None)
    parser.add_argument('--min-iterations', type=int, default=None)
    parser.add_argument(
        '--protocol',
        choices=['fast', 'moderate', 'precise'],
        default='moderate',
        help='start from this ACE protocol of the generator; the options above override it',
    )
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--evaluator', choices=['pyace', 'tensorpot'], default='tensorpot')
    parser.add_argument('--output', type=Path, default=Path(__file__).resolve().parent / 'results' / 'ace_mlearn.csv')
    args = parser.parse_args()
    scratch_profile()
    from aiida_mlpgen.embedded import setup

    setup()
    rows = []
    print(
        f'protocol {args.protocol}, overrides: functions {args.functions}, cutoff {args.cutoff}, '
        f'force_weight {args.force_weight}, iterations {args.min_iterations}-{args.max_iterations}',
        flush=True,
    )
    print(
        '| element | model | train / held out | iterations | E MAE (meV/atom) | F MAE (eV/Å) | E RMSE | F RMSE '
        '| fit wall |',
        flush=True,
    )
    print('|---|---|---|---|---|---|---|---|---|', flush=True)
    for element in args.elements.split(','):
        row = fit_element(element, args, args.shared)
        rows.append(row)
        print(
            f'| {element} | ACE (ours) | {row["train"]} / {row["held_out"]} | {row["iterations"]} | '
            f'{row["energy_mae"]:.2f} | {row["force_mae"]:.3f} | {row["energy_rmse"]:.2f} | '
            f'{row["force_rmse"]:.3f} | {row["wall_s"]:.0f} s |',
            flush=True,
        )
        for model, (e, f) in PUBLISHED[element].items():
            print(
                f'| {element} | {model} (Zuo et al. 2020, their test set) | all / test | - | {e:.2f} | {f:.2f} '
                '| - | - | - |',
                flush=True,
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open('w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f'parameters: {args.used}')


if __name__ == '__main__':
    main()
