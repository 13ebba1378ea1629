"""A remote computer (a cluster reached over SSH, jobs through its scheduler) and the codes
aiida-mlpgen runs there, created in one step: ``mlpgen setup-computer``.

The cluster needs aiida-mlpgen installed in a Python environment (``--bin-dir``: the
folder holding ``mlpgen-fitsnap``, ``mlpgen-pacemaker``, ``mlpgen-nnp``,
``mlpgen-properties``); its own LAMMPS (``--lammps``, with ML-PACE / ML-HDNNP where the
cluster's build has them) and real n2p2 (``--n2p2-bin``, the folder of ``nnp-train``,
``nnp-scaling``, ``nnp-prune``) are optional. Module loads go in ``--prepend-text``.
Like :mod:`aiida_mlpgen.embedded`, every step is idempotent.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re

from aiida_mlpgen.embedded import SetupReport, codes, existing_code

#: The label of the real-n2p2 code (NnpCalculation runs nnp-scaling/prune/train beside it).
N2P2_CODE = ('n2p2', 'nnp-train', "n2p2's nnp-train (nnp-scaling and nnp-prune in the same folder)", 'mlpgen.n2p2')


@dataclasses.dataclass
class RemoteComputer:
    """What a cluster computer is made of; the defaults suit a SLURM cluster over SSH."""

    label: str
    hostname: str
    bin_dir: str
    username: str | None = None
    port: int = 22
    key_filename: str | None = None
    transport: str = 'core.ssh'
    scheduler: str = 'core.slurm'
    workdir: str = '/scratch/{username}/aiida'
    mpirun: str = 'srun -n {tot_num_mpiprocs}'
    mpiprocs_per_machine: int = 1
    prepend_text: str = ''
    lammps: str | None = None
    n2p2_bin: str | None = None
    safe_interval: float = 5.0
    poll_interval: float = 10.0
    proxy_command: str | None = None
    load_system_host_keys: bool = True

    def code_specs(self) -> list[tuple[str, str, str, str | None]]:
        """(label, absolute executable, description, default plugin) of each code to create."""
        specs = []
        for spec in (spec for spec in codes() if spec.ours):
            if spec.label == 'lammps':
                if self.lammps:
                    specs.append((spec.label, self.lammps, "the cluster's LAMMPS", spec.default_calc_job_plugin))
                continue
            specs.append(
                (
                    spec.label,
                    posixpath.join(self.bin_dir, spec.executable),
                    spec.description,
                    spec.default_calc_job_plugin,
                )
            )
        if self.n2p2_bin:
            label, executable, description, plugin = N2P2_CODE
            specs.append((label, posixpath.join(self.n2p2_bin, executable), description, plugin))
        return specs

    def check(self) -> None:
        """Refuse settings that cannot make a working computer, before anything is stored."""
        for name in ('bin_dir', 'workdir', 'lammps', 'n2p2_bin', 'key_filename'):
            value = getattr(self, name)
            if value and not value.startswith('/') and not (name == 'key_filename' and value.startswith('~')):
                raise ValueError(f'{name} must be an absolute path on the cluster, got {value!r}')
            if value and any(c in value for c in '\n\r\0'):
                raise ValueError(f'{name} must be a single line, got {value!r}')
        if not re.fullmatch(r'[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?', self.hostname or ''):
            raise ValueError(
                f'hostname must be a host name or address (letters, digits, . and -), got {self.hostname!r}'
            )
        if not re.fullmatch(r'[A-Za-z0-9][A-Za-z0-9_.\-]*', self.label or ''):
            raise ValueError(f'label must be letters, digits, _ . - (it names codes as CODE@LABEL), got {self.label!r}')
        for name in ('safe_interval', 'poll_interval'):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f'{name.replace("_", "-")} must be >= 0 seconds, got {getattr(self, name)}')
        if int(self.mpiprocs_per_machine) < 1:
            raise ValueError(f'mpiprocs-per-machine must be >= 1, got {self.mpiprocs_per_machine}')
        if not 1 <= int(self.port) <= 65535:
            raise ValueError(f'port must be 1-65535, got {self.port}')
        if '{tot_num_mpiprocs}' not in self.mpirun and 'srun' not in self.mpirun.split()[:1]:
            raise ValueError('mpirun must contain {tot_num_mpiprocs} (e.g. "mpirun -np {tot_num_mpiprocs}")')


def setup_remote(remote: RemoteComputer, report: SetupReport | None = None):
    """Create (or report) the computer, its configuration for the current user, and its codes.

    Returns ``(computer, codes)`` with ``codes`` a dict label -> InstalledCode.
    """
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    report = report if report is not None else SetupReport()
    remote.check()
    try:
        computer = orm.Computer.collection.get(label=remote.label)
        report.add(f'computer {remote.label}', False, f'{computer.transport_type}, {computer.scheduler_type}')
    except NotExistent:
        computer = orm.Computer(
            label=remote.label,
            hostname=remote.hostname,
            description=f'{remote.scheduler} cluster over {remote.transport}, created by mlpgen setup-computer',
            transport_type=remote.transport,
            scheduler_type=remote.scheduler,
            workdir=remote.workdir,
        )
        computer.set_mpirun_command(remote.mpirun.split())
        computer.set_default_mpiprocs_per_machine(remote.mpiprocs_per_machine)
        computer.set_prepend_text(remote.prepend_text)
        computer.store()
        computer.set_minimum_job_poll_interval(remote.poll_interval)
        report.add(f'computer {remote.label}', True, f'{remote.transport}, {remote.scheduler}')
    user = orm.User.collection.get_default()
    if not computer.is_user_configured(user):
        settings = {'safe_interval': remote.safe_interval}
        if remote.transport == 'core.ssh':
            settings.update(
                port=int(remote.port),
                look_for_keys=remote.key_filename is None,
                allow_agent=False,
                key_policy='AutoAddPolicy',
                load_system_host_keys=remote.load_system_host_keys,
                timeout=60,
            )
            if remote.key_filename:
                settings['key_filename'] = remote.key_filename
            if remote.username:
                settings['username'] = remote.username
            if remote.proxy_command:
                settings['proxy_command'] = remote.proxy_command
        elif remote.transport == 'core.ssh_async':
            host = f'{remote.username}@{remote.hostname}' if remote.username else remote.hostname
            settings.update(host=host)
        computer.configure(user=user, **settings)
        report.add(f'configuration of {remote.label} for {user.email}', True, remote.transport)
    else:
        report.add(f'configuration of {remote.label} for {user.email}', False)
    codes = {}
    for label, executable, description, plugin in remote.code_specs():
        found = existing_code(label, computer)
        if found is not None:
            codes[label] = found
            report.add(f'code {label}@{remote.label}', False, str(found.filepath_executable))
            continue
        codes[label] = orm.InstalledCode(
            label=label,
            description=description,
            computer=computer,
            filepath_executable=executable,
            default_calc_job_plugin=plugin,
        ).store()
        report.add(f'code {label}@{remote.label}', True, executable)
    return computer, codes
