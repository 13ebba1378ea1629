"""The production profile: PostgreSQL storage (``core.psql_dos``) and the RabbitMQ broker
(``core.rabbitmq``), for when the embedded SQLite + ZeroMQ profile is outgrown (many
processes at once, several daemon workers, a shared database).

``mlpgen setup --production`` makes it: it checks that RabbitMQ answers, creates a database
user and database on the PostgreSQL server (with the server's superuser credentials, as
``verdi presto --use-postgres`` does), creates the profile with aiida-mlpgen's options, makes it
the default, and sets up the localhost computer and codes on it. ``mlpgen check`` reports
whether the storage, the broker and the daemon of a profile are there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .embedded import DEFAULT_EMAIL, SetupReport, configure_options, ensure_codes, ensure_localhost

PRODUCTION_PROFILE = 'mlpgen-production'


class ProductionSetupError(Exception):
    """A service of the production profile is missing or refuses; nothing was created."""


@dataclasses.dataclass(frozen=True)
class Services:
    """Where PostgreSQL and RabbitMQ listen, and the credentials to use them."""

    postgres_host: str = 'localhost'
    postgres_port: int = 5432
    postgres_superuser: str = 'postgres'
    postgres_password: str | None = None
    rabbitmq_host: str = '127.0.0.1'
    rabbitmq_port: int = 5672
    rabbitmq_user: str = 'guest'
    rabbitmq_password: str = 'guest'
    rabbitmq_vhost: str = ''

    @property
    def broker_config(self) -> dict:
        return {
            'broker_protocol': 'amqp',
            'broker_username': self.rabbitmq_user,
            'broker_password': self.rabbitmq_password,
            'broker_host': self.rabbitmq_host,
            'broker_port': self.rabbitmq_port,
            'broker_virtual_host': self.rabbitmq_vhost,
        }


def rabbitmq_problem(services: Services) -> str | None:
    """Why RabbitMQ cannot be used with these settings, or None when it answers."""
    from aiida.brokers.rabbitmq.utils import get_rmq_url
    from kiwipy.rmq import RmqThreadCommunicator

    config = services.broker_config
    url = get_rmq_url(
        protocol=config['broker_protocol'],
        username=config['broker_username'],
        password=config['broker_password'],
        host=config['broker_host'],
        port=config['broker_port'],
        virtual_host=config['broker_virtual_host'],
    )
    try:
        communicator = RmqThreadCommunicator.connect(connection_params={'url': url})
    except Exception as error:  # noqa: BLE001 - any failure to connect is the answer
        where = f'{services.rabbitmq_host}:{services.rabbitmq_port}'
        return f'RabbitMQ at {where} does not answer ({error or type(error).__name__})'
    communicator.close()
    return None


def _database(name: str, services: Services, folder) -> dict:
    """A new database user and database for profile ``name`` (the server's own locale: aiida's
    helper insists on en_US.UTF-8, which minimal systems lack): the storage configuration. A
    user made here is dropped again when the database cannot be made."""
    import secrets

    from aiida.manage.external.postgres import Postgres

    where = f'PostgreSQL at {services.postgres_host}:{services.postgres_port} (superuser {services.postgres_superuser})'
    dbinfo = {
        'host': services.postgres_host,
        'port': services.postgres_port,
        'user': services.postgres_superuser,
        'password': services.postgres_password,
    }
    try:
        server = Postgres(interactive=False, quiet=True, dbinfo=dbinfo)
        connected = server.is_connected
    except Exception:  # noqa: BLE001 - reported below
        connected = False
    if not connected:
        raise ProductionSetupError(f'{where} cannot be reached or refuses the login; nothing was created')
    password = secrets.token_hex(15)
    user = server.find_new_dbuser(f'aiida-{name}')
    database = server.find_new_db(f'aiida-{name}')
    server.create_dbuser(user, password)
    try:
        server.execute(f'CREATE DATABASE "{database}" OWNER "{user}" ENCODING \'UTF8\' TEMPLATE template0')
    except Exception as error:  # noqa: BLE001 - undone and reported
        server.drop_dbuser(user)
        raise ProductionSetupError(f'{where}: {str(error).splitlines()[0]}; nothing was created') from None
    return {
        'database_hostname': services.postgres_host,
        'database_port': services.postgres_port,
        'database_name': database,
        'database_username': user,
        'database_password': password,
        'repository_uri': (Path(folder) / 'repository' / name).as_uri(),
    }


def setup_production(services: Services, name: str = PRODUCTION_PROFILE, default: bool = True) -> SetupReport:
    """The production profile ``name`` with its localhost computer and codes; what exists is
    reported, not redone. Raises :class:`ProductionSetupError`, having created nothing, when a
    service is missing."""
    from aiida import load_profile
    from aiida.manage.configuration import create_profile, get_config

    report = SetupReport()
    config = get_config(create=True)
    if name in config.profile_names:
        profile = config.get_profile(name)
        report.add(
            f'profile {name}', False, f'storage {profile.storage_backend}, broker {profile.process_control_backend}'
        )
    else:
        problem = rabbitmq_problem(services)
        if problem:
            raise ProductionSetupError(f'{problem}: start it (e.g. `rabbitmq-server -detached`); nothing was created')
        storage = _database(name, services, config.dirpath)
        profile = create_profile(
            config,
            name=name,
            email=DEFAULT_EMAIL,
            storage_backend='core.psql_dos',
            storage_config=storage,
            broker_backend='core.rabbitmq',
            broker_config=services.broker_config,
        )
        configure_options(config, profile)
        # aiida-core warns on every command for RabbitMQ >= 3.8.15 unless told that the server's
        # consumer_timeout is lifted; the docs (and the test services) lift it
        config.set_option('warnings.rabbitmq_version', False, scope=profile.name)
        detail = f'storage core.psql_dos (database {storage["database_name"]}), broker core.rabbitmq'
        report.add(f'profile {name}', True, detail)
    if default and config.default_profile_name != name:
        config.set_default_profile(name, overwrite=True)
        report.lines.append(f'default profile is now {name}')
    config.store()
    load_profile(name, allow_switch=True)
    computer = ensure_localhost(report)
    ensure_codes(computer, report)
    return report


def check(profile_name: str | None = None) -> list[tuple[str, bool, str]]:
    """(what, fine, detail) for the storage, the broker and the daemon of a profile."""
    from aiida import load_profile, orm
    from aiida.engine.daemon.client import get_daemon_client
    from aiida.manage import get_manager

    profile = load_profile(profile_name, allow_switch=True)
    manager = get_manager()
    rows = []
    try:
        manager.get_profile_storage()
        count = orm.QueryBuilder().append(orm.Node).count()
        rows.append(('storage', True, f'{profile.storage_backend}: reachable, {count} nodes'))
    except Exception as error:  # noqa: BLE001 - reported
        rows.append(('storage', False, f'{profile.storage_backend}: {str(error).splitlines()[0]}'))
    if profile.process_control_backend is None:
        rows.append(('broker', False, 'none configured: no daemon, no --submit'))
    else:
        try:
            reachable = manager.get_broker().check_service_reachable()
        except Exception:  # noqa: BLE001 - reported
            reachable = False
        supervised = profile.process_control_backend == 'core.zeromq'
        detail = 'answers' if reachable else ('starts with the daemon' if supervised else 'does not answer')
        rows.append(('broker', reachable or supervised, f'{profile.process_control_backend}: {detail}'))
    client = get_daemon_client(profile.name)
    if client.is_daemon_running:
        try:
            workers = client.get_number_of_workers()
        except Exception:  # noqa: BLE001 - running but not answering
            workers = '?'
        rows.append(('daemon', True, f'running, {workers} worker(s)'))
    else:
        rows.append(('daemon', True, 'not running (`verdi daemon start N` or any --submit starts it)'))
    return rows
