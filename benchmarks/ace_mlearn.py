"""ACE (pacemaker, CPU pyace evaluator) on a 90/10 split of an mlearn training set.

    python benchmarks/ace_mlearn.py [--element Mo] [--functions 100] [--max-iterations 100] [--cutoff 5.0]

Fits through PacemakerCalculation on a temporary embedded profile and prints validation
energy MAE/RMSE (meV/atom), force MAE/RMSE (eV/Å), wall time and time per iteration.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--element', default='Mo')
    parser.add_argument('--functions', type=int, default=100)
    parser.add_argument('--max-iterations', type=int, default=100)
    parser.add_argument('--min-iterations', type=int, default=None)
    parser.add_argument('--cutoff', type=float, default=5.0)
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--evaluator', choices=['pyace', 'tensorpot'], default='pyace')
    parser.add_argument('--executable', default=None,
                        help='mlpgen-pacemaker to run (e.g. the one of a tensorpot environment)')
    args = parser.parse_args()
    os.environ.setdefault('AIIDA_PATH', tempfile.mkdtemp(prefix='mlpgen-bench-'))

    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

    setup()
    code = orm.load_code('pacemaker@localhost')
    if args.executable:
        code = orm.InstalledCode(label='pacemaker-bench', computer=code.computer,
                                 filepath_executable=args.executable).store()
    data = TrainingSetData.from_file(args.shared / 'datasets' / 'mlearn' / args.element / 'training.json').store()
    split = split_training_set(data, orm.Float(0.1), orm.Int(args.seed))
    parameters = {'cutoff': args.cutoff, 'number_of_functions': args.functions, 'max_iterations': args.max_iterations,
                  'min_iterations': args.min_iterations if args.min_iterations is not None else args.max_iterations,
                  'evaluator': args.evaluator}
    start = time.perf_counter()
    results, node = run_get_node(PacemakerCalculation, training_set=split, parameters=orm.Dict(parameters),
                                 code=code)
    wall = time.perf_counter() - start
    assert node.is_finished_ok, node.exit_message
    metrics = results['metrics'].get_dict()
    iterations = int(results['learning_curve'].get_array('training_iteration')[-1])
    print(f'| {args.element} | {args.evaluator} | {args.functions} | {iterations} | {args.cutoff} | '
          f'{metrics["energy"]["validation"]["overall"]["mae"] * 1000:.2f} / '
          f'{metrics["energy"]["validation"]["overall"]["rmse"] * 1000:.2f} | '
          f'{metrics["forces"]["validation"]["overall"]["mae"]:.3f} / {metrics["forces"]["validation"]["overall"]["rmse"]:.3f} | '
          f'{metrics["energy"]["train"]["overall"]["rmse"] * 1000:.2f} | {wall:.0f} s | {wall / max(iterations, 1):.1f} s |')
    print('columns: element | evaluator | functions | iterations | cutoff Å | validation energy MAE / RMSE meV/atom | '
          'validation force MAE / RMSE eV/Å | train energy RMSE meV/atom | wall time | per iteration')


if __name__ == '__main__':
    main()
