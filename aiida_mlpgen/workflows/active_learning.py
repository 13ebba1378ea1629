"""``ActiveLearningWorkChain``: fit, explore where the potential will be used, label what it is
unsure of, merge, refit — until it is sure.

Each round: fit the current set (``MlpGeneratorWorkChain``; for a type whose uncertainty is a
committee, ``committee_size`` fits with different seeds, combined by ``make_committee``) →
molecular dynamics with that potential from the start structures at every temperature
(``explore_with_potential``; blow-ups end a run and its last sane frame counts as maximally
uncertain) → the frames above ``threshold``, at most ``per_round``, spread out
(``select_frames``) → label them (``LabelWorkChain``, any labeller) → merge them into the set.
It stops when the fraction of uncertain frames is at most ``target_fraction``, after
``max_rounds`` labelling rounds, or when ``label_budget`` labels are spent; the last fit is the
delivered potential. Every fit, MD run, selection and labelling is a node the final potential
reaches through the provenance graph.
"""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import ToContext, WorkChain, if_, while_

from aiida_mlpgen import potential_types
from aiida_mlpgen.calculations.functions.active_learning import (
    SELECTION,
    explore_with_potential,
    make_committee,
    select_frames,
    tabulate_rounds,
)
from aiida_mlpgen.calculations.functions.training_set import merge_training_sets
from aiida_mlpgen.calculations.progress import ShowsProgress, publish
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.engines.active import explore as exploration

from .generator import MlpGeneratorWorkChain
from .labelling import LabelWorkChain, check_labelling

#: start structures taken from the training set when none are given
DEFAULT_STARTS = 3


def default_starts(training_set: TrainingSetData, count: int = DEFAULT_STARTS) -> dict:
    """``count`` structures of the set, spread over it (first, ..., last), as StructureData."""
    images = training_set.to_ase()
    picks = np.unique(np.linspace(0, len(images) - 1, min(count, len(images))).round().astype(int))
    out = {}
    for index in picks:
        atoms = images[index]
        atoms.calc = None
        out[f'start_{index:03d}'] = orm.StructureData(ase=atoms)
    return out


