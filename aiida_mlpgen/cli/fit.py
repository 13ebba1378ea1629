"""``mlpgen fit snap`` and ``mlpgen report``."""

from pathlib import Path

import click

from .params import parse_params
from .root import cmd_root
from .utils import load_training_set


@cmd_root.group('fit')
def cmd_fit():
    """Fit a potential to a training set on the embedded profile."""


@cmd_fit.command('snap')
@click.argument('training_set')
@click.option('-p', '--param', 'params', multiple=True, metavar='KEY=VALUE',
              help='SNAP parameter, dotted for nesting (twojmax=8, elements.Mo.radelem=0.5, fit.stress=off, '
                   'solver=RIDGE, solver_options.alpha=1e-6, quadratic=true, zbl=true ...).')
@click.option('--code', default='fitsnap@localhost', show_default=True, help='FitSNAP code label.')
@click.option('--output', type=click.Path(file_okay=False), default=None,
              help='Folder for report, plots and LAMMPS files (default: mlpgen_fit_<PK>).')
def cmd_fit_snap(training_set, params, code, output):
    """Fit a SNAP potential to TRAINING_SET (PK, UUID or label) with FitSNAP."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    node = load_training_set(training_set)
    builder = FitsnapCalculation.get_builder()
    builder.training_set = node
    builder.parameters = orm.Dict(parse_params(params))
    builder.code = orm.load_code(code)
    click.echo(f'Fitting SNAP to TrainingSetData<{node.pk}> ({node.n_structures} structures) with {code} ...')
    try:
        with Progress('FitSNAP running'):
            _, calc = run_get_node(builder)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if not calc.is_finished_ok:
        raise click.ClickException(f'FitsnapCalculation<{calc.pk}> failed: [{calc.exit_status}] {calc.exit_message}')
    write_report(calc, Path(output or f'mlpgen_fit_{calc.pk}'))


class Progress:
    """An elapsed-time line on the terminal while a process runs in the foreground."""

    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        import threading
        import time

        self._stop = threading.Event()
        self._start = time.monotonic()

        def tick():
            while not self._stop.wait(1.0):
                click.echo(f'\r  {self.label}: {time.monotonic() - self._start:5.0f} s', nl=False, err=True)

        self._thread = threading.Thread(target=tick, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_):
        import time

        self._stop.set()
        self._thread.join()
        click.echo(f'\r  {self.label}: done in {time.monotonic() - self._start:.0f} s', err=True)


def write_report(calc, directory: Path) -> None:
    """Print the report of ``calc`` and write it, the plots and the LAMMPS files to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    text = calc.outputs.report.get_content()
    (directory / 'report.txt').write_text(text)
    plots = calc.outputs.plots
    for name in plots.base.repository.list_object_names():
        (directory / name).write_bytes(plots.base.repository.get_object_content(name, mode='rb'))
    mod = calc.outputs.potential.write_lammps(directory / 'lammps')
    click.echo(text)
    click.echo(f'Process {calc.process_label}<{calc.pk}>; potential {type(calc.outputs.potential).__name__}<{calc.outputs.potential.pk}>')
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
    calc = orm.load_node(identifier)
    if 'report' not in calc.outputs:
        raise click.ClickException(f'node {identifier} has no report output (is it a finished fit?)')
    write_report(calc, Path(directory))
