"""``MlpGeneratorWorkChain``: SPEC.md's generator stage — one entry point for ACE, SNAP and NNP.

split (unless the set carries one) → optimise hyperparameters (optional) or fit → after an
optimisation, refit with the chosen parameters on training + validation structures (``refit``,
default on) → outputs (potential, metrics, report, plots, predictions; with optimisation also
the trials table, the objective plot, the chosen parameters and the search's metrics) → validation
of the potential's material properties against DFT (optional; its table is appended to the report).
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction, if_

from aiida_mlpgen import potential_types
from aiida_mlpgen.calculations.delta import DeltaSubtractionCalculation
from aiida_mlpgen.calculations.functions.delta import overlay_potential
from aiida_mlpgen.calculations.functions.training_set import split_training_set, train_on_all
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData

from .optimization import OptimizationWorkChain, check_request
from .validation import ValidationWorkChain

FIT_OUTPUTS = ('potential', 'metrics', 'report', 'plots', 'predictions')


@calcfunction
def refit_report(refit_report, search_metrics, trials):
    """The refit's report followed by the search's validation errors (best trial, fitted on
    the training part only): the refit itself has no held-out structures left."""
    import io

    from aiida_mlpgen.report.text import deviation_tables

    table = trials.get_dict()
    best = table['rows'][table['best_trial']]
    metrics = search_metrics.get_dict()
    held_out = {q: {'validation': metrics[q]['validation']} for q in metrics if 'validation' in metrics[q]}
    folds = len(str(best.get('fold_pks', '')).split(';')) if best.get('fold_pks') else 1
    scope = f'mean over its {folds} cross-validation folds' if folds > 1 else 'on the validation structures'
    choice = f' of {best["choice"]}' if best.get('choice') else ''
    lines = [
        '',
        f'Hyperparameter search: best trial {best["trial"]}{choice}, validation errors ({scope}): '
        f'energy RMSE {best.get("energy_rmse") or float("nan"):.4g} meV/atom, '
        f'force RMSE {best.get("forces_rmse") or float("nan"):.4g} eV/Å.',
        'That trial was fitted without its validation structures; the potential above is refitted on all',
        'structures with the same parameters and training length.',
        'Validation errors of the trial' + (' (its first fold)' if folds > 1 else '') + ':',
        '',
    ]
    text = refit_report.get_content() + '\n'.join(lines + deviation_tables(held_out)) + '\n'
    return orm.SinglefileData(io.BytesIO(text.encode()), filename='report.txt')


@calcfunction
def refit_parameters(parameters, potential, learning_curve=None):
    """The chosen parameters with the training length the best trial's validation chose, as
    the refit has no validation structures left to choose it (the type's ``refit_parameters``:
    the NNP's optimum epoch, the ACE fit's iteration count; SNAP is a linear solve)."""
    kind = potential.base.attributes.get(potential.KEY_POTENTIAL_TYPE)
    last = None
    if learning_curve is not None and 'training_iteration' in learning_curve.get_arraynames():
        last = int(learning_curve.get_array('training_iteration')[-1])
    chosen = potential_types.get(kind).refit_parameters(parameters.get_dict(), potential.base.attributes.all, last)
    return orm.Dict(chosen)


@calcfunction
def append_validation(fit_report, validation_report):
    """The fit's report followed by the validation table."""
    import io

    text = fit_report.get_content() + '\n\n' + validation_report.get_content()
    return orm.SinglefileData(io.BytesIO(text.encode()), filename='report.txt')


DELTA_CODE_LABEL = 'properties'


def _delta_code(fit_code):
    """The ``properties`` code (mlpgen-properties) on the computer of ``fit_code``, or None."""
    if fit_code is None or getattr(fit_code, 'computer', None) is None:
        return None
    query = orm.QueryBuilder().append(orm.Computer, filters={'id': fit_code.computer.pk}, tag='computer')
    query.append(orm.InstalledCode, with_computer='computer', filters={'label': DELTA_CODE_LABEL})
    return query.first(flat=True)


