"""``OptimizationWorkChain``: hyperparameters by Powell's derivative-free methods, every trial a fit.

Trials are child fit CalcJobs (FitSNAP, pacemaker or the NNP trainer) on a training set
that carries a validation split; the objective is their weighted validation error. With
``folds`` = k, a trial is k fits instead (k-fold cross-validation over all structures of the
set, folds stratified by group) and its objective the mean of the k validation errors: a
steadier objective than one small validation split. The
start and the 2n initial interpolation points run concurrently (at most ``max_in_flight``
at a time), then nlopt proposes one point per step (see :mod:`.optimizer`).

SNAP fits that differ only in weights or in the split (the k folds of a trial) share one
FitSNAP design matrix: the first computes and saves it, the others wait for it and only
re-solve the weighted least-squares problem.
"""

from __future__ import annotations

import io
import math

import numpy as np
from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, append_, calcfunction, if_, while_

from aiida_mlpgen import potential_types
from aiida_mlpgen.calculations.functions.training_set import kfold_training_sets
from aiida_mlpgen.calculations.progress import ShowsProgress, publish
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.data.training_set.frames import fold_problem

from . import optimizer as opt

DEFAULT_SETTINGS = {
    'keys': None,  # None: default_keys() of the type and elements
    'bounds': {},
    'budget': 30,
    'max_in_flight': 4,
    'algorithm': 'bobyqa',
    'rhobeg': 0.15,
    'objective': {'energy': 1.0, 'forces': 10.0},
    'metric': 'rmse',
    'reference': None,
    'folds': None,
    'seed': 42,
    'choices': None,  # {key: [values]}: one search per combination (a discrete outer choice)
}
MAX_CHOICES = 16
PENALTY = 1e6  # objective of a failed trial
#: SNAP parameters that change the weighted least-squares problem but not the descriptors.
WEIGHT_KEYS = ('fit', 'group_weights', 'solver', 'solver_options')


def descriptor_signature(parameters: dict) -> str:
    """What fixes FitSNAP's design matrix: every parameter except the weights and the solver."""
    import json

    return json.dumps({k: v for k, v in parameters.items() if k not in WEIGHT_KEYS}, sort_keys=True)


def default_keys(potential_type: str, elements: list[str]) -> list[str]:
    """What ``--optimize`` with no keys searches: the type's ``search_keys`` (SNAP: rcutfac, wj,
    fit.forces and, with several elements, each element's radelem; ACE and NNP: the cutoff and
    the size of the model)."""
    return potential_types.get(potential_type).search_keys(list(elements))


def settings_of(optimize: dict) -> dict:
    unknown = set(optimize) - set(DEFAULT_SETTINGS)
    if unknown:
        raise opt.OptimizationError(f'unknown optimize setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}')
    settings = {**DEFAULT_SETTINGS, **optimize}
    if isinstance(settings['keys'], str):
        settings['keys'] = [k.strip() for k in settings['keys'].split(',') if k.strip()]
    if settings['keys'] is not None and not settings['keys']:
        raise opt.OptimizationError(
            'optimize.keys: name at least one hyperparameter, or leave keys out for the defaults of the type'
        )
    if int(settings['max_in_flight']) < 1:
        raise opt.OptimizationError('optimize.max_in_flight must be >= 1')
    if settings['metric'] not in ('rmse', 'mae'):
        raise opt.OptimizationError('optimize.metric must be rmse or mae')
    if isinstance(settings['seed'], bool) or not isinstance(settings['seed'], int) or settings['seed'] < 0:
        raise opt.OptimizationError(f'optimize.seed must be a non-negative integer, got {settings["seed"]!r}')
    folds = settings['folds']
    if folds is not None and (isinstance(folds, bool) or not isinstance(folds, int) or folds < 2):
        raise opt.OptimizationError(f'optimize.folds must be an integer >= 2 (k-fold cross-validation), got {folds!r}')
    return settings


