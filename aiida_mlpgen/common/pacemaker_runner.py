"""``mlpgen-pacemaker``: the program of the ``pacemaker`` code of ``mlpgen setup``.

pacemaker on an input.yaml, plus what pacemaker lacks here: SPEC.md's stopping rule
(:class:`AceStoppingRule`, hooked into pacemaker's metric callbacks), fixed reference
energies, the pickled data pacemaker reads, and predictions of the final potential on
every structure, written for the parser (which evaluates nothing).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Files ``mlpgen-pacemaker`` reads beside input.yaml, and writes.
PACEMAKER_STOPPING_FILE = 'mlpgen_stopping.json'
PACEMAKER_REFERENCE_FILE = 'mlpgen_reference_energies.json'
PACEMAKER_STOP_REPORT = 'mlpgen_stop.json'


class AceStoppingRule:
    """SPEC.md's stopping rule for ACE fits, which pacemaker's own early stopping does not have.

    From ``min_iterations`` on, the fit stops when the relative improvement per iteration
    of the training loss is below ``min_relative_train_loss_change`` *and* that of the
    validation loss (evaluated every ``display_step`` iterations) is below
    ``min_relative_validation_loss_change``; without a validation set the first criterion
    alone decides. ``max_iterations`` caps the fit (pacemaker's ``maxiter``).
    """

    def __init__(self, settings: dict):
        self.settings = settings
        self.train: list[tuple[int, float]] = []
        self.validation: list[tuple[int, float]] = []
        self.stopped_at = None

    @staticmethod
    def _improvement(history):
        if len(history) < 2:
            return None
        (i0, l0), (i1, l1) = history[-2], history[-1]
        if l0 == 0 or i1 == i0:
            return 0.0
        return (l0 - l1) / abs(l0) / (i1 - i0)

    def should_stop(self, has_validation: bool) -> bool:
        if not self.train or self.train[-1][0] < self.settings['min_iterations']:
            return False
        train = self._improvement(self.train)
        if train is None or train >= self.settings['min_relative_train_loss_change']:
            return False
        if not has_validation:
            return True
        validation = self._improvement(self.validation)
        return validation is not None and validation < self.settings['min_relative_validation_loss_change']

    def install(self, fit_class, stop_exception, pyace_fit_class=None) -> None:
        """Hook the rule into pacemaker's metric callbacks. pacemaker's CPU (pyace) backend
        evaluates no validation loss during the fit, so with ``pyace_fit_class`` the rule
        evaluates it itself every ``display_step`` iterations at the current parameters."""
        rule = self
        original_fit, original_test = fit_class.fit_metric_callback, fit_class.test_metric_callback
        if pyace_fit_class is not None and not getattr(pyace_fit_class._callback, '_mlpgen', False):
            original_step = pyace_fit_class._callback

            def remember_parameters(fitter, x, *args, **kwargs):
                fitter._mlpgen_x = x
                return original_step(fitter, x, *args, **kwargs)

            remember_parameters._mlpgen = True
            pyace_fit_class._callback = remember_parameters

        def validation_loss(fit):
            fitter = getattr(getattr(fit, 'fit_backend', None), 'fitter', None)
            x = getattr(fitter, '_mlpgen_x', None)
            if x is None or not hasattr(fitter, 'get_cbasis'):
                return None
            return pyace_validation_loss(fitter.get_cbasis(x), fit.test_data, fitter.loss_spec.kappa)

        def check(fit):
            if rule.stopped_at is not None:  # stopped already: tensorpot evaluates the test set once more
                return
            if rule.should_stop(fit.test_data is not None and len(fit.test_data) > 0):
                rule.stopped_at = rule.train[-1][0]
                raise stop_exception(f'mlpgen stopping rule met at iteration {rule.stopped_at}')

        def fit_metric_callback(fit, metrics_dict, extended_display_step=None):
            original_fit(fit, metrics_dict, extended_display_step=extended_display_step)
            iteration = int(metrics_dict['iter_num'])
            rule.train.append((iteration, float(metrics_dict['loss'])))
            has_validation = fit.test_data is not None and len(fit.test_data) > 0
            if has_validation and iteration % rule.settings.get('display_step', 10) == 0:
                loss = validation_loss(fit)
                if loss is not None:
                    rule.validation.append((iteration, loss))
            check(fit)

        def test_metric_callback(fit, metrics_dict, extended_display_step=None):
            original_test(fit, metrics_dict, extended_display_step=extended_display_step)
            iteration = int(metrics_dict['iter_num'])
            if rule.train:  # tensorpot's closing evaluation is numbered one past the last iteration
                iteration = min(iteration, rule.train[-1][0])
            if not rule.validation or rule.validation[-1][0] != iteration:
                rule.validation.append((iteration, float(metrics_dict['loss'])))
            check(fit)

        fit_class.fit_metric_callback = fit_metric_callback
        fit_class.test_metric_callback = test_metric_callback


def report_progress(fit_class, max_iterations) -> None:
    """Write the iteration and loss to the job's progress file after every iteration."""
    from .progress_file import ProgressFile

    progress = ProgressFile()
    original = fit_class.fit_metric_callback
    total = int(max_iterations) if max_iterations else None

    def fit_metric_callback(fit, metrics_dict, extended_display_step=None):
        iteration = int(metrics_dict['iter_num'])
        text = f'iteration {iteration}' + (f'/{total}' if total else '') + f', loss {float(metrics_dict["loss"]):.3g}'
        progress(text, iteration, total)
        original(fit, metrics_dict, extended_display_step=extended_display_step)

    fit_class.fit_metric_callback = fit_metric_callback


def pyace_validation_loss(cbasis, data, kappa: float) -> float:
    """pacemaker's loss (without regularisation) of the C-tilde basis ``cbasis`` on ``data``:
    (1 - kappa) * sum w_E (dE/N)^2 + kappa * sum w_F |dF|^2."""
    import numpy as np
    from pyace.calculator import ACECalculator
    from pyace.evaluator import ACECTildeEvaluator

    evaluator = ACECTildeEvaluator()
    evaluator.set_basis(cbasis)
    calculator = ACECalculator()
    calculator.set_evaluator(evaluator)
    e_loss = f_loss = 0.0
    for row in data.itertuples(index=False):
        calculator.compute(row.atomic_env)
        n = row.NUMBER_OF_ATOMS
        w_e = float(np.ravel(getattr(row, 'w_energy', 1.0))[0])
        w_f = np.ravel(getattr(row, 'w_forces', np.ones(n)))
        e_loss += w_e * ((calculator.energy - row.energy_corrected) / n) ** 2
        f_loss += float(np.sum(w_f * np.sum((np.asarray(calculator.forces) - np.asarray(row.forces)) ** 2, axis=1)))
    return (1 - kappa) * e_loss + kappa * f_loss


def build_pacemaker_pickle(name: str) -> None:
    """``train.pckl.gzip`` from ``train.xyz`` + ``train.json`` (written by PacemakerCalculation),
    with this machine's pandas; nothing to do when the pickle exists or no XYZ is there."""
    import ase.io
    import pandas as pd

    stem = name.split('.')[0]
    xyz, side = Path(f'{stem}.xyz'), Path(f'{stem}.json')
    if Path(name).exists() or not xyz.exists():
        return
    extra = json.loads(side.read_text())
    rows = []
    for atoms, index, corrected in zip(
        ase.io.read(xyz, index=':', format='extxyz'), extra['mlpgen_index'], extra['energy_corrected'], strict=True
    ):
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = None
        atoms.info.clear()
        rows.append(
            {
                'ase_atoms': atoms,
                'energy': energy,
                'energy_corrected': corrected,
                'forces': forces,
                'mlpgen_index': index,
            }
        )
    pd.DataFrame(rows).to_pickle(name, compression={'method': 'gzip', 'mtime': 0})


def repredict(potential: Path, tables: dict) -> None:
    """Recompute ``energy_pred``/``forces_pred`` of pacemaker's prediction tables with the final
    potential. pacemaker predicts the validation set without the ZBL inner core it adds at
    the end (``repulsion: auto``), so a validation structure with an atom pair closer than
    the training set's would otherwise disagree with the stored potential."""
    import numpy as np
    import pandas as pd
    from pyace import PyACECalculator

    calculator = PyACECalculator(str(potential))
    for name, source in tables.items():
        if not source or not Path(name).exists() or not Path(source).exists():
            continue
        table = pd.read_pickle(name, compression='gzip')
        structures = pd.read_pickle(source, compression='gzip')
        if 'mlpgen_index' not in table or 'mlpgen_index' not in structures:
            continue
        by_index = dict(zip(structures['mlpgen_index'], structures['ase_atoms'], strict=True))
        energies, forces = [], []
        for atoms in (by_index[i] for i in table['mlpgen_index']):
            atoms = atoms.copy()
            atoms.calc = calculator
            energies.append(float(atoms.get_potential_energy()))
            forces.append(np.array(atoms.get_forces()))
        table['energy_pred'] = energies
        table['forces_pred'] = forces
        table.to_pickle(name, compression={'method': 'gzip', 'mtime': 0})


def set_reference_energies(yace: Path, elements: list[str], energies: dict) -> None:
    """Write per-element reference energies into the ``E0`` line of a ``.yace`` file, so
    that pyace and LAMMPS ``pair_style pace`` give total energies."""
    values = [float(energies.get(e, 0.0)) for e in elements]
    lines = yace.read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith('E0:'):
            lines[index] = 'E0: ' + json.dumps(values)
            break
    else:
        lines.insert(1, 'E0: ' + json.dumps(values))
    yace.write_text('\n'.join(lines) + '\n')


def pacemaker_main(argv: list[str] | None = None) -> int:
    """``mlpgen-pacemaker INPUT.yaml [pacemaker options]``: pacemaker plus SPEC.md's stopping rule,
    then ``output_potential.yace`` (with reference energies as E0)."""
    import subprocess

    argv = list(sys.argv[1:] if argv is None else argv)
    import yaml
    from pyace.cli import pacemaker
    from pyace.generalfit import GeneralACEFit, TestLossChangeTooSmallException
    from pyace.pyacefit import PyACEFit

    from . import pacemaker_evaluator

    is_input = bool(argv) and not argv[0].startswith('-') and Path(argv[0]).is_file()
    data = (yaml.safe_load(Path(argv[0]).read_text()) or {}).get('data', {}) if is_input else {}
    for name in (data.get('filename'), data.get('test_filename')):
        if name:
            build_pacemaker_pickle(name)
    rule = None
    settings = {}
    if Path(PACEMAKER_STOPPING_FILE).exists():
        settings = json.loads(Path(PACEMAKER_STOPPING_FILE).read_text())
        rule = AceStoppingRule(settings)
        rule.install(GeneralACEFit, TestLossChangeTooSmallException, PyACEFit)
    fit = (yaml.safe_load(Path(argv[0]).read_text()) or {}).get('fit', {}) if is_input else {}
    report_progress(GeneralACEFit, fit.get('maxiter'))
    argv, evaluator, fallback = pacemaker_evaluator.prepare(argv, settings.get('device', 'cpu'))
    pacemaker.main(argv)
    report = {'evaluator': evaluator, 'evaluator_fallback': fallback}
    if rule is not None:
        report.update(
            {
                'stopped_at': rule.stopped_at,
                'train_loss': rule.train,
                'validation_loss': rule.validation,
                'iterations': rule.train[-1][0] if rule.train else 0,
                'reason': 'stopping rule' if rule.stopped_at is not None else 'max_iterations or optimizer converged',
            }
        )
    Path(PACEMAKER_STOP_REPORT).write_text(json.dumps(report))
    output = Path('output_potential.yaml')
    if output.exists():
        repredict(
            output, {'train_pred.pckl.gzip': data.get('filename'), 'test_pred.pckl.gzip': data.get('test_filename')}
        )
        subprocess.run(
            [str(Path(sys.executable).parent / 'pace_yaml2yace'), str(output), '-o', 'output_potential.yace'],
            check=True,
        )
        if Path(PACEMAKER_REFERENCE_FILE).exists():
            reference = json.loads(Path(PACEMAKER_REFERENCE_FILE).read_text())
            set_reference_energies(Path('output_potential.yace'), reference['elements'], reference['energies'])
        if rule is not None and rule.settings.get('active_set') and data.get('filename'):
            # the active set for the extrapolation grade gamma, from the training structures
            subprocess.run(
                [str(Path(sys.executable).parent / 'pace_activeset'), '-d', data['filename'], str(output)], check=True
            )
    return 0
