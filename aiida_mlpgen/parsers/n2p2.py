"""``NnpParser``: learning curve -> optimum epoch -> NNP potential, metrics, predictions, plots.

The optimum epoch is the one with the lowest validation error (n2p2 users pick it by hand
from learning-curve.out): the sum of the validation energy RMSE per atom and, when forces
are fitted, the validation force RMSE, each divided by its lowest value over the epochs.
Predictions for the parity plots are the job's own: the trainer writes, every epoch, n2p2's
comparison files (``trainpoints``/``testpoints`` energies per atom, ``trainforces``/
``testforces``, in training units, structures numbered as in input.data), retrieved into
the temporary folder; the parser reads those of the optimum epoch and evaluates nothing.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from aiida_mlpgen.calculations.n2p2 import NnpCalculation as Calc
from aiida_mlpgen.data.potentials import NnpPotentialData, PotentialError
from aiida_mlpgen.engines.nnp import files as nnp_files
from aiida_mlpgen.report.plots import nnp_learning_curve

from .base import MlpFitParser


class NnpParser(MlpFitParser):
    POTENTIAL_TYPE = 'nnp'

    def parse(self, **kwargs):
        self._temporary = kwargs.get('retrieved_temporary_folder')
        return super().parse(**kwargs)

    def parse_fit(self, retrieved):
        names = set(retrieved.base.repository.list_object_names())
        texts = {
            n: retrieved.base.repository.get_object_content(n)
            for n in (Calc.PREPARE_OUTPUT, Calc.OUTPUT_FILE, '_scheduler-stderr.txt')
            if n in names
        }
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
        try:
            predictions = self._predictions(epoch, split)
        except FileNotFoundError as error:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=f'{error} (the retrieved temporary folder)')
        except ValueError as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=error)
        header = {
            **self.common_header(potential),
            'symmetry functions (after pruning)': ', '.join(
                f'{e} {n}' for e, n in potential.base.attributes.get('symmetry_functions').items()
            ),
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

    def _predictions(self, epoch: int, split: dict) -> dict:
        """Reference (the training set, eV) and prediction (reference plus the job's own error at
        ``epoch``, converted from training units) of every structure, ordered as in input.data."""
        folder = Path(self._temporary) if getattr(self, '_temporary', None) else None
        if folder is None:
            raise FileNotFoundError('trainpoints/trainforces files: no retrieved temporary folder')
        frames = self.node.inputs.training_set.get_frames()
        _, conv_energy, conv_length = split.get('normalization') or (0.0, 1.0, 1.0)
        validation = np.zeros(len(frames), bool)
        validation[np.asarray(split['validation'], int)] = True
        energy_error = np.full(len(frames), np.nan)
        force_error = np.full(frames.forces.shape, np.nan)
        starts = np.concatenate([[0], np.cumsum(frames.n_atoms)[:-1]])
        for name in ('train', 'test'):
            if name == 'test' and not validation.any():
                continue
            points = nnp_files.read_comparison(folder / f'{name}points.{epoch:06d}.out', 3)
            index = points[:, 0].astype(int)
            energy_error[index] = (points[:, 2] - points[:, 1]) / conv_energy
            forces = nnp_files.read_comparison(folder / f'{name}forces.{epoch:06d}.out', 4)
            atoms = starts[forces[:, 0].astype(int)] + forces[:, 1].astype(int)
            delta = (forces[:, 3] - forces[:, 2]) * conv_length / conv_energy
            force_error[atoms.reshape(-1, 3)[:, 0]] = delta.reshape(-1, 3)
        if np.isnan(energy_error).any() or np.isnan(force_error).any():
            raise ValueError(f'the comparison files of epoch {epoch} do not cover every structure and atom')
        per_atom = frames.energies_per_atom()
        structure_of_atom = np.repeat(np.arange(len(frames)), frames.n_atoms)
        groups = frames.groups
        component = np.repeat(structure_of_atom, 3)
        return {
            'energy': {
                'reference': per_atom,
                'predicted': per_atom + energy_error,
                'validation': validation,
                'group': groups,
                'structure': np.arange(len(frames)),
            },
            'forces': {
                'reference': frames.forces.ravel(),
                'predicted': (frames.forces + force_error).ravel(),
                'validation': validation[component],
                'group': groups[component],
                'structure': component,
            },
        }


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
    for label, key in (
        ('training_energy', 'RMSEpa_Etrain_pu'),
        ('validation_energy', 'RMSEpa_Etest_pu'),
        ('training_forces', 'RMSE_Ftrain_pu'),
        ('validation_forces', 'RMSE_Ftest_pu'),
    ):
        if key in curve:
            out[label] = (curve['epoch'].astype(int), curve[key])
    return out


def __getattr__(name):
    if name == 'N2p2Parser':  # the name before issue 16: it runs n2p2 or our engine, both train an NNP
        import warnings

        warnings.warn('N2p2Parser is now NnpParser', DeprecationWarning, stacklevel=2)
        return NnpParser
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
