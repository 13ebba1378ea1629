"""``mlpgen demo``: the main job on the embedded default, end to end."""

from pathlib import Path

import click

from .fit import write_report
from .progress_bar import ProgressLine
from .root import cmd_root
from .utils import echo_table, summary_rows

EXAMPLE = Path(__file__).resolve().parents[2] / 'examples' / 'data' / 'Mo_mlearn_slice.json'


@cmd_root.command('demo')
@click.option(
    '--data',
    'data_path',
    type=click.Path(exists=True, dir_okay=True),
    default=None,
    help='Training data to use instead of the shipped mlearn Mo slice.',
)
@click.option(
    '--output',
    type=click.Path(file_okay=False),
    default='mlpgen_demo_output',
    show_default=True,
    help='Folder for exported files.',
)
@click.option(
    '--type',
    'potential_type',
    default='snap',
    show_default=True,
    help='Potential type to fit (a name of `mlpgen potential types`).',
)
def cmd_demo(data_path, output, potential_type):
    """Import real DFT data, split it, fit SNAP (or another type), write report, plots and LAMMPS files."""
    from aiida import orm

    from aiida_mlpgen import potential_types
    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

    from .interrupt import run_interruptible as run_get_node

    if potential_type not in potential_types.names():
        raise click.BadParameter(
            f'{potential_type!r} is not one of {", ".join(potential_types.names())}', param_hint='--type'
        )
    fit_type = potential_types.get(potential_type)

    click.secho('1. Embedded AiiDA profile', bold=True)
    for line in setup().lines:
        click.echo(f'   {line}')

    source = Path(data_path) if data_path else EXAMPLE
    if not source.exists():
        raise click.ClickException(f'example data {source} not found; pass --data PATH')
    click.secho(f'2. Import {source}', bold=True)
    training_set = TrainingSetData.from_file(source)
    training_set.label = f'demo: {source.name}'
    training_set.store()
    echo_table(summary_rows(training_set), ['', ''])

    click.secho('3. Split 90 % train / 10 % validation (seed 42), recorded as a calcfunction', bold=True)
    split = split_training_set(training_set, orm.Float(0.1), orm.Int(42))
    click.echo(f'   TrainingSetData<{split.pk}>: {split.split_counts}')

    click.secho(f'4. Export for the fitting codes to {output}/', bold=True)
    for fmt in ('fitsnap-json', 'pacemaker', 'n2p2', 'extxyz'):
        written = split.export(Path(output) / fmt, fmt)
        click.echo(f'   {fmt:13s} {len(written)} file(s)')

    click.secho(f'5. {fit_type.demo_title or "Fit " + fit_type.title}, in a CalcJob', bold=True)
    process, code, parameters = fit_type.calculation_class(), fit_type.code_label, fit_type.demo_parameters
    builder = process.get_builder()
    builder.training_set = split
    builder.parameters = orm.Dict(parameters)
    builder.code = orm.load_code(code)
    with ProgressLine(f'{potential_type.upper()} fit'):
        _, calc = run_get_node(builder)
    if not calc.is_finished_ok:
        raise click.ClickException(f'{calc.process_label}<{calc.pk}> failed: [{calc.exit_status}] {calc.exit_message}')
    write_report(calc, Path(output) / potential_type)

    click.secho('Provenance', bold=True)
    potential = calc.outputs.potential
    creator = split.creator
    click.echo(
        f'   {type(potential).__name__}<{potential.pk}> <- {calc.process_label}<{calc.pk}> '
        f'<- TrainingSetData<{split.pk}> '
        f'<- {creator.process_label}<{creator.pk}> <- TrainingSetData<{creator.inputs.training_set.pk}> '
        f'<- {source.name}'
    )
    click.echo(f'   verdi process show {calc.pk}')
    click.echo(f'   verdi node graph generate {potential.pk}    # provenance graph (needs Graphviz `dot`)')
