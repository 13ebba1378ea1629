"""``--submit``: send a process to the AiiDA daemon instead of running it in the foreground."""

from __future__ import annotations

import time

import click

SUBMIT_HELP = (
    'Send the process to the AiiDA daemon (started if it is not running), print its PK and return at once; '
    '`mlpgen status PK` shows its progress, `mlpgen report PK DIR` its results once finished.'
)
#: seconds the broker of a freshly started daemon has to come up
BROKER_WAIT = 30.0


def submit_option(command):
    return click.option('--submit', is_flag=True, default=False, help=SUBMIT_HELP)(command)


def ensure_daemon() -> None:
    """The daemon runs and its broker answers, or a click error says why it cannot; nothing is
    stored either way."""
    from aiida.common.exceptions import ConfigurationError
    from aiida.engine.daemon.client import DaemonException, get_daemon_client
    from aiida.manage import get_manager

    manager = get_manager()
    profile = manager.get_profile()
    if profile.process_control_backend is None:
        raise click.ClickException(
            f'profile {profile.name!r} has no broker, so no daemon can run: run in the foreground (without '
            '--submit) or give the profile a broker (`verdi profile configure-rabbitmq`); nothing was submitted'
        )
    try:
        broker = manager.get_broker()
    except ConfigurationError as error:
        raise click.ClickException(f'the broker of profile {profile.name!r} is misconfigured: {error}') from None
    client = get_daemon_client()
    external = profile.process_control_backend != 'core.zeromq'  # ZeroMQ's broker runs under the daemon
    if external and not broker.check_service_reachable():
        raise click.ClickException(_broker_down(profile))
    if not client.is_daemon_running:
        try:
            client.start_daemon(number_workers=1)
        except DaemonException as error:
            message = str(error).strip().splitlines()[-1] if str(error).strip() else 'no reason given'
            raise click.ClickException(f'the AiiDA daemon could not start: {message}; nothing was submitted') from None
        click.echo(f'Started the AiiDA daemon of profile {profile.name!r} (1 worker; `verdi daemon incr N` adds more)')
    deadline = time.monotonic() + BROKER_WAIT
    while not broker.check_service_reachable():
        if time.monotonic() > deadline:
            raise click.ClickException(_broker_down(profile))
        time.sleep(0.5)


def _broker_down(profile) -> str:
    config = profile.process_control_config or {}
    where = ''
    if config.get('broker_host'):
        where = f' (RabbitMQ at {config.get("broker_host")}:{config.get("broker_port", 5672)})'
    return (
        f'the broker of profile {profile.name!r}{where} does not answer, so the daemon cannot take the process: '
        'start it (e.g. `rabbitmq-server -detached`) or run without --submit; nothing was submitted'
    )


def submit_process(builder_or_class, then: str | None = None, **inputs):
    """Submit to the daemon (after :func:`ensure_daemon`) and say how to follow the process;
    ``then``: the command (with ``{pk}``) that shows its results once it has finished."""
    from aiida.engine import submit

    ensure_daemon()
    node = submit(builder_or_class, **inputs)
    click.echo(f'Submitted {node.process_label}<{node.pk}> to the daemon.')
    then = (then or 'verdi process show {pk}').format(pk=node.pk)
    for command, what in ((f'mlpgen status {node.pk}', 'progress'), (f'verdi process report {node.pk}', 'its log')):
        click.echo(f'  {command:<32} # {what}')
    click.echo(f'  {then:<32} # its results once finished')
    return node