def choice_combinations(choices: dict | None) -> list[dict]:
    """``{'twojmax': [6, 8]}`` -> ``[{'twojmax': 6}, {'twojmax': 8}]`` (every combination of the lists)."""
    import itertools

    if not choices:
        return []
    if not isinstance(choices, dict) or not all(isinstance(v, list | tuple) and v for v in choices.values()):
        raise opt.OptimizationError(
            f'optimize.choices must map parameter keys to non-empty lists of values, got {choices!r}'
        )
    keys = sorted(choices)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(choices[k] for k in keys))]
    if len(combos) > MAX_CHOICES:
        raise opt.OptimizationError(f'optimize.choices make {len(combos)} searches; at most {MAX_CHOICES}')
    return combos


def choice_label(combo: dict) -> str:
    return ','.join(f'{k}={v}' for k, v in combo.items())


def with_choice(parameters: dict, combo: dict) -> dict:
    for key, value in combo.items():
        parameters = opt.set_key(parameters, key, value)
    return parameters


def search_space(training_set: TrainingSetData, potential_type: str, parameters: dict, optimize: dict):
    """(settings, normalized parameters, variables, start point in the unit cube)."""
    settings = settings_of(optimize)
    calc = potential_types.get(potential_type).calculation_class()
    elements = list(training_set.elements)
    normalized = potential_types.get(potential_type).prepare_search(
        calc.PARAMETERS.normalize(parameters, elements), parameters
    )
    groups = sorted(training_set.base.attributes.get('groups', {}) or [])
    if settings['keys'] is None:
        settings['keys'] = default_keys(potential_type, elements)
    keys = opt.expand_keys(settings['keys'], elements, groups)
    for key in keys:  # per-group weights exist once set explicitly: they start from the fit's weights
        if opt.get_key(normalized, key) is None and key.startswith('group_weights.') and 'fit' in normalized:
            term = key.rsplit('.', 1)[1]
            normalized = opt.set_key(normalized, key, normalized['fit'][term])
    space = opt.build_space(keys, normalized, settings['bounds'])
    start = [v.to_unit(opt.start_value(normalized, v.key)) for v in space]
    return settings, normalized, space, start


def check_request(
    training_set, potential_type: str, parameters: dict, optimize: dict, split_required: bool = False
) -> str | None:
    """What is wrong with an optimisation request, or None (the input validators use it).
    ``split_required``: the set must carry a validation split unless the request has folds."""
    try:
        settings = settings_of(optimize)
        searched = set(opt.expand_keys(settings['keys'] or [], [], []))
        for combo in choice_combinations(settings['choices']) or [{}]:
            clash = sorted(set(combo) & searched)
            if clash:
                raise opt.OptimizationError(f'{clash} cannot be both a choice and a searched key')
            chosen = with_choice(parameters, combo)
            if combo:  # name the choice that makes the parameters invalid
                try:
                    potential_types.get(potential_type).parameters.normalize(chosen, list(training_set.elements))
                except ValueError as error:
                    raise opt.OptimizationError(f'optimize.choices {choice_label(combo)}: {error}') from None
            settings, _, _, start = search_space(training_set, potential_type, chosen, optimize)
            opt.ReplayOptimizer(start, settings['algorithm'], int(settings['budget']), float(settings['rhobeg']))
    except (opt.OptimizationError, ValueError) as error:
        return str(error)
    if settings['folds'] is not None:
        problem = fold_problem(training_set.group_counts, settings['folds'])  # attributes only: no arrays read
        if problem:
            return f'optimize.folds: {problem}'
    elif split_required and not training_set.split_counts.get('validation'):
        return 'the training set has no validation structures: split it first (split_training_set) or use folds'
    return None


