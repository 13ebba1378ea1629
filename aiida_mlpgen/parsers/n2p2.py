"""``N2p2Parser``: learning curve -> optimum epoch -> NNP potential, metrics, predictions, plots.

The optimum epoch is the one with the lowest validation error (n2p2 users pick it by hand
from learning-curve.out): the sum of the validation energy RMSE per atom and, when forces
are fitted, the validation force RMSE, each divided by its lowest value over the epochs.
Predictions for the parity plots come from our evaluator on the training set's structures
(it reproduces n2p2, see the engine's tests), so real-n2p2 runs are parsed the same way.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from aiida_mlpgen.calculations.n2p2 import N2p2Calculation as Calc
from aiida_mlpgen.data.potentials import NnpPotentialData, PotentialError
from aiida_mlpgen.engines.nnp import files as nnp_files
from aiida_mlpgen.report.plots import nnp_learning_curve

from .base import MlpFitParser


class N2p2Parser(MlpFitParser):
    POTENTIAL_TYPE = 'nnp'

    def parse_fit(self, retrieved):
        names = set(retrieved.base.repository.list_object_names())
        texts = {n: retrieved.base.repository.get_object_content(n) for n in
                 (Calc.PREPARE_OUTPUT, Calc.OUTPUT_FILE, '_scheduler-stderr.txt') if n in names}
        failed = [line for text in texts.values() for line in text.splitlines() if line.startswith('ERROR')]
        if failed or any('Traceback (most recent call last)' in t for t in texts.values()):
            return self.exit_codes.ERROR_CODE_FAILED.format(error=failed[-1] if failed else 'see the output files')
        missing = [n for n in ('input.nn', 'scaling.data', 'learning-curve.out', Calc.SPLIT_FILE) if n not in names]
        if missing:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=', '.join(missing))
        with tempfile.TemporaryDirectory() as folder:
            for name in names:
                if not name.startswith('_'):
                    Path(folder, name).write_bytes(retrieved.base.repository.get_object_content(name, mode='rb'))
            try:
                curve = read_learning_curve(Path(folder) / 'learning-curve.out')
            except (ValueError, KeyError) as error:
                return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=f'learning-curve.out: {error}')
            values = np.column_stack([v for k, v in curve.items() if 'train' in k])
            if not np.isfinite(values).all():
                return self.exit_codes.ERROR_NAN_LOSS
            epoch = optimum_epoch(curve)
            try:
                potential = NnpPotentialData.from_n2p2(folder, epoch=epoch)
            except PotentialError as error:
                if 'non-finite' in str(error):
                    return self.exit_codes.ERROR_NAN_COEFFICIENTS
                return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=error)
        split = json.loads(retrieved.base.repository.get_object_content(Calc.SPLIT_FILE))
        predictions = self._predictions(potential, set(split['validation']))
        header = {
            **self.common_header(potential),
            'symmetry functions (after pruning)': ', '.join(
                f'{e} {n}' for e, n in potential.base.attributes.get('symmetry_functions').items()),
            'epochs run': int(curve['epoch'][-1]),
            'optimum epoch (lowest validation error)': epoch,
            'normalisation (mean E/atom, conv_energy, conv_length)': split.get('normalization'),
        }
        seconds = epoch_seconds(texts.get(Calc.OUTPUT_FILE, ''))
        if seconds:
            header['wall time per epoch (s)'] = f'{np.mean(seconds):.2f} (mean of {len(seconds)})'
        self._curve = curve, epoch
        return potential, predictions, header, None, _curve_for_node(curve)

    def plot_learning_curve(self, curve, directory):
        data, epoch = self._curve
        nnp_learning_curve(data, Path(directory) / 'learning-curve.png', best=epoch)

    def _predictions(self, potential, validation: set) -> dict:
        model = potential.get_model()
        frames = self.node.inputs.training_set.get_frame_list()
        energy = {'reference': [], 'predicted': [], 'validation': [], 'group': [], 'structure': []}
        forces = {key: [] for key in energy}
        for index, frame in enumerate(frames):
            result = model.evaluate(frame.numbers, frame.positions, frame.cell, frame.pbc)
            n = len(frame.numbers)
            flag = index in validation
            for table, ref, pred, count in (
                (energy, [frame.energy / n], [result.energy / n], 1),
                (forces, frame.forces.ravel(), result.forces.ravel(), 3 * n),
            ):
                table['reference'].append(np.asarray(ref, float))
                table['predicted'].append(np.asarray(pred, float))
                table['validation'].append(np.full(count, flag))
                table['group'].append(np.full(count, frame.group))
                table['structure'].append(np.full(count, index))
        return {name: {k: np.concatenate(v) for k, v in table.items()} for name, table in
                (('energy', energy), ('forces', forces))}


def epoch_seconds(text: str) -> list[float]:
    """Seconds per training epoch from mlpgen-nnp's log lines ``epoch N ... (T s)`` (epoch 0 is
    the initial evaluation, not counted)."""
    seconds = []
    for line in text.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == 'epoch' and words[1].isdigit() and int(words[1]) > 0 and line.endswith(' s)'):
            seconds.append(float(line.rsplit('(', 1)[1].split()[0]))
    return seconds


def read_learning_curve(path) -> dict[str, np.ndarray]:
    names = nnp_files.column_names(path)
    table = np.loadtxt(path, comments='#', ndmin=2)
    if table.shape[1] != len(names):
        raise ValueError(f'{table.shape[1]} columns but the header names {len(names)}')
    return {name: table[:, i] for i, name in enumerate(names)}


def optimum_epoch(curve: dict) -> int:
    epochs = curve['epoch'].astype(int)
    candidates = epochs > 0 if len(epochs) > 1 else np.ones(len(epochs), bool)
    score = np.zeros(len(epochs))
    for train_key, test_key in (('RMSEpa_Etrain_pu', 'RMSEpa_Etest_pu'), ('RMSE_Ftrain_pu', 'RMSE_Ftest_pu')):
        if test_key not in curve:
            continue
        values = curve[test_key] if np.isfinite(curve[test_key]).all() and curve[test_key].any() else curve[train_key]
        score += values / max(values[candidates].min(), 1e-300)
    score[~candidates] = np.inf
    return int(epochs[int(np.argmin(score))])


def _curve_for_node(curve: dict) -> dict:
    out = {}
    for label, key in (('training_energy', 'RMSEpa_Etrain_pu'), ('validation_energy', 'RMSEpa_Etest_pu'),
                       ('training_forces', 'RMSE_Ftrain_pu'), ('validation_forces', 'RMSE_Ftest_pu')):
        if key in curve:
            out[label] = (curve['epoch'].astype(int), curve[key])
    return out
