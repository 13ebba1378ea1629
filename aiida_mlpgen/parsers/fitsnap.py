"""``FitsnapParser``: FitSNAP's outputs -> SNAP potential, metrics, predictions, report, plots."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from ase.calculators.lammps import Prism

from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation as Calc
from aiida_mlpgen.common.design_check import CHECK_FILE
from aiida_mlpgen.data.potentials import PotentialError, SnapPotentialData
from aiida_mlpgen.data.potentials.snap import parse_snapcoeff

from .base import MlpFitParser

#: FitSNAP stress rows are in bar (pressure sign), Voigt order xx yy zz yz xz xy; metrics use GPa.
BAR_TO_GPA = 1e-4
EV_A3_TO_GPA = 160.21766208
VOIGT = np.array([(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)])


class FitsnapParser(MlpFitParser):
    POTENTIAL_TYPE = 'snap'

    def parse_fit(self, retrieved):
        names = set(retrieved.base.repository.list_object_names())
        output = ''.join(
            retrieved.base.repository.get_object_content(name)
            for name in (Calc.OUTPUT_FILE, '_scheduler-stderr.txt')
            if name in names
        )
        coeff_name, param_name = f'{Calc.POTENTIAL_PREFIX}.snapcoeff', f'{Calc.POTENTIAL_PREFIX}.snapparam'
        if 'Traceback (most recent call last)' in output or 'Error' in output.split('\n')[-1:]:
            errors = [line for line in output.splitlines() if 'Error' in line or 'ERROR' in line]
            return self.exit_codes.ERROR_CODE_FAILED.format(error=errors[-1] if errors else 'see the output files')
        missing = [n for n in (coeff_name, param_name, Calc.DATAFRAME_FILE, Calc.GROUPS_FILE) if n not in names]
        if missing:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=', '.join(missing))
        coeff_text = retrieved.base.repository.get_object_content(coeff_name)
        param_text = retrieved.base.repository.get_object_content(param_name)
        try:
            coefficients = parse_snapcoeff(coeff_text, coeff_name)
        except PotentialError as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=error)
        values = np.concatenate([v['coefficients'] for v in coefficients['elements'].values()])
        if not np.isfinite(values).all():
            return self.exit_codes.ERROR_NAN_COEFFICIENTS
        try:
            with retrieved.base.repository.open(Calc.DATAFRAME_FILE, 'rb') as handle:
                frame = pd.read_pickle(handle)
            setup = json.loads(retrieved.base.repository.get_object_content(Calc.GROUPS_FILE))
        except Exception as error:  # noqa: BLE001 - a broken pickle raises many types
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=error)
        parameters = setup['parameters']
        zbl = (parameters['zbl_inner'], parameters['zbl_outer']) if parameters['zbl'] else None
        inputs = self.node.inputs
        reference = getattr(inputs, 'delta_potential', None) or getattr(inputs, 'reference_potential', None)
        potential = SnapPotentialData(coeff_text, param_text, zbl=zbl, reference=reference)
        predictions = self._predictions(frame, setup)
        header = {
            **{k: v for k, v in self.common_header(potential).items() if k != 'parameters'},
            'twojmax / rcutfac': f'{parameters["twojmax"]} / {parameters["rcutfac"]}',
            'quadratic / ZBL': f'{parameters["quadratic"]} / {zbl or "off"}',
            'explicit multi-element (chemflag)': parameters.get('chemflag', False),
            'Δ-potential': f'{type(reference).__name__}<{reference.pk}>' if reference is not None else 'none',
            'solver': parameters['solver'],
            'fit weights (energy, forces, stress)': ', '.join(
                str(parameters['fit'][t]) for t in ('energy', 'forces', 'stress')
            ),
            'coefficients': len(values),
        }
        check = json.loads(retrieved.base.repository.get_object_content(CHECK_FILE)) if CHECK_FILE in names else None
        header['design matrix (weighted training rows x coefficients, condition number)'] = _describe_check(check)
        singular = None
        if check is not None and check['problem']:
            singular = self.exit_codes.ERROR_SINGULAR_FIT.format(detail=check['problem'])
        return potential, predictions, header, singular

    def _predictions(self, frame: pd.DataFrame, setup: dict) -> dict:
        """Reference vs predicted, per quantity, in the frame of the training set.

        The reference is the fit's target (DFT plus any energy shift); the prediction adds
        the fit's residual (FitSNAP predicted minus target, rotated back from LAMMPS's frame)
        to it, so reference potentials such as ZBL count in both.
        """
        groups = setup['groups']
        shifts = np.asarray(setup['energy_shift_per_atom'])
        training = self.node.inputs.training_set.get_frames()
        config = frame['Configs'].map(lambda name: int(str(name).split('/')[-1][1:7])).to_numpy()
        fitsnap_group = frame['Groups'].to_numpy()
        residual = frame['preds'].to_numpy(float) - frame['truths'].to_numpy(float)
        testing = frame['Testing'].to_numpy(bool)
        row_type = frame['Row_Type'].to_numpy()
        starts = np.concatenate([[0], np.cumsum(training.n_atoms)[:-1]])
        rotations = {c: Prism(training.cells[c]).rot_mat for c in np.unique(config)}

        def entry(mask, reference, delta):
            return {
                'reference': np.asarray(reference, float),
                'predicted': np.asarray(reference, float) + delta,
                'validation': testing[mask],
                'group': np.array([groups[g]['group'] for g in fitsnap_group[mask]]),
                'structure': config[mask],
            }

        result = {}
        mask = row_type == 'Energy'
        if mask.any():
            index = config[mask]
            result['energy'] = entry(mask, training.energies_per_atom()[index] + shifts[index], residual[mask])
        mask = row_type == 'Force'
        if mask.any():
            rows = np.flatnonzero(mask)
            delta = residual[rows].reshape(-1, 3)
            owner = config[rows].reshape(-1, 3)[:, 0]
            for c in np.unique(owner):
                delta[owner == c] = delta[owner == c] @ rotations[c].T
            atom = frame['Atom_I'].to_numpy(int)[rows].reshape(-1, 3)[:, 0]
            reference = training.forces[starts[owner] + atom]
            result['forces'] = entry(mask, reference.ravel(), delta.ravel())
        with_stress = np.array([groups[g]['has_stress'] for g in fitsnap_group])
        mask = (row_type == 'Stress') & with_stress
        if mask.any():
            rows = np.flatnonzero(mask)
            owner = config[rows].reshape(-1, 6)[:, 0]
            delta = np.empty((len(owner), 6))
            for k, (c, voigt) in enumerate(zip(owner, residual[rows].reshape(-1, 6), strict=True)):
                tensor = -_voigt_to_tensor(voigt) * BAR_TO_GPA  # pressure sign, bar -> tension, GPa
                rotated = rotations[c] @ tensor @ rotations[c].T
                delta[k] = rotated[VOIGT[:, 0], VOIGT[:, 1]]
            reference = training.stress[owner][:, VOIGT[:, 0], VOIGT[:, 1]] * EV_A3_TO_GPA
            result['stress'] = entry(mask, reference.ravel(), delta.ravel())
        return result


def _describe_check(check: dict | None) -> str:
    if check is None:
        return 'not checked (plain FitSNAP)'
    condition = check['condition_number']
    return (
        f'{check["rows"]} x {check["coefficients"]}, '
        f'{"not needed (regularised solver)" if condition is None else format(condition, ".3g")}'
    )


def _voigt_to_tensor(voigt) -> np.ndarray:
    tensor = np.zeros((3, 3))
    tensor[VOIGT[:, 0], VOIGT[:, 1]] = voigt
    tensor[VOIGT[:, 1], VOIGT[:, 0]] = voigt
    return tensor
