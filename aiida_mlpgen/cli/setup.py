"""``mlpgen setup``."""

import click

from .root import cmd_root


@cmd_root.command('setup')
@click.option(
    '--production',
    is_flag=True,
    help='Make the production profile instead: PostgreSQL storage and the RabbitMQ broker (both must be '
    'running), as the new default profile.',
)
@click.option('--profile', 'name', default=None, help='With --production: the profile name [mlpgen-production].')
@click.option('--postgres-host', default='localhost', show_default=True)
@click.option('--postgres-port', type=int, default=5432, show_default=True)
@click.option(
    '--postgres-superuser',
    default='postgres',
    show_default=True,
    help='A PostgreSQL role that may create roles and databases (a new user and database are made for the profile).',
)
@click.option('--postgres-password', default=None, help="The superuser's password (default: none, peer/trust).")
@click.option('--rabbitmq-host', default='127.0.0.1', show_default=True)
@click.option('--rabbitmq-port', type=int, default=5672, show_default=True)
@click.option('--rabbitmq-user', default='guest', show_default=True)
@click.option('--rabbitmq-password', default='guest', show_default=True)
@click.option('--rabbitmq-vhost', default='', help='RabbitMQ virtual host (default: the default one).')
@click.option('--no-default', is_flag=True, help='With --production: keep the current default profile.')
def cmd_setup(production, name, no_default, **services):
    """Create the embedded default profile, localhost computer and codes where missing; with
    --production the PostgreSQL + RabbitMQ profile for many processes and daemon workers.

    Idempotent: a second call reports what exists and changes nothing. Honours AIIDA_PATH.
    `mlpgen check` then says whether storage, broker and daemon answer.
    """
    if not production:
        given = [k for k, v in services.items() if v != cmd_setup_defaults[k]] + (['profile'] if name else [])
        if given or no_default:
            raise click.UsageError('the PostgreSQL/RabbitMQ options and --profile/--no-default go with --production')
        from aiida_mlpgen.embedded import setup

        _echo(setup())
        return
    from aiida_mlpgen.production import PRODUCTION_PROFILE, ProductionSetupError, Services, setup_production

    try:
        report = setup_production(Services(**services), name or PRODUCTION_PROFILE, default=not no_default)
    except ProductionSetupError as error:
        raise click.ClickException(str(error)) from None
    _echo(report)


cmd_setup_defaults = {p.name: p.default for p in cmd_setup.params if p.name.startswith(('postgres', 'rabbitmq'))}


@cmd_root.command('check')
@click.option('--profile', 'name', default=None, help='The profile to check (default: the default profile).')
def cmd_check(name):
    """Whether the storage, the broker and the daemon of a profile are there (exit 1 if not)."""
    from aiida.manage.configuration import get_config

    from aiida_mlpgen.production import check

    config = get_config(create=True)
    if name is None and config.default_profile_name is None or name is not None and name not in config.profile_names:
        known = ', '.join(config.profile_names) or 'none'
        raise click.ClickException(f'no profile {name or "(default)"} (profiles: {known}); `mlpgen setup` makes one')
    rows = check(name)
    for what, fine, detail in rows:
        click.echo(f'{"ok  " if fine else "FAIL"}  {what:<8} {detail}')
    if not all(fine for _, fine, _ in rows):
        raise SystemExit(1)


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
