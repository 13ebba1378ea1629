"""``MlpFitCalculation``: what every fitting CalcJob of aiida-mlpgen shares."""

from __future__ import annotations

from aiida import orm
from aiida.engine import CalcJob

from aiida_mlpgen.data.training_set import TrainingSetData


class MlpFitCalculation(CalcJob):
    """Base of the FitSNAP, pacemaker and NNP CalcJobs: a training set and parameters in,
    a potential, metrics, predictions, a report and plots out."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('training_set', valid_type=TrainingSetData,
                   help='DFT training data; validation-tagged structures are held out of the fit.')
        spec.input('parameters', valid_type=orm.Dict, required=False,
                   help='Fit parameters (see the potential type\'s documentation); defaults when omitted.')
        spec.output('potential', help='The fitted potential, ready for LAMMPS.')
        spec.output('metrics', valid_type=orm.Dict,
                    help='RMSE, MAE, max |error| and R2 of energies, forces and stresses, train/validation, per group.')
        spec.output('predictions', valid_type=orm.ArrayData,
                    help='Reference (DFT) vs predicted values per structure / force component, with split flags.')
        spec.output('report', valid_type=orm.SinglefileData, help='The text report of the fit.')
        spec.output('plots', valid_type=orm.FolderData, help='Parity, difference and error-distribution PNGs.')
        spec.output('learning_curve', valid_type=orm.ArrayData, required=False,
                    help='Loss (or RMSE) per iteration/epoch for training and validation, iterative fits only.')
        spec.exit_code(300, 'ERROR_NO_RETRIEVED_FOLDER', message='The retrieved folder is missing.', invalidates_cache=True)
        spec.exit_code(301, 'ERROR_OUTPUT_MISSING', message='An expected output file is missing: {files}.',
                       invalidates_cache=True)
        spec.exit_code(302, 'ERROR_OUTPUT_UNREADABLE', message='An output file could not be read: {error}.',
                       invalidates_cache=True)
        spec.exit_code(310, 'ERROR_CODE_FAILED', message='The fitting code failed: {error}.', invalidates_cache=True)
        spec.exit_code(410, 'ERROR_NAN_COEFFICIENTS', message='The fit produced NaN or infinite coefficients.')
        spec.exit_code(411, 'ERROR_NAN_LOSS', message='The loss became NaN or infinite during the fit.')
        spec.exit_code(420, 'ERROR_SINGULAR_FIT',
                       message='The fit is singular: {detail}. Add data, lower twojmax or use RIDGE/ELASTIC.')
