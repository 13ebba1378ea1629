"""The root ``mlpgen`` group."""

import os

import click


class MlpgenGroup(click.Group):
    """Every failure ends in one line and a non-zero exit: the commands raise click errors for
    what they check; anything else unexpected is shown the same way (``--debug`` or
    ``MLPGEN_DEBUG=1`` shows the traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:  # noqa: BLE001 - the net under every command
            if ctx.params.get('debug') or os.environ.get('MLPGEN_DEBUG'):
                raise
            message = str(error).strip().splitlines()[0] if str(error).strip() else ''
            raise click.ClickException(f'{type(error).__name__}: {message} (mlpgen --debug ... shows where)') from error


@click.group(cls=MlpgenGroup, context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(package_name='aiida-mlpgen')
@click.option('--debug', is_flag=True, help='Show the Python traceback of an unexpected error.')
def cmd_root(debug):
    """aiida-mlpgen: machine-learned interatomic potentials (ACE, SNAP, NNP) with AiiDA provenance.

    Every command works on the default AiiDA profile; when none exists, one is created
    (SQLite storage, ZeroMQ broker, localhost computer and codes), as `mlpgen setup` does.
    """
