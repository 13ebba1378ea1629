"""``mlpgen setup``."""

import click

from .root import cmd_root


@cmd_root.command('setup')
def cmd_setup():
    """Create the embedded default profile, localhost computer and codes where missing.

    Idempotent: a second call reports what exists and changes nothing. Honours AIIDA_PATH.
    """
    from aiida_mlpgen.embedded import setup

    report = setup()
    _echo(report)


@cmd_root.command('setup-computer')
@click.argument('label')
@click.option('--hostname', required=True, help="Host name (or address) of the cluster's login node.")
@click.option(
    '--bin-dir',
    required=True,
    help='Folder on the cluster with mlpgen-fitsnap, mlpgen-pacemaker, mlpgen-nnp, mlpgen-properties '
    '(the bin/ of a Python environment with aiida-mlpgen installed).',
)
@click.option('--username', default=None, help='SSH user name (default: from ~/.ssh/config or the local user).')
@click.option('--port', type=int, default=22, show_default=True, help='SSH port.')
@click.option('--key-filename', default=None, help='Private key for SSH (default: the SSH agent / ~/.ssh keys).')
@click.option('--transport', type=click.Choice(['core.ssh', 'core.ssh_async']), default='core.ssh', show_default=True)
@click.option(
    '--scheduler',
    default='core.slurm',
    show_default=True,
    help='AiiDA scheduler plugin: core.slurm, core.pbspro, core.sge, core.direct ...',
)
@click.option(
    '--workdir',
    default='/scratch/{username}/aiida',
    show_default=True,
    help='Remote working folder ({username} is replaced by the remote user).',
)
@click.option('--mpirun', default='srun -n {tot_num_mpiprocs}', show_default=True, help='MPI launcher command.')
@click.option('--mpiprocs-per-machine', type=int, default=1, show_default=True, help='Default MPI ranks per node.')
@click.option('--prepend-text', default='', help='Shell lines run before every job (module loads, source env).')
@click.option('--lammps', default=None, help="Absolute path of the cluster's lmp (a code lammps@LABEL is created).")
@click.option(
    '--n2p2-bin',
    default=None,
    help='Folder of real n2p2 (nnp-train, nnp-scaling, nnp-prune): a code n2p2@LABEL is created.',
)
@click.option(
    '--safe-interval',
    type=float,
    default=5.0,
    show_default=True,
    help='Seconds between two SSH connections (be kind to login nodes).',
)
@click.option(
    '--poll-interval', type=float, default=10.0, show_default=True, help='Seconds between two scheduler queue checks.'
)
@click.option('--proxy-command', default=None, help='SSH ProxyCommand (e.g. "ssh -W %h:%p gateway").')
def cmd_setup_computer(label, **settings):
    """Register a cluster (SSH + a scheduler) and the aiida-mlpgen codes on it.

    Idempotent: what exists is reported. Then `verdi computer test LABEL` checks the connection,
    and `mlpgen fit snap ID --code fitsnap@LABEL` runs a fit there.
    """
    from aiida_mlpgen.computers import RemoteComputer, setup_remote
    from aiida_mlpgen.embedded import SetupReport, ensure_ready

    ensure_ready()
    report = SetupReport()
    try:
        setup_remote(RemoteComputer(label=label, **settings), report)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    _echo(report)


def _echo(report) -> None:
    """What a setup step created or found, and the count."""
    for line in report.lines:
        click.echo(line)
    click.echo('nothing to do: everything exists' if not report.created else f'created {len(report.created)} item(s)')