class OptimizationWorkChain(ShowsProgress, WorkChain):
    """Minimise the validation error of a fit over chosen hyperparameters (nlopt BOBYQA/NEWUOA)."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'training_set',
            valid_type=TrainingSetData,
            help='Training data with a validation split (the objective is measured on it).',
        )
        spec.input('potential_type', valid_type=orm.Str, help='snap, ace or nnp.')
        spec.input('parameters', valid_type=orm.Dict, required=False, help='Fit parameters; the start point.')
        spec.input(
            'optimize',
            valid_type=orm.Dict,
            required=False,
            help='keys (dotted parameter keys; radelem, wj, group_weights expand per element/group; left '
            'out: default_keys() of the type, e.g. SNAP rcutfac, wj, fit.forces and per-element '
            'radelem for several elements), '
            'bounds {key: [low, high]}, budget (trials, 30), max_in_flight (fits at a time, 4; the k '
            'folds of one trial always run together), algorithm '
            '(bobyqa | newuoa), rhobeg (0.15 of each range), objective weights {energy: 1, forces: 10} '
            '(meV/atom and eV/Å), metric (rmse | mae), reference {energy, forces} to divide by, '
            'folds (k: each trial is k fits, k-fold cross-validation over all structures, stratified '
            'by group; the objective is the mean over the folds), seed (of the folds, 42), choices '
            '({key: [values]}, e.g. {twojmax: [6, 8]}: a discrete outer choice, one search of '
            '`budget` trials per combination, run side by side; the best search wins).',
        )
        spec.input('code', valid_type=orm.AbstractCode, help='The fitting code.')
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of every trial.')
        spec.input(
            'delta_potential',
            valid_type=orm.Data,
            required=False,
            help='Types whose fit takes the Δ-potential itself (SNAP): included in every trial.',
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            if_(cls.has_choices)(cls.run_choices, cls.collect_choices).else_(
                cls.setup,
                while_(cls.should_continue)(cls.submit_trials, cls.submit_waiting, cls.inspect_trials),
                cls.finalize,
            )
        )
        spec.output('parameters', valid_type=orm.Dict, help='The best parameters found.')
        spec.output('trials', valid_type=orm.Dict, help='Every trial: parameters, errors, objective, process pk.')
        spec.output('objective_plot', valid_type=orm.SinglefileData, help='Objective vs trial (PNG).')
        spec.output('potential', help="The best trial's potential.")
        spec.output('metrics', valid_type=orm.Dict, help="The best trial's metrics.")
        spec.output('report', valid_type=orm.SinglefileData, help="The best trial's report.")
        spec.output('plots', valid_type=orm.FolderData, help="The best trial's plots.")
        spec.output('predictions', valid_type=orm.ArrayData, help="The best trial's predictions.")
        spec.exit_code(401, 'ERROR_ALL_TRIALS_FAILED', message='No trial finished: see the failed fit processes.')
        spec.exit_code(402, 'ERROR_ALL_CHOICES_FAILED', message='No search of optimize.choices finished: {detail}.')

    @classmethod
    def validate_inputs(cls, inputs, _):
        potential_type = inputs['potential_type'].value
        if potential_type not in potential_types.names():
            return f'potential_type must be one of {sorted(potential_types.names())}, got {potential_type!r}'
        training_set = inputs['training_set']
        parameters = inputs['parameters'].get_dict() if 'parameters' in inputs else {}
        return check_request(
            training_set,
            potential_type,
            parameters,
            inputs['optimize'].get_dict() if 'optimize' in inputs else {},
            split_required=True,
        )

    def has_choices(self):
        return bool(self.inputs.optimize.get_dict().get('choices')) if 'optimize' in self.inputs else False

    def run_choices(self):
        """One search per combination of ``optimize.choices``, side by side, sharing max_in_flight."""
        settings = settings_of(self.inputs.optimize.get_dict())
        combos = choice_combinations(settings['choices'])
        parameters = self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {}
        child = {k: v for k, v in self.inputs.optimize.get_dict().items() if k != 'choices'}
        child['max_in_flight'] = max(1, int(settings['max_in_flight']) // len(combos))
        searches = {}
        for index, combo in enumerate(combos):
            inputs = {
                k: self.inputs[k]
                for k in ('training_set', 'potential_type', 'code', 'options', 'delta_potential')
                if k in self.inputs
            }
            inputs['parameters'] = orm.Dict(with_choice(parameters, combo))
            inputs['optimize'] = orm.Dict(child)
            inputs['metadata'] = {'call_link_label': f'choice_{index}', 'label': choice_label(combo)}
            searches[f'choice_{index}'] = self.submit(OptimizationWorkChain, **inputs)
        self.report(f'{len(combos)} searches, one per choice: {[choice_label(c) for c in combos]}')
        return ToContext(**searches)

    def collect_choices(self):
        combos = choice_combinations(self.inputs.optimize.get_dict()['choices'])
        nodes = [self.ctx[f'choice_{i}'] for i in range(len(combos))]
        done = [(n, c) for n, c in zip(nodes, combos, strict=True) if n.is_finished_ok]
        if not done:
            return self.exit_codes.ERROR_ALL_CHOICES_FAILED.format(
                detail='; '.join(f'{n.process_label}<{n.pk}> [{n.exit_status}]' for n in nodes)
            )
        rows, best_row, winner = [], None, None
        for node, combo in done:
            table = node.outputs.trials.get_dict()
            best = len(rows) + table['best_trial']  # each search's best row, in the merged table
            if best_row is None or table['rows'][table['best_trial']]['objective'] < rows[best_row]['objective']:
                best_row, winner = best, node
            rows += [{'choice': choice_label(combo), **row} for row in table['rows']]
        self.report(
            f'best choice {rows[best_row]["choice"]}: objective {rows[best_row]["objective"]:.6g} '
            f'({winner.process_label}<{winner.pk}>)'
        )
        columns = ['choice', *done[0][0].outputs.trials.get_dict()['columns']]
        summary = tabulate_trials(orm.Dict({'columns': columns, 'rows': [_clean(r) for r in rows]}), orm.Int(best_row))
        self.out('trials', summary['trials'])
        self.out('objective_plot', summary['objective_plot'])
        for name in ('parameters', 'potential', 'metrics', 'report', 'plots', 'predictions'):
            self.out(name, winner.outputs[name])
        return None

    def setup(self):
        settings, normalized, space, start = search_space(
            self.inputs.training_set,
            self.inputs.potential_type.value,
            self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {},
            self.inputs.optimize.get_dict() if 'optimize' in self.inputs else {},
        )
        self.ctx.settings = settings
        self.ctx.start = start
        if settings['folds'] is not None:
            folds = kfold_training_sets(self.inputs.training_set, orm.Int(settings['folds']), orm.Int(settings['seed']))
            self.ctx.fold_sets = [folds[f'fold_{k}'].pk for k in range(settings['folds'])]
        else:
            self.ctx.fold_sets = [self.inputs.training_set.pk]
        self.ctx.design = self._optimizer().initial_design()
        self.ctx.evaluated = []  # [point, objective]
        self.ctx.rows = []
        self.ctx.done = False
        self.report(
            f'optimising {[v.key for v in space]} with {settings["algorithm"]}, budget {settings["budget"]}, '
            f'up to {settings["max_in_flight"]} trials in flight'
        )

    def _optimizer(self):
        s = self.ctx.settings
        return opt.ReplayOptimizer(self.ctx.start, s['algorithm'], int(s['budget']), float(s['rhobeg']))

    def _space(self):
        _, normalized, space, _ = search_space(
            self.inputs.training_set,
            self.inputs.potential_type.value,
            self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {},
            self.ctx.settings,
        )
        return normalized, space

    def should_continue(self):
        return not self.ctx.done

    def submit_trials(self):
        budget = int(self.ctx.settings['budget'])
        fold_sets = [orm.load_node(pk) for pk in self.ctx.fold_sets]
        per_batch = max(1, int(self.ctx.settings['max_in_flight']) // len(fold_sets))  # fits in flight
        room = min(per_batch, budget - len(self.ctx.evaluated))
        points = []
        if self.ctx.design:
            points, self.ctx.design = self.ctx.design[:room], self.ctx.design[room:]
        else:
            point, _ = self._optimizer().ask(self.ctx.evaluated)
            if point is None or room <= 0:
                self.ctx.done = True
                return
            points = [point]
        normalized, space = self._space()
        share = self._shares_descriptors(space)
        self.ctx.batch, self.ctx.waiting = [], []
        computing = set()
        for point in points:
            parameters = orm.Dict(opt.apply(normalized, space, point)).store()  # waiting fits load it by pk
            trial = len(self.ctx.evaluated) + len(self.ctx.batch)
            pks = []
            for fold, training_set in enumerate(fold_sets):
                label = f'trial_{trial:03d}' + (f'_fold_{fold}' if len(fold_sets) > 1 else '')
                key = self._descriptor_key(parameters) if share else None
                if key is not None and key in computing:  # wait for the fit that computes this design matrix
                    self.ctx.waiting.append([len(self.ctx.batch), fold, key, label, parameters.pk])
                    pks.append(None)
                    continue
                source = self.ctx.setdefault('descriptors', {}).get(key) if key else None
                if key is not None and source is None:
                    computing.add(key)
                pks.append(self._submit_fit(training_set, parameters, label, share, source))
            self.ctx.batch.append([list(point), pks])
        self.report(
            f'submitted {len(points)} trial(s): {[pks for _, pks in self.ctx.batch]}'
            + (f'; {len(self.ctx.waiting)} fit(s) wait for a design matrix' if self.ctx.waiting else '')
        )

    def submit_waiting(self):
        """Fits that waited for a design matrix computed by another fit of the batch: re-solve it."""
        if self.ctx.done or not self.ctx.get('waiting'):
            return
        self._remember_descriptors([pk for _, pks in self.ctx.batch for pk in pks if pk is not None])
        fold_sets = [orm.load_node(pk) for pk in self.ctx.fold_sets]
        for index, fold, key, label, parameters in self.ctx.waiting:
            source = self.ctx.descriptors.get(key)  # None if the computing fit failed: compute again
            pk = self._submit_fit(fold_sets[fold], orm.load_node(parameters), label, True, source)
            self.ctx.batch[index][1][fold] = pk
        self.ctx.waiting = []

    def _shares_descriptors(self, space) -> bool:
        """SNAP fits share FitSNAP's design matrix when only weights or the split (folds) differ."""
        if not potential_types.get(self.inputs.potential_type.value).shares_design_matrix:
            return False
        return len(self.ctx.fold_sets) > 1 or any(v.key.split('.')[0] in WEIGHT_KEYS for v in space)

    def _descriptor_key(self, parameters) -> str:
        """Which saved design matrix a fit may reuse: the structures (every fold set holds those of the
        input set, in its order) and every parameter but the weights."""
        return f'{self.inputs.training_set.pk}:{descriptor_signature(parameters.get_dict())}'

    def _remember_descriptors(self, pks):
        for pk in pks:
            node = orm.load_node(pk)
            if node.is_finished_ok and 'save_descriptors' in node.inputs and node.inputs.save_descriptors.value:
                self.ctx.setdefault('descriptors', {})[self._descriptor_key(node.inputs.parameters)] = (
                    node.outputs.remote_folder.pk
                )

    def _submit_fit(self, training_set, parameters, label, share: bool, source) -> int:
        inputs = AttributeDict({'training_set': training_set, 'code': self.inputs.code, 'parameters': parameters})
        if share and source is not None:
            inputs.descriptors_folder = orm.load_node(source)
        elif share:
            inputs.save_descriptors = orm.Bool(True)
        if 'options' in self.inputs:
            inputs.metadata = {'options': self.inputs.options.get_dict()}
        if 'delta_potential' in self.inputs:
            inputs.delta_potential = self.inputs.delta_potential
        inputs.setdefault('metadata', {})['call_link_label'] = label
        node = self.submit(potential_types.get(self.inputs.potential_type.value).calculation_class(), **inputs)
        self.to_context(trials=append_(node))
        return node.pk

    def inspect_trials(self):
        if self.ctx.done:
            return
        s = self.ctx.settings
        _, space = self._space()
        for point, pks in self.ctx.batch:
            nodes = [orm.load_node(pk) for pk in pks]
            failed = [n for n in nodes if not n.is_finished_ok]
            row = {
                'trial': len(self.ctx.evaluated),
                'pk': pks[0],
                'exit_status': failed[0].exit_status if failed else 0,
            }
            if len(nodes) > 1:
                row['fold_pks'] = ';'.join(str(pk) for pk in pks)
            row.update({v.key: v.from_unit(u) for v, u in zip(space, point, strict=True)})
            row['reused_descriptors'] = sum('descriptors_folder' in n.inputs for n in nodes)  # fits that re-solved
            self._remember_descriptors(pks)
            if not failed:
                metrics = [n.outputs.metrics.get_dict() for n in nodes]
                value = float(
                    np.mean([opt.objective_value(m, s['objective'], s['metric'], s['reference']) for m in metrics])
                )
                for quantity in ('energy', 'forces'):
                    scale = 1000.0 if quantity == 'energy' else 1.0
                    blocks = [m.get(quantity, {}).get('validation', {}).get('overall') or {} for m in metrics]
                    for metric in ('rmse', 'mae'):
                        row[f'{quantity}_{metric}'] = float(np.mean([b.get(metric, math.nan) for b in blocks])) * scale
            else:
                value = PENALTY
            row['objective'] = value
            self.ctx.evaluated.append([point, value])
            self.ctx.rows.append(row)
        if len(self.ctx.evaluated) >= int(s['budget']):
            self.ctx.done = True
        done = len(self.ctx.evaluated)
        scores = [value for _, value in self.ctx.evaluated if value < PENALTY]
        best = f', best {min(scores):.4g} ({s["metric"]} {s["objective"]})' if scores else ', no trial succeeded yet'
        publish(self.node, f'trial {done}/{int(s["budget"])}{best}', done, int(s['budget']))

    def finalize(self):
        rows = self.ctx.rows
        ok = [r for r in rows if r['objective'] < PENALTY]
        if not ok:
            return self.exit_codes.ERROR_ALL_TRIALS_FAILED
        best = min(ok, key=lambda r: r['objective'])
        node = orm.load_node(best['pk'])
        default = rows[0]['objective']
        self.report(
            f'{len(rows)} trials; objective {default:.6g} at the start, {best["objective"]:.6g} at best '
            f'(trial {best["trial"]}, {node.process_label}<{node.pk}>)'
        )
        self.out('parameters', node.inputs.parameters)  # the very Dict the best trial ran with
        summary = tabulate_trials(
            orm.Dict({'columns': _columns(rows, [v.key for v in self._space()[1]]), 'rows': [_clean(r) for r in rows]}),
            orm.Int(best['trial']),
        )
        self.out('trials', summary['trials'])
        self.out('objective_plot', summary['objective_plot'])
        for name in ('potential', 'metrics', 'report', 'plots', 'predictions'):
            self.out(name, node.outputs[name])


