"""Real services for the production-profile tests and benchmark: a PostgreSQL server and a
RabbitMQ node, each started from a temporary folder on loopback ports without systemd and
stopped by what was started here (never by name).

Debian's ``postgresql`` and ``rabbitmq-server`` packages provide the programs (``bash
tests/install_services.sh`` installs them as root). PostgreSQL refuses to run as root, so it
runs as the ``postgres`` system user the package creates. :func:`missing` says why the
services cannot start, for a clear skip where they cannot.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .services import free_port

RABBITMQ = '/usr/lib/rabbitmq/bin'


def postgres_bin() -> Path | None:
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why the services cannot run here, or None."""
    if postgres_bin() is None or not Path(RABBITMQ, 'rabbitmq-server').exists():
        return 'postgresql or rabbitmq-server not installed (run: bash tests/install_services.sh, as root on Debian)'
    if os.geteuid() != 0 or shutil.which('runuser') is None:
        return 'the production services start PostgreSQL as the postgres user: needs root and runuser'
    return None


@dataclass
class ProductionServices:
    root: Path
    postgres_folder: Path
    postgres_port: int
    postgres_password: str
    rabbitmq_port: int
    rabbitmq_dist_port: int
    rabbitmq_node: str

    def setup_arguments(self) -> list[str]:
        """The options of ``mlpgen setup --production`` that reach these services."""
        return [
            '--postgres-host',
            '127.0.0.1',
            '--postgres-port',
            str(self.postgres_port),
            '--postgres-password',
            self.postgres_password,
            '--rabbitmq-port',
            str(self.rabbitmq_port),
        ]

    @property
    def rabbitmq_env(self) -> dict:
        return _rabbitmq_env(self.root / 'rabbitmq', self.rabbitmq_node, self.rabbitmq_dist_port)

    def stop_rabbitmq(self) -> None:
        subprocess.run(
            [f'{RABBITMQ}/rabbitmqctl', '-n', self.rabbitmq_node, 'stop'],
            env=self.rabbitmq_env,
            capture_output=True,
            timeout=60,
            check=False,
        )

    def stop(self) -> None:
        self.stop_rabbitmq()
        pg_ctl = [str(postgres_bin() / 'pg_ctl'), '-D', str(self.postgres_folder / 'data'), '-m', 'fast', 'stop']
        subprocess.run(['runuser', '-u', 'postgres', '--', *pg_ctl], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.postgres_folder, ignore_errors=True)


def _rabbitmq_env(folder: Path, node: str, dist_port: int) -> dict:
    return {
        **os.environ,
        'HOME': str(folder),  # the Erlang cookie
        'RABBITMQ_NODENAME': node,
        'RABBITMQ_CONFIG_FILE': str(folder / 'rabbitmq.conf'),
        'RABBITMQ_MNESIA_BASE': str(folder / 'mnesia'),
        'RABBITMQ_LOG_BASE': str(folder / 'log'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': str(folder / 'enabled_plugins'),
        'RABBITMQ_PID_FILE': str(folder / 'pid'),
        'RABBITMQ_DIST_PORT': str(dist_port),
        'ERL_CRASH_DUMP': str(folder / 'erl_crash.dump'),  # never into the working directory
    }


def _start_postgres(folder: Path, port: int, password: str) -> None:
    """``folder``: owned by the postgres user, in a directory that user can reach."""
    shutil.chown(folder, 'postgres')
    (folder / 'sock').mkdir()
    secret = folder / 'pgpass'
    secret.write_text(password + '\n')
    for path in (folder / 'sock', secret):
        shutil.chown(path, 'postgres')
    as_postgres = ['runuser', '-u', 'postgres', '--']
    initdb = [str(postgres_bin() / 'initdb'), '-D', str(folder / 'data'), '-U', 'postgres', f'--pwfile={secret}']
    initdb += ['--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8']
    subprocess.run([*as_postgres, *initdb], capture_output=True, check=True, timeout=120)
    options = f'-p {port} -k {folder / "sock"} -c listen_addresses=127.0.0.1'
    pg_ctl = [str(postgres_bin() / 'pg_ctl'), '-D', str(folder / 'data'), '-l', str(folder / 'log'), '-o', options]
    subprocess.run([*as_postgres, *pg_ctl, '-w', 'start'], capture_output=True, check=True, timeout=120)


def _start_rabbitmq(root: Path, node: str, port: int, dist_port: int) -> None:
    folder = root / 'rabbitmq'
    folder.mkdir(parents=True, exist_ok=True)
    # aiida-core needs the consumer timeout lifted: its processes hold a task for as long as they run
    (folder / 'rabbitmq.conf').write_text(f'listeners.tcp.default = 127.0.0.1:{port}\nconsumer_timeout = 31622400000\n')
    (folder / 'enabled_plugins').write_text('[].\n')
    env = _rabbitmq_env(folder, node, dist_port)
    subprocess.run([f'{RABBITMQ}/rabbitmq-server', '-detached'], env=env, capture_output=True, check=True, timeout=60)
    deadline = time.monotonic() + 240  # a loaded CI machine starts Erlang slowly
    while time.monotonic() < deadline:
        done = subprocess.run(
            [f'{RABBITMQ}/rabbitmqctl', '-n', node, 'await_startup'], env=env, capture_output=True, timeout=60
        )
        if done.returncode == 0:
            return
        time.sleep(1)
    raise RuntimeError(f'RabbitMQ node {node} did not start within 240 s (log: {folder / "log"})')


def start(root: Path) -> ProductionServices:
    """Start PostgreSQL and RabbitMQ with everything under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    services = ProductionServices(
        root=root,
        postgres_folder=Path(tempfile.mkdtemp(prefix='mlpgen-postgres-', dir='/tmp')),  # reachable by postgres
        postgres_port=free_port(),
        postgres_password=secrets.token_hex(8),
        rabbitmq_port=free_port(),
        rabbitmq_dist_port=free_port(),
        rabbitmq_node=f'mlpgen{secrets.token_hex(4)}@localhost',
    )
    try:
        _start_postgres(services.postgres_folder, services.postgres_port, services.postgres_password)
        _start_rabbitmq(root, services.rabbitmq_node, services.rabbitmq_port, services.rabbitmq_dist_port)
    except Exception:
        services.stop()
        raise
    return services
