"""NNP (our n2p2-compatible engine) on a 90/10 split of an mlearn training set, SPEC.md defaults.

    python benchmarks/nnp_mlearn.py [--element Mo] [--epochs 20] [-p key=value ...]

Fits through NnpCalculation on a temporary embedded profile; prints validation energy
and force RMSE/MAE, epochs run, the optimum epoch, seconds per epoch and the wall time,
then re-evaluates the stored potential on the training split with the evaluator and
compares with the RMSE the training printed for that epoch in learning-curve.out. Also times
the parser alone (parsed again from the retrieved files and the job's comparison files still
in the remote folder) against evaluating the network on every structure, which the parser
did before issue 16.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from scratch import scratch_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--element', default='Mo')
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('-p', '--param', action='append', default=[], help='NNP parameter key=value (JSON value)')
    args = parser.parse_args()
    scratch_profile()

    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.calculations.n2p2 import NnpCalculation
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.parsers.n2p2 import epoch_seconds, read_learning_curve

    setup()
    parameters = {}
    for item in args.param:
        key, value = item.split('=', 1)
        try:
            parameters[key] = json.loads(value)
        except json.JSONDecodeError:
            parameters[key] = value
    data = TrainingSetData.from_file(args.shared / 'datasets' / 'mlearn' / args.element / 'training.json').store()
    split = split_training_set(data, orm.Float(0.1), orm.Int(args.seed))
    start = time.perf_counter()
    results, node = run_get_node(
        NnpCalculation, training_set=split, parameters=orm.Dict(parameters), code=orm.load_code('nnp@localhost')
    )
    wall = time.perf_counter() - start
    assert node.is_finished_ok, node.exit_message
    metrics = results['metrics'].get_dict()
    potential = results['potential']
    retrieved = node.outputs.retrieved
    log = retrieved.base.repository.get_object_content('nnp-train.out')
    seconds = epoch_seconds(log)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'learning-curve.out'
        path.write_text(retrieved.base.repository.get_object_content('learning-curve.out'))
        curve = read_learning_curve(path)
    row = list(curve['epoch']).index(potential.epoch)
    from aiida.plugins import ParserFactory

    start = time.perf_counter()
    _, parse = ParserFactory('mlpgen.n2p2').parse_from_node(
        node, store_provenance=False, retrieved_temporary_folder=node.outputs.remote_folder.get_remote_path()
    )
    parse_seconds = time.perf_counter() - start
    assert parse.is_finished_ok, parse.exit_message
    # the stored potential, evaluated on every structure, against what train printed
    start = time.perf_counter()
    model = potential.get_model()
    e_err, f_err = [], []
    for frame in split.get_frame_list():
        result = model.evaluate(frame.numbers, frame.positions, frame.cell, frame.pbc)
        if frame.split != 'train':
            continue
        e_err.append((result.energy - frame.energy) / len(frame.numbers))
        f_err.append((result.forces - frame.forces).ravel())
    evaluate_seconds = time.perf_counter() - start
    e_rmse, f_rmse = np.sqrt(np.mean(np.square(e_err))), np.sqrt(np.mean(np.square(np.concatenate(f_err))))
    v = metrics['energy']['validation']['overall']
    fv = metrics['forces']['validation']['overall']
    print(f'NNP {args.element}: {split.split_counts}, parameters {parameters or "SPEC defaults"}')
    print(
        '| element | epochs run | optimum epoch | val. E RMSE / MAE (meV/atom) | val. F RMSE / MAE (eV/Å) '
        '| s/epoch | wall (s) |'
    )
    print('|---|---|---|---|---|---|---|')
    print(
        f'| {args.element} | {int(curve["epoch"][-1])} | {potential.epoch} | {v["rmse"] * 1000:.2f} / '
        f'{v["mae"] * 1000:.2f} | {fv["rmse"]:.4f} / {fv["mae"]:.4f} | {np.mean(seconds):.2f} | {wall:.0f} |'
    )
    print(
        f'train RMSE at epoch {potential.epoch}: learning-curve.out E {curve["RMSEpa_Etrain_pu"][row]:.8e} '
        f'F {curve["RMSE_Ftrain_pu"][row]:.8e}; evaluator on the stored files E {e_rmse:.8e} F {f_rmse:.8e}'
    )
    print(
        f'parser alone: {parse_seconds:.1f} s; evaluating the network on all {len(split.get_frame_list())} '
        f'structures (the parser before issue 16): {evaluate_seconds:.1f} s'
    )
    print(f'process {node.pk}; plots in its `plots` output; AIIDA_PATH={os.environ["AIIDA_PATH"]}')


if __name__ == '__main__':
    main()