#: the trials table's columns around the searched keys (a fixed order: the rows come back from a
#: checkpoint with their keys sorted when a daemon worker reloads the work chain)
LEADING_COLUMNS = ('trial', 'pk', 'exit_status', 'fold_pks')
TRAILING_COLUMNS = ('reused_descriptors', 'energy_rmse', 'energy_mae', 'forces_rmse', 'forces_mae', 'objective')


def _columns(rows: list[dict], keys: list[str]) -> list[str]:
    present = set().union(*rows)
    order = [*LEADING_COLUMNS, *keys, *TRAILING_COLUMNS]
    return [c for c in order if c in present] + sorted(present - set(order))


def _clean(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


@calcfunction
def tabulate_trials(rows: orm.Dict, best_trial: orm.Int) -> dict:
    """The trials table (with the best row marked: ``best_trial`` is a row index, the trial number
    when there are no choices) and the objective-vs-trial plot."""
    from aiida_mlpgen.report.plots import optimization_plot

    table = rows.get_dict()
    trials = np.array([r['trial'] for r in table['rows']])
    values = np.array([r['objective'] if r['objective'] is not None else np.nan for r in table['rows']], float)
    choices = [r['choice'] for r in table['rows']] if 'choice' in table['columns'] else None
    buffer = io.BytesIO()
    optimization_plot(trials, values, buffer, best=best_trial.value, choices=choices)
    buffer.seek(0)
    return {
        'trials': orm.Dict({**table, 'best_trial': best_trial.value}),
        'objective_plot': orm.SinglefileData(buffer, filename='objective.png'),
    }