class MlpGeneratorWorkChain(WorkChain):
    """Fit a machine-learned potential of any type to a training set, optionally optimised."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('training_set', valid_type=TrainingSetData, help='DFT training data.')
        spec.input(
            'potential_type',
            valid_type=orm.Str,
            help='A registered potential type (aiida_mlpgen.potential_types): snap, ace, nnp.',
        )
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            required=False,
            help='Parameters of the type (see its CalcJob); defaults when omitted.',
        )
        spec.input(
            'validation_fraction',
            valid_type=orm.Float,
            default=lambda: orm.Float(0.1),
            help='Held out per group when the set has no split of its own.',
        )
        spec.input('seed', valid_type=orm.Int, default=lambda: orm.Int(42), help='Seed of the split.')
        spec.input('code', valid_type=orm.AbstractCode, help='The fitting code of the type.')
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of the fit(s).')
        spec.input(
            'optimize',
            valid_type=orm.Dict,
            required=False,
            help='Hyperparameter optimisation (OptimizationWorkChain.optimize); a plain fit when omitted.',
        )
        spec.input(
            'refit',
            valid_type=orm.Bool,
            default=lambda: orm.Bool(True),
            help='After an optimisation, fit the chosen parameters once more on training + validation '
            "structures and deliver that potential (the report keeps the search's validation "
            'errors); false delivers the best trial, fitted on the training part only.',
        )
        spec.input(
            'delta_mode',
            valid_type=orm.Str,
            required=False,
            help='Δ-learning: "fit" (the set holds DFT minus a baseline; fit it as it is) or "include" '
            '(delta_potential is evaluated on every structure, the fit learns the rest, and the '
            'output potential is the overlay).',
        )
        spec.input(
            'delta_potential', valid_type=PotentialData, required=False, help='The Δ-potential of delta_mode "include".'
        )
        spec.input(
            'delta_code',
            valid_type=orm.AbstractCode,
            required=False,
            help='mlpgen-properties, which evaluates delta_potential on every structure (a '
            'DeltaSubtractionCalculation) for types that learn the data minus Δ; default: the code '
            f'labelled "{DELTA_CODE_LABEL}" on the computer of the fit code.',
        )
        spec.expose_inputs(
            ValidationWorkChain,
            namespace='validation',
            exclude=('potential',),
            namespace_options={
                'required': False,
                'populate_defaults': False,
                'help': 'Validate the fitted potential (ValidationWorkChain inputs '
                'without the potential); omitted: no validation.',
            },
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.split,
            if_(cls.should_subtract_delta)(cls.run_delta_subtraction, cls.inspect_delta_subtraction),
            if_(cls.should_optimize)(
                cls.run_optimization,
                cls.inspect_optimization,
                if_(cls.should_refit)(cls.run_refit),
            ).else_(cls.run_fit),
            cls.results,
            if_(cls.should_validate)(cls.run_validation, cls.inspect_validation),
        )
        spec.expose_outputs(
            ValidationWorkChain,
            namespace='validation',
            namespace_options={'required': False, 'help': 'The validation, when asked for.'},
        )
        for name in FIT_OUTPUTS:
            spec.output(name, help=f"The fit's {name}.")
        spec.output('trials', valid_type=orm.Dict, required=False, help='Optimisation: every trial.')
        spec.output(
            'objective_plot', valid_type=orm.SinglefileData, required=False, help='Optimisation: objective vs trial.'
        )
        spec.output('parameters', valid_type=orm.Dict, required=False, help='Optimisation: the chosen parameters.')
        spec.output(
            'search_metrics',
            valid_type=orm.Dict,
            required=False,
            help='Optimisation: metrics of the best trial (its validation errors) when the delivered '
            'potential is the refit on all structures.',
        )
        spec.exit_code(402, 'ERROR_FIT_FAILED', message='The fit failed: {detail}.')
        spec.exit_code(403, 'ERROR_VALIDATION_FAILED', message='The validation failed: {detail}.')
        spec.exit_code(404, 'ERROR_DELTA_FAILED', message='Subtracting the Δ-potential failed: {detail}.')

    @classmethod
    def validate_inputs(cls, inputs, _):
        kind = inputs['potential_type'].value
        if kind not in potential_types.names():
            return f'potential_type must be one of {sorted(potential_types.names())}, got {kind!r}'
        mode = inputs['delta_mode'].value if 'delta_mode' in inputs else None
        if mode not in (None, 'fit', 'include'):
            return f'delta_mode must be "fit" or "include", got {mode!r}'
        if mode == 'include' and 'delta_potential' not in inputs:
            return 'delta_mode "include" needs a delta_potential'
        if 'delta_potential' in inputs and mode != 'include':
            return 'a delta_potential is used with delta_mode "include" only'
        if (
            mode == 'include'
            and not potential_types.get(kind).delta_in_fit
            and 'delta_code' not in inputs
            and 'code' in inputs
            and _delta_code(inputs['code']) is None
        ):
            return (
                f'delta_mode "include" with {kind} evaluates the Δ-potential in a job: give delta_code '
                f'(mlpgen-properties), or set up a "{DELTA_CODE_LABEL}" code on the fit code\'s computer'
            )
        parameters = inputs['parameters'].get_dict() if 'parameters' in inputs else {}
        problem = potential_types.parameter_problem(kind, parameters, inputs['training_set'].elements)
        if problem:
            return problem
        if 'optimize' in inputs:
            optimize = inputs['optimize'].get_dict()
            fraction = inputs['validation_fraction'].value if 'validation_fraction' in inputs else 0.1
            error = check_request(inputs['training_set'], kind, parameters, optimize, split_required=fraction == 0)
            if error:
                return f'optimize: {error}'
            training_set = inputs['training_set']
            drawn = sum(int(round(fraction * n)) for n in training_set.group_counts.values())
            if not optimize.get('folds') and not training_set.split_counts.get('validation') and fraction and not drawn:
                return (
                    f'optimize: validation_fraction {fraction} draws no validation structure from groups of '
                    f'{sorted(training_set.group_counts.values())} structures: raise it or use folds'
                )
            if optimize.get('folds') and 'refit' in inputs and not inputs['refit'].value:
                return (
                    'optimize: with folds every trial is k fits on parts of the data; the delivered potential '
                    'is the refit on all structures, so refit must stay on'
                )
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        training_set,
        potential_type: str,
        protocol: str | None = None,
        code=None,
        overrides: dict | None = None,
        optimize: dict | None = None,
        options: dict | None = None,
    ):
        """A builder with the protocol's parameters and ``metadata.options`` (the type's protocol
        file; ``protocol`` None: its default), the embedded code of the type unless ``code`` is
        given, ``overrides`` merged on the parameters, ``options`` on the options, and ``optimize``
        settings when asked."""
        from aiida_mlpgen.calculations.parameters.checks import merge

        kind = potential_types.get(potential_type)
        builder = cls.get_builder()
        builder.training_set = training_set
        builder.potential_type = orm.Str(potential_type)
        builder.parameters = orm.Dict(potential_types.protocol_parameters(potential_type, protocol, overrides))
        builder.options = orm.Dict(merge(potential_types.protocol_options(potential_type, protocol), options or {}))
        builder.code = code if code is not None else orm.load_code(kind.code_label)
        if optimize:
            builder.optimize = orm.Dict(optimize)
        return builder

    def split(self):
        training_set = self.inputs.training_set
        if training_set.split_counts.get('validation') or self.inputs.validation_fraction.value == 0:
            self.ctx.training_set = training_set
        else:
            self.ctx.training_set = split_training_set(training_set, self.inputs.validation_fraction, self.inputs.seed)

    def should_subtract_delta(self) -> bool:
        """A type whose fit code takes Δ itself (SNAP: FitSNAP's reference potential) gets it as an
        input; the others learn the data minus Δ, evaluated in a job."""
        return 'delta_potential' in self.inputs and not self._type().delta_in_fit

    def run_delta_subtraction(self):
        code = self.inputs.delta_code if 'delta_code' in self.inputs else _delta_code(self.inputs.code)
        inputs = {
            'training_set': self.ctx.training_set,
            'delta_potential': self.inputs.delta_potential,
            'code': code,
            'metadata': {'call_link_label': 'delta_subtraction'},
        }
        options = self.inputs.options.get_dict() if 'options' in self.inputs else {}
        if options.get('max_wallclock_seconds'):
            inputs['metadata']['options'] = {'max_wallclock_seconds': options['max_wallclock_seconds']}
        node = self.submit(DeltaSubtractionCalculation, **inputs)
        self.report(f'{DeltaSubtractionCalculation.__name__}<{node.pk}>: the data minus the Δ-potential')
        return ToContext(delta=node)

    def inspect_delta_subtraction(self):
        node = self.ctx.delta
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_DELTA_FAILED.format(
                detail=f'{node.process_label}<{node.pk}> [{node.exit_status}] {node.exit_message}'
            )
        self.ctx.training_set = node.outputs.training_set
        return None

    def _type(self):
        return potential_types.get(self.inputs.potential_type.value)

    def should_optimize(self):
        return 'optimize' in self.inputs

    def _common(self) -> dict:
        inputs = {'training_set': self.ctx.training_set, 'code': self.inputs.code}
        if 'parameters' in self.inputs:
            inputs['parameters'] = self.inputs.parameters
        if 'delta_potential' in self.inputs and not self.should_subtract_delta():
            inputs['delta_potential'] = self.inputs.delta_potential
        return inputs

    def run_optimization(self):
        inputs = self._common()
        inputs['potential_type'] = self.inputs.potential_type
        inputs['optimize'] = self.inputs.optimize
        if 'options' in self.inputs:
            inputs['options'] = self.inputs.options
        return ToContext(fit=self.submit(OptimizationWorkChain, **inputs))

    def inspect_optimization(self):
        node = self.ctx.fit
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_FIT_FAILED.format(
                detail=f'{node.process_label}<{node.pk}> [{node.exit_status}] {node.exit_message}'
            )
        self.ctx.search = node
        for name in ('trials', 'objective_plot', 'parameters'):  # kept even if the refit fails
            self.out(name, node.outputs[name])
        return None

    def should_refit(self):
        return self.inputs.refit.value

    def run_refit(self):
        inputs = self._common()
        inputs['training_set'] = train_on_all(self.ctx.training_set)
        trials = self.ctx.search.outputs.trials.get_dict()
        best = orm.load_node(trials['rows'][trials['best_trial']]['pk'])
        curve = {'learning_curve': best.outputs.learning_curve} if 'learning_curve' in best.outputs else {}
        inputs['parameters'] = refit_parameters(self.ctx.search.outputs.parameters, best.outputs.potential, **curve)
        self.report(f'refitting the chosen parameters on all {self.ctx.training_set.n_structures} structures')
        return self._submit_fit(inputs)

    def run_fit(self):
        return self._submit_fit(self._common())

    def _submit_fit(self, inputs: dict):
        """One fit of the type, in its restart work chain, with the generator's options."""
        if 'options' in self.inputs:
            inputs['metadata'] = {'options': self.inputs.options.get_dict()}
        wrapper = self._type().restart_class()
        return ToContext(fit=self.submit(wrapper, fit=inputs))

    def results(self):
        node = self.ctx.fit
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_FIT_FAILED.format(
                detail=f'{node.process_label}<{node.pk}> [{node.exit_status}] {node.exit_message}'
            )
        overlay = self.should_subtract_delta()
        search = self.ctx.get('search')
        self.ctx.report = node.outputs['report']
        if search is not None:
            if search.pk != node.pk:  # refitted on all structures
                self.out('search_metrics', search.outputs['metrics'])
                self.ctx.report = refit_report(
                    node.outputs['report'], search.outputs['metrics'], search.outputs['trials']
                )
        for name in FIT_OUTPUTS:
            if name == 'report':
                if not self.should_validate():  # else given with the validation table appended
                    self.out(name, self.ctx.report)
            elif name in node.outputs and not (overlay and name == 'potential'):
                self.out(name, node.outputs[name])
        if overlay:  # metrics and predictions stay those of the residual (DFT - Δ); the errors are the same
            self.out('potential', overlay_potential(node.outputs.potential, self.inputs.delta_potential))

    def should_validate(self):
        return bool(self.inputs.get('validation'))

    def run_validation(self):
        inputs = self.exposed_inputs(ValidationWorkChain, namespace='validation')
        inputs['potential'] = self.outputs['potential']
        return ToContext(validation=self.submit(ValidationWorkChain, **inputs))

    def inspect_validation(self):
        node = self.ctx.validation
        fit_report = self.ctx.report
        if 'report' not in node.outputs:
            self.out('report', fit_report)
            return self.exit_codes.ERROR_VALIDATION_FAILED.format(
                detail=f'{node.process_label}<{node.pk}> [{node.exit_status}] {node.exit_message}'
            )
        self.out_many(self.exposed_outputs(node, ValidationWorkChain, namespace='validation'))
        self.out('report', append_validation(fit_report, node.outputs['report']))
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_VALIDATION_FAILED.format(detail=f'[{node.exit_status}] {node.exit_message}')
        return None
