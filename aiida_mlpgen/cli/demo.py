"""``mlpgen demo``: the main job on the embedded default, end to end."""

from pathlib import Path

import click

from .fit import Progress, write_report
from .root import cmd_root
from .utils import echo_table, summary_rows

EXAMPLE = Path(__file__).resolve().parents[2] / 'examples' / 'data' / 'Mo_mlearn_slice.json'


@cmd_root.command('demo')
@click.option('--data', 'data_path', type=click.Path(exists=True, dir_okay=True), default=None,
              help='Training data to use instead of the shipped mlearn Mo slice.')
@click.option('--output', type=click.Path(file_okay=False), default='mlpgen_demo_output', show_default=True,
              help='Folder for exported files.')
@click.option('--type', 'potential_type', type=click.Choice(['snap', 'ace', 'nnp']), default='snap', show_default=True,
              help='Potential type to fit.')
def cmd_demo(data_path, output, potential_type):
    """Import real DFT data, split it, fit SNAP (or ACE, NNP), write report, plots and LAMMPS files."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.calculations.n2p2 import N2p2Calculation
    from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

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

    if potential_type == 'snap':
        click.secho('5. Fit SNAP with FitSNAP (twojmax 6; weights energy 100, forces 1, stress 1e-4), in a CalcJob',
                    bold=True)
        process, code, parameters = FitsnapCalculation, 'fitsnap@localhost', {
            'twojmax': 6, 'rcutfac': 4.6, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 1e-4}}
    elif potential_type == 'nnp':
        click.secho('5. Fit an NNP with our n2p2-compatible engine (default symmetry functions, 5 Å, 15-15 network, '
                    '8 epochs), in a CalcJob', bold=True)
        process, code, parameters = N2p2Calculation, 'nnp@localhost', {
            'cutoff': 5.0, 'nodes_per_layer': 15, 'epochs': 8}
    else:
        click.secho('5. Fit ACE with pacemaker (CPU; 15 functions, cutoff 5 Å, 20 iterations), in a CalcJob',
                    bold=True)
        process, code, parameters = PacemakerCalculation, 'pacemaker@localhost', {
            'cutoff': 5.0, 'number_of_functions': 15, 'min_iterations': 20, 'max_iterations': 20, 'display_step': 5}
    builder = process.get_builder()
    builder.training_set = split
    builder.parameters = orm.Dict(parameters)
    builder.code = orm.load_code(code)
    with Progress(f'{potential_type.upper()} fit running'):
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
