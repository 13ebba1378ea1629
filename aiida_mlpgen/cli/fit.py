"""``mlpgen fit TYPE`` (one command per registered potential type) and ``mlpgen report``."""

import os
from pathlib import Path

import click

from .params import parse_choices, parse_params
from .progress_bar import ProgressLine
from .root import cmd_root
from .submit import submit_option, submit_process
from .utils import load_code, load_training_set, load_typed, output_directory


@cmd_root.group('fit')
def cmd_fit():
    """Fit a potential to a training set on the embedded profile."""


#: ``--optimize`` given without keys.
DEFAULT_KEYS = 'default'


def optimization_options(command):
    """--protocol, --optimize, --budget, --in-flight, --validate: run the generator WorkChain."""
    command = click.option(
        '--reference', default=None, help='With --validate: DFT values (JSON text or file) under the validation keys.'
    )(command)
    command = click.option(
        '--validate-properties',
        default='eos,elastic',
        show_default=True,
        help='With --validate: properties (see mlpgen validate).',
    )(command)
    command = click.option(
        '--validate',
        'validate',
        default=None,
        metavar='STRUCTURE',
        help='Validate the potential on this bulk structure (file or StructureData); the table '
        'joins the report. SNAP runs in LAMMPS, ACE and NNP with the ASE engine.',
    )(command)
    command = click.option(
        '--folds',
        type=int,
        default=None,
        help='With --optimize: k-fold cross-validation (k fits per trial, folds stratified by '
        'group) instead of the single validation split: a steadier objective for about twice '
        'the time (on mlearn Li and Si, 5 folds turned SNAP searches that lost to the published '
        'potentials into wins; benchmarks/README.md).',
    )(command)
    command = click.option(
        '--refit/--no-refit',
        default=True,
        show_default=True,
        help='With --optimize: refit the chosen parameters on all structures (training + '
        'validation) and deliver that potential; --no-refit delivers the best trial.',
    )(command)
    command = click.option(
        '--choice',
        'choices',
        multiple=True,
        metavar='KEY=V1,V2',
        help='With --optimize: a discrete outer choice, one search per value (or combination '
        'of values, when repeated) run side by side, e.g. --choice twojmax=6,8; the best '
        'search wins.',
    )(command)
    command = click.option(
        '--in-flight', type=int, default=4, show_default=True, help='With --optimize: trials running at the same time.'
    )(command)
    command = click.option(
        '--budget',
        type=int,
        default=30,
        show_default=True,
        help='With --optimize: number of trials at most (with --folds, each is k fits).',
    )(command)
    command = click.option(
        '--optimize',
        default=None,
        metavar='[KEYS]',
        is_flag=False,
        flag_value=DEFAULT_KEYS,
        help='Optimise hyperparameters with nlopt BOBYQA: these comma-separated parameter keys '
        "(radelem and wj mean every element's, e.g. rcutfac,radelem,wj or fit.forces), or "
        'without KEYS the defaults of the type (SNAP: rcutfac, wj, fit.forces and, with '
        "several elements, each element's radelem; ACE: cutoff, number_of_functions; "
        'NNP: cutoff, nodes_per_layer).',
    )(command)
    command = click.option(
        '--protocol',
        default=None,
        metavar='NAME',
        help='Start from a protocol of the type (fast, moderate, precise: its protocol file in '
        'aiida_mlpgen/potential_types/protocols; -p parameters override it).',
    )(command)
    return command


