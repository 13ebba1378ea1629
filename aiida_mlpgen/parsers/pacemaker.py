"""``PacemakerParser``: pacemaker's outputs -> ACE potential, metrics, predictions, learning curve."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from ase.data import chemical_symbols

from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation as Calc
from aiida_mlpgen.common.pacemaker_runner import PACEMAKER_REFERENCE_FILE, PACEMAKER_STOP_REPORT
from aiida_mlpgen.data.potentials import AcePotentialData, PotentialError

from .base import MlpFitParser


class PacemakerParser(MlpFitParser):
    POTENTIAL_TYPE = 'ace'

    def _text(self, retrieved, name):
        return retrieved.base.repository.get_object_content(name)

    def parse_fit(self, retrieved):
        names = set(retrieved.base.repository.list_object_names())
        output = ''.join(self._text(retrieved, n) for n in (Calc.OUTPUT_FILE, '_scheduler-stderr.txt') if n in names)
        if 'Traceback (most recent call last)' in output:
            errors = [line for line in output.splitlines() if 'Error' in line or 'Exception' in line]
            return self.exit_codes.ERROR_CODE_FAILED.format(error=errors[-1] if errors else 'see the output files')
        required = (
            'output_potential.yaml',
            'output_potential.yace',
            'train_pred.pckl.gzip',
            'metrics.txt',
            PACEMAKER_REFERENCE_FILE,
        )
        missing = [n for n in required if n not in names]
        if missing:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=', '.join(missing))
        try:
            train_curve = np.loadtxt(
                io.StringIO(self._text(retrieved, 'metrics.txt')), skiprows=1, usecols=(2, 3), ndmin=2
            )
        except ValueError as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=f'metrics.txt: {error}')
        if not np.isfinite(train_curve[:, 1]).all():
            return self.exit_codes.ERROR_NAN_LOSS
        reference = json.loads(self._text(retrieved, PACEMAKER_REFERENCE_FILE))
        try:
            asi = None
            if 'output_potential.asi' in names:
                asi = retrieved.base.repository.get_object_content('output_potential.asi', mode='rb')
            potential = AcePotentialData(
                self._text(retrieved, 'output_potential.yaml'),
                self._text(retrieved, 'output_potential.yace'),
                asi=asi,
                reference_energies=reference['energies'],
            )
        except PotentialError as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=error)
        predictions = self._predictions(retrieved, names, reference)
        curve = {'training': (train_curve[:, 0].astype(int), train_curve[:, 1])}
        stop = json.loads(self._text(retrieved, PACEMAKER_STOP_REPORT)) if PACEMAKER_STOP_REPORT in names else {}
        if stop.get('validation_loss'):
            x, y = zip(*stop['validation_loss'], strict=True)
            curve['validation'] = (np.array(x, int), np.array(y, float))
        header = {
            **self.common_header(potential),
            'iterations': int(train_curve[-1, 0]) if len(train_curve) else 0,
            'stopped by': stop.get('reason', 'pacemaker'),
            'evaluator': _evaluator_line(stop),
            'reference energies (eV)': ', '.join(f'{e} {v:.6f}' for e, v in reference['energies'].items()),
        }
        return potential, predictions, header, None, curve

    def _predictions(self, retrieved, names, reference) -> dict:
        rows = []
        for name, validation in (('train_pred.pckl.gzip', False), ('test_pred.pckl.gzip', True)):
            if name not in names:
                continue
            with retrieved.base.repository.open(name, 'rb') as handle:
                table = pd.read_pickle(handle, compression='gzip')
            table['validation'] = validation
            rows.append(table)
        table = pd.concat(rows, ignore_index=True).sort_values('mlpgen_index')
        training = self.node.inputs.training_set.get_frames()
        frames = training.to_frames()
        index = table['mlpgen_index'].to_numpy(int)
        n_atoms = table['NUMBER_OF_ATOMS'].to_numpy(float)
        # pacemaker predicts the ACE part; the reference energies (E0 of the .yace) complete it.
        # (pacemaker may recompute energy_corrected of the validation set, so use ours.)
        energies = reference['energies']
        shift = np.array([sum(energies[chemical_symbols[z]] for z in frames[i].numbers) for i in index])
        groups = np.array([frames[i].group for i in index])
        validation = table['validation'].to_numpy(bool)
        energy = {
            'reference': table['energy'].to_numpy(float) / n_atoms,
            'predicted': (table['energy_pred'].to_numpy(float) + shift) / n_atoms,
            'validation': validation,
            'group': groups,
            'structure': index,
        }
        reference_forces = np.concatenate([np.asarray(f, float).reshape(-1) for f in table['forces']])
        predicted_forces = np.concatenate([np.asarray(f, float).reshape(-1) for f in table['forces_pred']])
        repeat = (3 * n_atoms).astype(int)
        forces = {
            'reference': reference_forces,
            'predicted': predicted_forces,
            'validation': np.repeat(validation, repeat),
            'group': np.repeat(groups, repeat),
            'structure': np.repeat(index, repeat),
        }
        return {'energy': energy, 'forces': forces}


def _evaluator_line(stop: dict) -> str:
    """Which pacemaker evaluator ran, and why it was not the one asked for."""
    evaluator = stop.get('evaluator', 'unknown')
    if stop.get('evaluator_fallback'):
        return f'{evaluator} (fallback: TensorFlow could not be loaded: {stop["evaluator_fallback"]})'
    return evaluator
