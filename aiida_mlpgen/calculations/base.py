"""``MlpFitCalculation``: what every fitting CalcJob of aiida-mlpgen shares."""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.common import CalcInfo
from aiida.engine import CalcJob

from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.data.training_set.frames import choose_validation, held_out_count

from .common import default_options, output_exit_codes, single_run
from .progress import MONITOR, ShowsProgress


class MlpFitCalculation(ShowsProgress, CalcJob):
    """Base of the FitSNAP, pacemaker and NNP CalcJobs: a training set and parameters in,
    a potential, metrics, predictions, a report and plots out."""

    #: Entry point of the parser, and the module with ``normalize(parameters, elements)``.
    PARSER_NAME: str = None
    PARAMETERS = None
    TYPE_NAME: str = None

    @classmethod
    def define(cls, spec):
        super().define(spec)
        default_options(spec, cls.PARSER_NAME, cls.OUTPUT_FILE)
        spec.input(
            'training_set',
            valid_type=TrainingSetData,
            help='DFT training data; validation-tagged structures are held out of the fit.',
        )
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            required=False,
            help="Fit parameters (see the potential type's documentation); defaults when omitted.",
        )
        spec.input(
            'monitors.progress',
            valid_type=orm.Dict,
            required=False,
            default=lambda: orm.Dict(MONITOR),
            help='Reads the progress file of the running job (iteration, loss, ETA) into the process status.',
        )
        spec.output('potential', help='The fitted potential, ready for LAMMPS.')
        spec.output(
            'metrics',
            valid_type=orm.Dict,
            help='RMSE, MAE, max |error| and R2 of energies, forces and stresses, train/validation, per group.',
        )
        spec.output(
            'predictions',
            valid_type=orm.ArrayData,
            help='Reference (DFT) vs predicted values per structure / force component, with split flags.',
        )
        spec.output('report', valid_type=orm.SinglefileData, help='The text report of the fit.')
        spec.output('plots', valid_type=orm.FolderData, help='Parity, difference and error-distribution PNGs.')
        spec.output(
            'learning_curve',
            valid_type=orm.ArrayData,
            required=False,
            help='Loss (or RMSE) per iteration/epoch for training and validation, iterative fits only.',
        )
        output_exit_codes(spec)
        spec.exit_code(
            305,
            'ERROR_JOB_CANCELLED',
            invalidates_cache=True,
            message='The job was cancelled (scancel, qdel) before the fit finished: {detail}.',
        )
        spec.exit_code(
            306,
            'ERROR_PROCESS_KILLED',
            invalidates_cache=True,
            message='The fitting process was killed by a signal before it finished: {detail}.',
        )
        spec.exit_code(
            307,
            'ERROR_DISK_WRITE',
            invalidates_cache=True,
            message='The job could not write its files (disk full, quota, file size limit): {detail}.',
        )
        spec.exit_code(310, 'ERROR_CODE_FAILED', message='The fitting code failed: {error}.', invalidates_cache=True)
        spec.exit_code(410, 'ERROR_NAN_COEFFICIENTS', message='The fit produced NaN or infinite coefficients.')
        spec.exit_code(411, 'ERROR_NAN_LOSS', message='The loss became NaN or infinite during the fit.')
        spec.exit_code(
            420,
            'ERROR_SINGULAR_FIT',
            message='The fit is singular: {detail}. Add data, lower twojmax or use RIDGE/ELASTIC.',
        )

    INPUT_FILE: str = None
    OUTPUT_FILE: str = None

    @classmethod
    def normalized_parameters(cls, inputs):
        """``(training_set, parameters, error)``: parameters completed with defaults, or the
        message of what is wrong with them (for the input validators)."""
        training_set = inputs.get('training_set')
        if training_set is None:
            return None, None, None
        given = inputs['parameters'].get_dict() if 'parameters' in inputs else {}
        try:
            p = cls.PARAMETERS.normalize(given, training_set.elements)
        except cls.PARAMETERS.ParameterError as error:
            return training_set, None, f'invalid {cls.TYPE_NAME} parameters: {error}'
        return training_set, p, cls.split_problem(training_set, p)

    @staticmethod
    def split_problem(training_set, p: dict) -> str | None:
        """Why the set cannot be fitted as it is split — no structure left for training by
        :meth:`validation_mask`, or structures that are not periodic — or None (from the set's
        counts: no I/O)."""
        total = training_set.n_structures
        if training_set.n_non_periodic:
            return (
                f'{training_set.n_non_periodic} structure(s) of the training set are not periodic (a molecular '
                'set): the fitting codes need periodic cells; put each molecule in a box wider than twice the cutoff'
            )
        counts = training_set.split_counts
        if counts.get('validation', 0) == total:
            return 'every structure of the training set is tagged validation: nothing to fit'
        if counts.get('validation') or counts.get('train') or not p.get('validation_fraction'):
            return None
        held = held_out_count(training_set.group_counts, p['validation_fraction'])
        if held >= total:
            return (
                f'validation_fraction {p["validation_fraction"]} holds out all {total} structures '
                f'(groups of {sorted(training_set.group_counts.values())}): nothing is left to train on'
            )
        return None

    def fit_parameters(self, elements) -> dict:
        """The ``parameters`` input completed with defaults."""
        given = self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {}
        return self.PARAMETERS.normalize(given, elements)

    @staticmethod
    def validation_mask(frames, p: dict) -> np.ndarray:
        """The structures held out, one rule for every type: the set's own split, else
        ``validation_fraction`` of each group (stratified, ``seed``; ``choose_validation``, the
        rule of ``split_training_set`` too) when no structure carries a split."""
        validation = np.array([f.split == 'validation' for f in frames])
        if not validation.any() and all(f.split == 'unassigned' for f in frames) and p['validation_fraction'] > 0:
            chosen = choose_validation(
                [f.group for f in frames], [True] * len(frames), p['validation_fraction'], p['seed']
            )
            validation[chosen] = True
        return validation

    def _calcinfo(self, retrieve: list[str], local_copy_list=(), exclude=()) -> CalcInfo:
        """One run of the code on ``INPUT_FILE`` (stdout to ``OUTPUT_FILE``), MPI as the options say."""
        return single_run(self, [self.INPUT_FILE], self.OUTPUT_FILE, retrieve, local_copy_list, exclude)
