"""The root ``mlpgen`` group."""

import click


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(package_name='aiida-mlpgen')
def cmd_root():
    """aiida-mlpgen: machine-learned interatomic potentials (ACE, SNAP, NNP) with AiiDA provenance.

    Every command works on the default AiiDA profile; when none exists, one is created
    (SQLite storage, ZeroMQ broker, localhost computer and codes), as `mlpgen setup` does.
    """