class ActiveLearningWorkChain(ShowsProgress, WorkChain):
    """Fit → explore → select → label → merge, round after round, until the potential is sure."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('training_set', valid_type=TrainingSetData, help='The initial set (a few labelled structures).')
        spec.input('potential_type', valid_type=orm.Str, help='snap, ace, nnp (a registered potential type).')
        spec.input(
            'protocol', valid_type=orm.Str, required=False, help="The type's fit protocol (default: its default)."
        )
        spec.input('parameters', valid_type=orm.Dict, required=False, help='Overrides of the protocol parameters.')
        spec.input('code', valid_type=orm.AbstractCode, required=False, help='Fit code (default: the embedded one).')
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of the fits.')
        spec.input(
            'committee_size',
            valid_type=orm.Int,
            default=lambda: orm.Int(3),
            help='Fits per round for a type whose uncertainty is a committee (NNP), seeds 42, 43, ...',
        )
        spec.input_namespace(
            'starts',
            valid_type=orm.StructureData,
            dynamic=True,
            required=False,
            help=f'Where the exploration MD starts (default: {DEFAULT_STARTS} structures of the training set).',
        )
        spec.input(
            'exploration',
            valid_type=orm.Dict,
            default=lambda: orm.Dict({}),
            help='MD settings: temperatures (K), pressure_bar (NPT when given), steps, interval, timestep_fs, '
            f'friction, min_distance_factor, max_energy_jump; defaults {exploration.DEFAULTS}.',
        )
        spec.input(
            'threshold',
            valid_type=orm.Float,
            required=False,
            help="Frames above this uncertainty are labelled (default: the type's, e.g. grade 2, committee 0.15 eV/Å).",
        )
        spec.input(
            'per_round', valid_type=orm.Int, default=lambda: orm.Int(10), help='At most this many labels a round.'
        )
        spec.input('max_rounds', valid_type=orm.Int, default=lambda: orm.Int(3), help='At most this many label rounds.')
        spec.input(
            'target_fraction',
            valid_type=orm.Float,
            default=lambda: orm.Float(0.05),
            help='Stop when at most this fraction of explored frames is uncertain.',
        )
        spec.input('label_budget', valid_type=orm.Int, required=False, help='At most this many labels in all.')
        spec.input(
            'strategy',
            valid_type=orm.Str,
            default=lambda: orm.Str('uncertainty'),
            help='"uncertainty": label the most uncertain frames, spread out; "random": frames drawn at random '
            '(the baseline to measure the loop against; it stops only at max_rounds or label_budget).',
        )
        spec.input('seed', valid_type=orm.Int, default=lambda: orm.Int(0), help='Seed of the exploration MD.')
        spec.expose_inputs(
            LabelWorkChain, namespace='labelling', exclude=('structures', 'groups', 'aimd_structures', 'aimd')
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.should_continue)(
                cls.fit,
                cls.inspect_fit,
                cls.explore,
                cls.select,
                if_(cls.should_label)(cls.label, cls.merge),
            ),
            cls.results,
        )
        spec.output('potential', valid_type=PotentialData, help='The potential of the last round.')
        spec.output('training_set', valid_type=TrainingSetData, help='The final training set.')
        spec.output('rounds', valid_type=orm.Dict, help='Per round: set size, validation errors, uncertainty, MD.')
        spec.output('rounds_plot', valid_type=orm.SinglefileData, help='The per-round table as a PNG.')
        spec.exit_code(401, 'ERROR_FIT_FAILED', message='The fit of round {round} failed: {detail}.')
        spec.exit_code(402, 'ERROR_EXPLORATION_FAILED', message='The exploration of round {round} failed: {detail}.')
        spec.exit_code(403, 'ERROR_LABELLING_FAILED', message='The labelling of round {round} failed: {detail}.')
        spec.exit_code(404, 'ERROR_MERGE_FAILED', message='Merging the labels of round {round} failed: {detail}.')

    @classmethod
    def validate_inputs(cls, inputs, _):
        kind = inputs['potential_type'].value
        training_set = inputs['training_set']
        parameters = inputs['parameters'].get_dict() if 'parameters' in inputs else {}
        problem = potential_types.parameter_problem(kind, parameters, training_set.elements)
        if problem:
            return problem
        try:
            exploration.settings(inputs['exploration'].get_dict() if 'exploration' in inputs else {})
        except exploration.ExplorationError as error:
            return f'exploration: {error}'
        if 'strategy' in inputs and inputs['strategy'].value not in ('uncertainty', 'random'):
            return f'strategy must be "uncertainty" or "random", got {inputs["strategy"].value!r}'
        if 'threshold' in inputs and not inputs['threshold'].value >= 0:
            return f'threshold must be >= 0, got {inputs["threshold"].value}'
        for key in ('per_round', 'max_rounds', 'label_budget'):
            if key in inputs and inputs[key].value < 1:
                return f'{key} must be at least 1, got {inputs[key].value}'
        if 'target_fraction' in inputs and not 0 <= inputs['target_fraction'].value < 1:
            return f'target_fraction must be in [0, 1), got {inputs["target_fraction"].value}'
        if potential_types.get(kind).uncertainty == 'committee' and inputs['committee_size'].value < 2:
            return f'a committee needs at least 2 members, got committee_size {inputs["committee_size"].value}'
        starts = dict(inputs.get('starts') or {}) or None
        elements = set(training_set.elements)
        if starts:
            missing = {k.symbol for s in starts.values() for k in s.kinds} - elements
            if missing:
                return f'start structures hold {sorted(missing)}, which the training set lacks'
        labelling = inputs.get('labelling', {})
        if 'labeller' in labelling:
            probe = starts or {'start': orm.StructureData(ase=training_set.to_ase()[0])}
            problem = check_labelling(labelling, probe, None, None, names=set())
            if problem:
                return f'labelling: {problem}'
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        training_set,
        potential_type: str,
        labeller: str,
        labeller_code,
        labeller_settings: dict | None = None,
        protocol: str | None = None,
        overrides: dict | None = None,
        exploration_settings: dict | None = None,
        **inputs,
    ):
        """A builder: the type's fit protocol with ``overrides``, the labeller's moderate
        protocol with ``labeller_settings``; further inputs (``per_round``, ``max_rounds``, ...)
        as plain values."""
        from aiida_mlpgen.labellers import load_labeller

        builder = cls.get_builder()
        builder.training_set = training_set
        builder.potential_type = orm.Str(potential_type)
        if protocol:
            builder.protocol = orm.Str(protocol)
        if overrides:
            builder.parameters = orm.Dict(overrides)
        if exploration_settings:
            builder.exploration = orm.Dict(exploration_settings)
        builder.labelling.labeller = orm.Str(labeller)
        builder.labelling.code = labeller_code
        builder.labelling.settings = orm.Dict(load_labeller(labeller).settings(labeller_settings))
        types = {'threshold': orm.Float, 'target_fraction': orm.Float, 'strategy': orm.Str}
        for key, value in inputs.items():
            if key == 'starts':
                builder.starts = value
            else:
                builder[key] = types.get(key, orm.Int)(value)
        return builder

    # --- the loop -----------------------------------------------------------------------------
    def setup(self):
        kind = potential_types.get(self.inputs.potential_type.value)
        self.ctx.kind = kind
        self.ctx.training_set = self.inputs.training_set
        self.ctx.round = 0
        self.ctx.labelled = 0
        self.ctx.done = False
        self.ctx.rows = []
        self.ctx.threshold = self.inputs.threshold.value if 'threshold' in self.inputs else kind.uncertainty_threshold
        self.ctx.starts = dict(self.inputs.get('starts') or {}) or default_starts(self.inputs.training_set)

    def should_continue(self) -> bool:
        return not self.ctx.done

    def _fit_builder(self, seed_offset: int):
        kind = self.ctx.kind
        overrides = {**(self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {})}
        overrides.update(kind.uncertainty_parameters)
        if kind.uncertainty == 'committee':
            overrides['seed'] = overrides.get('seed', 42) + seed_offset
        builder = MlpGeneratorWorkChain.get_builder_from_protocol(
            self.ctx.training_set,
            kind.name,
            protocol=self.inputs.protocol.value if 'protocol' in self.inputs else None,
            code=self.inputs.get('code'),
            overrides=overrides,
            options=self.inputs.options.get_dict() if 'options' in self.inputs else None,
        )
        builder.metadata.call_link_label = f'fit_round{self.ctx.round}' + (
            f'_member{seed_offset}' if kind.uncertainty == 'committee' else ''
        )
        return builder

    def _stage(self, what: str) -> None:
        rounds = self.inputs.max_rounds.value
        publish(self.node, f'round {self.ctx.round}/{rounds}: {what}', self.ctx.round, rounds + 1)

    def fit(self):
        self._stage('fitting')
        count = self.inputs.committee_size.value if self.ctx.kind.uncertainty == 'committee' else 1
        self.ctx.fit_keys = [f'fit_{k}' for k in range(count)]
        return ToContext(**{key: self.submit(self._fit_builder(k)) for k, key in enumerate(self.ctx.fit_keys)})

    def inspect_fit(self):
        fits = [self.ctx[key] for key in self.ctx.fit_keys]
        for fit in fits:
            if not fit.is_finished_ok:
                return self.exit_codes.ERROR_FIT_FAILED.format(
                    round=self.ctx.round, detail=f'{fit.process_label}<{fit.pk}> [{fit.exit_status}] {fit.exit_message}'
                )
        if self.ctx.kind.uncertainty == 'committee':
            members = {f'member_{k}': fit.outputs.potential for k, fit in enumerate(fits)}
            self.ctx.potential = make_committee(**members)
        else:
            self.ctx.potential = fits[0].outputs.potential
        metrics = [fit.outputs.metrics.get_dict() for fit in fits if 'metrics' in fit.outputs]
        self.ctx.row = {
            'round': self.ctx.round,
            'structures': self.ctx.training_set.n_structures,
            'potential': self.ctx.potential.pk,
            **_validation_errors(metrics),
        }
        return None

    def explore(self):
        self._stage('exploring (MD)')
        try:
            results = explore_with_potential(
                self.ctx.potential,
                self.ctx.training_set,
                self.inputs.exploration,
                orm.Int(self.inputs.seed.value + 100 * self.ctx.round),
                **self.ctx.starts,
                metadata={'call_link_label': f'explore_round{self.ctx.round}'},
            )
        except Exception as error:  # noqa: BLE001 - reported as the exploration's exit code
            return self.exit_codes.ERROR_EXPLORATION_FAILED.format(round=self.ctx.round, detail=str(error))
        self.ctx.runs = {label: node for label, node in results.items() if label.startswith('run_')}
        self.ctx.row['blown_up_runs'] = len(results['summary']['blown_up'])
        for problem in results['summary']['blown_up']:
            self.report(f'round {self.ctx.round}: MD blew up: {problem}')
        return None

    def select(self):
        potential = self.ctx.potential
        per_round = self.inputs.per_round.value
        if 'label_budget' in self.inputs:
            per_round = max(0, min(per_round, self.inputs.label_budget.value - self.ctx.labelled))
        if self.ctx.round >= self.inputs.max_rounds.value:
            per_round = 0  # the last round measures its potential; nothing chosen is left unlabelled
        uncertainty = self.inputs.strategy.value == 'uncertainty'
        settings = orm.Dict(
            {
                'threshold': self.ctx.threshold,
                'max_count': per_round,
                'elements': list(potential.elements),
                'cutoff': float(potential.cutoff),
                'strategy': self.inputs.strategy.value,
                'seed': self.inputs.seed.value + 100 * self.ctx.round,
                'stop_fraction': self.inputs.target_fraction.value if uncertainty else None,
            }
        )
        chosen = select_frames(settings, **self.ctx.runs, metadata={'call_link_label': f'select_round{self.ctx.round}'})
        table = chosen[SELECTION].get_dict()
        self.ctx.chosen = {name: node for name, node in chosen.items() if name != SELECTION}
        row = self.ctx.row
        row.update(
            frames=table['frames'],
            uncertain_fraction=table['uncertain_fraction'],
            max_uncertainty=table['max_uncertainty'],
            median_uncertainty=table['median_uncertainty'],
            selected=len(self.ctx.chosen),
        )
        self.report(
            f'round {self.ctx.round}: {row["structures"]} structures; {table["frames"]} frames explored, '
            f'{table["uncertain_fraction"]:.0%} above {self.ctx.threshold:g}; {len(self.ctx.chosen)} chosen'
        )
        budget_left = 'label_budget' not in self.inputs or self.ctx.labelled < self.inputs.label_budget.value
        sure = table['uncertain_fraction'] <= self.inputs.target_fraction.value
        self.ctx.done = (
            (sure and self.inputs.strategy.value == 'uncertainty')  # the random baseline spends its labels
            or self.ctx.round >= self.inputs.max_rounds.value
            or not budget_left
            or not self.ctx.chosen
        )
        self.ctx.rows.append(row)

    def should_label(self) -> bool:
        return not self.ctx.done

    def label(self):
        self._stage(f'labelling {len(self.ctx.chosen)} structures')
        inputs = self.exposed_inputs(LabelWorkChain, namespace='labelling')
        inputs['structures'] = self.ctx.chosen
        inputs['groups'] = orm.Dict({name: f'active_round{self.ctx.round}' for name in self.ctx.chosen})
        inputs['metadata'] = {'call_link_label': f'label_round{self.ctx.round}'}
        return ToContext(labelling=self.submit(LabelWorkChain, **inputs))

    def merge(self):
        child = self.ctx.labelling
        if not child.is_finished_ok:
            return self.exit_codes.ERROR_LABELLING_FAILED.format(
                round=self.ctx.round, detail=f'LabelWorkChain<{child.pk}> [{child.exit_status}] {child.exit_message}'
            )
        labelled = child.outputs.training_set
        self.ctx.rows[-1]['labelled'] = labelled.n_structures
        self.ctx.labelled += labelled.n_structures
        try:
            self.ctx.training_set = merge_training_sets(
                existing=self.ctx.training_set,
                new=labelled,
                metadata={'call_link_label': f'merge_round{self.ctx.round}'},
            )
        except Exception as error:  # noqa: BLE001 - e.g. a labelled frame the set holds already
            return self.exit_codes.ERROR_MERGE_FAILED.format(round=self.ctx.round, detail=str(error))
        self.ctx.round += 1
        return None

    def results(self):
        self.out('potential', self.ctx.potential)
        self.out('training_set', self.ctx.training_set)
        table = {
            'threshold': self.ctx.threshold,
            'target_fraction': self.inputs.target_fraction.value,
            'uncertainty': self.ctx.potential.UNCERTAINTY,
            'labelled': self.ctx.labelled,
            'rounds': self.ctx.rows,
        }
        made = tabulate_rounds(orm.Dict(table), metadata={'call_link_label': 'tabulate_rounds'})
        self.out('rounds', made['rounds'])
        self.out('rounds_plot', made['rounds_plot'])
        self.report(f'final potential {type(self.ctx.potential).__name__}<{self.ctx.potential.pk}>')


def _validation_errors(metrics: list[dict]) -> dict:
    """Mean validation (else training) RMSE of energy (meV/atom) and forces (eV/Å) over the fits."""
    out = {}
    for quantity, key, scale in (('energy', 'energy_rmse', 1000.0), ('forces', 'force_rmse', 1.0)):
        values = []
        for m in metrics:
            split = m.get(quantity, {}).get('validation') or m.get(quantity, {}).get('train')
            if split:
                values.append(split['overall']['rmse'] * scale)
        out[key] = sum(values) / len(values) if values else None
    return out