def _run_fit(
    process_class,
    label,
    node,
    params,
    code,
    output,
    extra=None,
    kind=None,
    protocol=None,
    optimize=None,
    budget=30,
    in_flight=4,
    validate=None,
    validate_properties='eos,elastic',
    reference=None,
    refit=True,
    folds=None,
    choices=(),
    submit=False,
):
    """Run a fit (or, with a protocol or --optimize, the generator WorkChain) on the embedded
    profile with a progress line; print and write its report. With ``submit`` the daemon runs
    it and the command returns at once."""
    from aiida import orm

    from .interrupt import run_interruptible as run_get_node

    parameters = parse_params(params)
    if not optimize and (folds is not None or not refit or choices):
        raise click.UsageError('--folds, --choice and --no-refit go with --optimize')
    if output:  # a bad output path is found before anything runs or is stored
        directory, created = output_directory(output)
    if protocol or optimize or validate:
        from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

        settings = {'budget': budget, 'max_in_flight': in_flight} if optimize else None
        if optimize and optimize != DEFAULT_KEYS:
            settings['keys'] = optimize
        if settings and folds is not None:
            settings['folds'] = folds
        if settings and choices:
            settings['choices'] = parse_choices(choices)
        try:
            builder = MlpGeneratorWorkChain.get_builder_from_protocol(
                node, kind, protocol, code=load_code(code), overrides=parameters, optimize=settings
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        if not protocol:
            builder.parameters = orm.Dict(parameters)
        builder.refit = orm.Bool(refit)
    else:
        builder = process_class.get_builder()
        builder.training_set = node
        builder.parameters = orm.Dict(parameters)
        builder.code = load_code(code)
    for key, value in (extra or {}).items():
        builder[key] = value
    if validate:
        _add_validation(builder, kind, validate, validate_properties, reference)
    what = 'optimisation' if optimize else 'fit'
    if protocol:
        from aiida_mlpgen.potential_types import protocol_description

        click.echo(f'Protocol {protocol}: {protocol_description(kind, protocol)}')
    click.echo(f'{label} {what} of TrainingSetData<{node.pk}> ({node.n_structures} structures) with {code} ...')
    try:
        if submit:
            return submit_process(builder, then='mlpgen report {pk} DIR')
        with ProgressLine(f'{label} {what}'):
            _, calc = run_get_node(builder)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if not calc.is_finished_ok:
        if output and created and not any(directory.iterdir()):
            directory.rmdir()
        raise click.ClickException(f'{calc.process_label}<{calc.pk}> failed: [{calc.exit_status}] {calc.exit_message}')
    write_report(calc, Path(output or f'mlpgen_fit_{calc.pk}'))
    return calc


def _add_validation(builder, kind, structure, properties, reference):
    from aiida import orm

    from aiida_mlpgen import potential_types

    from .validate import DEFAULT_CODES, _json_option, _structure

    engine = potential_types.get(kind).validation_engine
    builder.validation.structure = _structure(structure)
    builder.validation.properties = orm.List([p.strip() for p in properties.split(',') if p.strip()])
    builder.validation.engine = orm.Str(engine)
    builder.validation.code = orm.load_code(DEFAULT_CODES[engine])
    if reference:
        builder.validation.reference = orm.Dict(_json_option(reference, '--reference'))


def _extra_input(potential_type, name, identifier):
    """The node the user named for the extra input ``name``, of the class the CalcJob accepts."""
    from aiida import orm

    valid = potential_type.calculation_class().spec().inputs[name].valid_type or orm.Data
    cls = valid[0] if isinstance(valid, tuple) else valid
    return load_typed(identifier, cls, cls.__name__)


def _fit_command(potential_type):
    """``mlpgen fit NAME`` for one registered potential type."""

    def command(training_set, params, code, output, protocol, optimize, budget, in_flight, **rest):
        from aiida_mlpgen.embedded import ensure_ready

        extra_inputs = {name: rest.pop(name) for name, _ in potential_type.extra_inputs}
        if rest.get('submit') and output:
            raise click.UsageError(
                '--output goes with a foreground run; a submitted fit writes it: mlpgen report PK DIR'
            )
        ensure_ready()
        extra = {name: _extra_input(potential_type, name, value) for name, value in extra_inputs.items() if value}
        if extra and (protocol or optimize or rest.get('validate')):
            names = ', '.join('--' + name.replace('_', '-') for name in extra)
            raise click.UsageError(f'{names} is for a plain fit (no --protocol/--optimize/--validate)')
        _run_fit(
            potential_type.calculation_class(),
            potential_type.title,
            load_training_set(training_set),
            params,
            code,
            output,
            extra,
            kind=potential_type.name,
            protocol=protocol,
            optimize=optimize,
            budget=budget,
            in_flight=in_flight,
            **rest,
        )

    command.__doc__ = potential_type.summary
    command = optimization_options(command)
    command = submit_option(command)
    command = click.option(
        '--output',
        type=click.Path(file_okay=False),
        default=None,
        help='Folder for report, plots and LAMMPS files (default: mlpgen_fit_<PK>).',
    )(command)
    for name, text in reversed(potential_type.extra_inputs):
        command = click.option('--' + name.replace('_', '-'), name, default=None, help=text)(command)
    code_help = f'{potential_type.title} code label' + (
        f': {potential_type.code_help}' if potential_type.code_help else '.'
    )
    command = click.option('--code', default=potential_type.code_label, show_default=True, help=code_help)(command)
    command = click.option(
        '-p', '--param', 'params', multiple=True, metavar='KEY=VALUE', help=potential_type.parameter_help
    )(command)
    command = click.argument('training_set')(command)
    return cmd_fit.command(potential_type.name)(command)


def _register_fit_commands():
    from aiida_mlpgen import potential_types

    for potential_type in potential_types.all_types():
        if potential_type.name not in cmd_fit.commands:
            _fit_command(potential_type)


_register_fit_commands()


def write_report(calc, directory: Path) -> None:
    """Print the report of ``calc`` and write it, the plots and the LAMMPS files to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    text = calc.outputs.report.get_content()
    (directory / 'report.txt').write_text(text)
    plots = calc.outputs.plots
    for name in plots.base.repository.list_object_names():
        (directory / name).write_bytes(plots.base.repository.get_object_content(name, mode='rb'))
    if 'objective_plot' in calc.outputs:
        (directory / 'objective.png').write_bytes(calc.outputs.objective_plot.get_content(mode='rb'))
        table = calc.outputs.trials.get_dict()
        lines = [','.join(table['columns'])]
        lines += [
            ','.join('' if row.get(c) is None else str(row.get(c)) for c in table['columns']) for row in table['rows']
        ]
        (directory / 'trials.csv').write_text('\n'.join(lines) + '\n')
        best = table['rows'][table['best_trial']]
        choice = f' of {best["choice"]}' if best.get('choice') else ''
        click.echo(
            f'Optimisation: {len(table["rows"])} trials, best trial {best["trial"]}{choice} (trials.csv, objective.png)'
        )
    if 'validation' in calc.outputs and 'plots' in calc.outputs.validation:
        folder = calc.outputs.validation.plots
        for name in folder.base.repository.list_object_names():
            (directory / f'validation_{name}').write_bytes(folder.base.repository.get_object_content(name, mode='rb'))
    mod = calc.outputs.potential.write_lammps(directory / 'lammps')
    click.echo(text)
    potential = calc.outputs.potential
    click.echo(f'Process {calc.process_label}<{calc.pk}>; potential {type(potential).__name__}<{potential.pk}>')
    click.echo(f'Report and plots: {directory.resolve()}')
    click.echo(f'LAMMPS: include {mod.resolve()}')


@cmd_root.command('report')
@click.argument('identifier')
@click.argument('directory', type=click.Path(file_okay=False))
def cmd_report(identifier, directory):
    """Write the report, plots and LAMMPS files of the fit IDENTIFIER (a fit process PK) to DIRECTORY."""
    from aiida import orm

    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    calc = load_typed(identifier, orm.ProcessNode, 'fit process')
    if 'report' not in calc.outputs:
        raise click.ClickException(f'node {identifier} has no report output (is it a finished fit?)')
    write_report(calc, output_directory(directory)[0])


@cmd_root.command('kill')
@click.argument('identifier')
@click.option('--wait', default=15.0, show_default=True, help='Seconds to wait for the command running it to stop.')
def cmd_kill(identifier, wait):
    """Kill the process IDENTIFIER (PK or UUID) run by a foreground mlpgen command (fit, demo,
    validate) in another shell: that command gets SIGTERM and marks its processes Killed; when it
    is gone already, its processes are marked Killed here. (Processes of the daemon: `verdi process
    kill`, which needs the daemon's broker.)"""
    import signal
    import time

    from aiida import orm

    from aiida_mlpgen.embedded import ensure_ready

    from .interrupt import FOREGROUND_PID, kill_tree

    ensure_ready()
    node = load_typed(identifier, orm.ProcessNode, 'process')
    if node.is_terminated:
        raise click.ClickException(f'{node.process_label}<{node.pk}> has ended already ({node.process_state.value})')
    pid = node.base.extras.get(FOREGROUND_PID, None)
    if pid is None:
        raise click.ClickException(
            f'{node.process_label}<{node.pk}> was not started by a foreground mlpgen command: '
            'use `verdi process kill` (with the daemon running)'
        )
    try:
        os.kill(int(pid), signal.SIGTERM)
    except ProcessLookupError:
        killed = kill_tree(node, 'Killed by mlpgen kill: the command running it was gone')
        click.echo(f'the command running it had ended; marked Killed: {", ".join(killed)}')
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if orm.load_node(node.pk).is_terminated:
            click.echo(f'{node.process_label}<{node.pk}> killed (the command {pid} stopped it)')
            return
        time.sleep(0.5)
    raise click.ClickException(f'{node.process_label}<{node.pk}> still runs after {wait:g} s')
