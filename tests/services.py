"""Real services for the remote-execution tests: an OpenSSH server on a loopback port and a
one-node SLURM cluster (munge + slurmctld + slurmd), all started from a temporary folder
without systemd and stopped by the PIDs started here (never by name).

Debian's ``openssh-server``, ``slurm-wlm`` and ``munge`` packages provide the programs
(``bash tests/install_services.sh`` installs them as root). :func:`missing` says why the
services cannot start, for a clear skip where they cannot.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMS = ('sshd', 'ssh-keygen', 'munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scancel', 'sinfo')
SBIN = ('/usr/sbin', '/usr/bin', '/sbin', '/bin')


def which(program: str) -> str | None:
    return shutil.which(program) or next((f'{d}/{program}' for d in SBIN if os.access(f'{d}/{program}', os.X_OK)), None)


def missing() -> str | None:
    """Why the services cannot run here, or None."""
    absent = [p for p in PROGRAMS if which(p) is None]
    if absent:
        return f'{", ".join(absent)} not installed (run: bash tests/install_services.sh, as root on Debian)'
    if os.geteuid() != 0:
        return 'the SSH/SLURM test services run slurmd and sshd as root; not root here'
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """The running services and what a client needs to reach them."""

    root: Path
    ssh_port: int
    user: str
    key: Path
    slurm_conf: Path
    workdir: Path
    processes: dict = field(default_factory=dict)

    @property
    def env(self) -> dict:
        """Environment for running SLURM clients (squeue, scancel) from this side."""
        return {**os.environ, 'SLURM_CONF': str(self.slurm_conf)}

    def slurm(self, *args: str, check=True) -> str:
        done = subprocess.run(
            [which(args[0]), *args[1:]], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        if check and done.returncode != 0:
            raise RuntimeError(f'{" ".join(args)} failed: {done.stderr}')
        return done.stdout

    def stop(self) -> None:
        for _name, pid in reversed(list(self.processes.items())):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(50):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child (sshd): reaped
                        break
                except ChildProcessError:  # a daemon of its own (munged, slurm*): poll it
                    pass
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        self.processes.clear()


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def _wait_for(predicate, what: str, timeout: float = 30.0, log: Path | None = None):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.2)
    tail = log.read_text()[-2000:] if log is not None and log.exists() else ''
    raise RuntimeError(f'{what} did not come up within {timeout:.0f} s\n{tail}')


def _pid_written(path: Path) -> bool:
    """A daemon creates its pid file before it writes the number: wait for the number."""
    try:
        return path.read_text().strip().isdigit()
    except OSError:
        return False


def _pid_from(path: Path) -> int:
    return int(path.read_text().split()[0])


def start(root: Path) -> Cluster:
    """Start munge, slurmctld, slurmd and sshd with everything under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    user = 'root'
    processes: dict[str, int] = {}
    cluster = None
    try:
        # --- munge: its own key and socket (the socket's folder must be world-readable)
        munge = root / 'munge'
        munge.mkdir(mode=0o755, exist_ok=True)
        munge.chmod(0o755)
        key = munge / 'munge.key'
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        munge_socket = munge / 'munge.socket'
        subprocess.run(
            [
                which('munged'),
                '--force',
                f'--key-file={key}',
                f'--socket={munge_socket}',
                f'--pid-file={munge / "munged.pid"}',
                f'--log-file={munge / "munged.log"}',
                f'--seed-file={munge / "munged.seed"}',
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        _wait_for(lambda: _pid_written(munge / 'munged.pid'), 'munged', log=munge / 'munged.log')
        processes['munged'] = _pid_from(munge / 'munged.pid')

        # --- SLURM: one node, this machine, no accounting, no cgroups
        slurm = root / 'slurm'
        for sub in ('state', 'spool'):
            (slurm / sub).mkdir(parents=True, exist_ok=True)
        node = socket.gethostname()
        conf = _write(
            slurm / 'slurm.conf',
            '\n'.join(
                [
                    'ClusterName=mlpgen-test',
                    f'SlurmctldHost={node}(127.0.0.1)',
                    f'SlurmctldPort={free_port()}',
                    f'SlurmdPort={free_port()}',
                    'SlurmUser=root',
                    'SlurmdUser=root',
                    'AuthType=auth/munge',
                    f'AuthInfo=socket={munge_socket}',
                    'CredType=cred/munge',
                    f'StateSaveLocation={slurm / "state"}',
                    f'SlurmdSpoolDir={slurm / "spool"}',
                    f'SlurmctldPidFile={slurm / "slurmctld.pid"}',
                    f'SlurmdPidFile={slurm / "slurmd.pid"}',
                    f'SlurmctldLogFile={slurm / "slurmctld.log"}',
                    f'SlurmdLogFile={slurm / "slurmd.log"}',
                    'ProctrackType=proctrack/linuxproc',
                    'TaskPlugin=task/none',
                    'SelectType=select/cons_tres',
                    'SelectTypeParameters=CR_CPU',
                    'JobAcctGatherType=jobacct_gather/none',
                    'AccountingStorageType=accounting_storage/none',
                    'MailProg=/bin/true',
                    'ReturnToService=2',
                    'SchedulerType=sched/builtin',
                    'KillWait=2',
                    'OverTimeLimit=0',
                    'MinJobAge=300',
                    'MpiDefault=none',
                    f'NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} State=UNKNOWN',
                    f'PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4',
                    '',
                ]
            ),
        )
        env = {**os.environ, 'SLURM_CONF': str(conf)}
        subprocess.run(
            [which('slurmctld'), '-i', '-f', str(conf)], env=env, check=True, capture_output=True, timeout=30
        )
        _wait_for(lambda: _pid_written(slurm / 'slurmctld.pid'), 'slurmctld', log=slurm / 'slurmctld.log')
        processes['slurmctld'] = _pid_from(slurm / 'slurmctld.pid')
        subprocess.run(
            [which('slurmd'), '-f', str(conf), '-N', node], env=env, check=True, capture_output=True, timeout=30
        )
        _wait_for(lambda: _pid_written(slurm / 'slurmd.pid'), 'slurmd', log=slurm / 'slurmd.log')
        processes['slurmd'] = _pid_from(slurm / 'slurmd.pid')

        def idle():
            out = subprocess.run(
                [which('sinfo'), '-h', '-o', '%t'], env=env, capture_output=True, text=True, check=False
            ).stdout
            return out.strip() in ('idle', 'mix', 'alloc')

        _wait_for(idle, 'the SLURM node', log=slurm / 'slurmd.log')

        # --- sshd on a loopback port, a generated host key and user key
        ssh = root / 'ssh'
        ssh.mkdir(mode=0o700, exist_ok=True)
        Path('/run/sshd').mkdir(parents=True, exist_ok=True)
        host_key = ssh / 'host_ed25519'
        user_key = ssh / 'user_ed25519'
        for path in (host_key, user_key):
            subprocess.run(
                [which('ssh-keygen'), '-q', '-t', 'ed25519', '-N', '', '-f', str(path)],
                check=True,
                capture_output=True,
                timeout=30,
            )
        authorized = _write(ssh / 'authorized_keys', (ssh / 'user_ed25519.pub').read_text(), 0o600)
        port = free_port()
        sshd_conf = _write(
            ssh / 'sshd_config',
            '\n'.join(
                [
                    f'Port {port}',
                    'ListenAddress 127.0.0.1',
                    f'HostKey {host_key}',
                    f'AuthorizedKeysFile {authorized}',
                    f'PidFile {ssh / "sshd.pid"}',
                    'PermitRootLogin prohibit-password',
                    'PasswordAuthentication no',
                    'KbdInteractiveAuthentication no',
                    'UsePAM no',
                    'StrictModes no',
                    'Subsystem sftp internal-sftp',
                    f'SetEnv SLURM_CONF={conf}',
                    'MaxStartups 50:30:100',
                    'MaxSessions 50',
                    '',
                ]
            ),
        )
        sshd = subprocess.Popen(
            [which('sshd'), '-D', '-e', '-f', str(sshd_conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(ssh / 'sshd.log', 'w'),
            start_new_session=True,
        )
        processes['sshd'] = sshd.pid

        def listening():
            with socket.socket() as s:
                return s.connect_ex(('127.0.0.1', port)) == 0

        _wait_for(listening, 'sshd', log=ssh / 'sshd.log')
        workdir = root / 'remote-work'
        workdir.mkdir(exist_ok=True)
        cluster = Cluster(
            root=root, ssh_port=port, user=user, key=user_key, slurm_conf=conf, workdir=workdir, processes=processes
        )
        return cluster
    except BaseException:
        Cluster(root, 0, user, Path(), Path(), Path(), processes).stop()
        raise
