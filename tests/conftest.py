"""Shared fixtures: the AiiDA test profile, the data in ../shared, node counting."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Tests never touch the user's AiiDA configuration: everything lives in a temporary AIIDA_PATH,
# one per pytest process, removed when that process ends (job folders of the local computer too).
os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='mlpgen-tests-aiida-')
atexit.register(shutil.rmtree, os.environ['AIIDA_PATH'], True)
os.environ.pop('AIIDA_PROFILE', None)

import pytest  # noqa: E402

pytest_plugins = ['aiida.tools.pytest_fixtures']

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
TA_JSON = SHARED / 'datasets' / 'Ta_JCP2014' / 'JSON'
MLEARN = SHARED / 'datasets' / 'mlearn'
TEST_DATA = Path(__file__).resolve().parent / 'data'
#: this environment's programs: mlpgen-fitsnap, mlpgen-pacemaker, mlpgen-nnp, mlpgen-properties, lmp
BIN = Path(sys.executable).parent
#: Tiny but real ACE fit: 10 functions, 5 Å cutoff, a handful of BFGS iterations.
TINY_ACE = {
    'cutoff': 5.0,
    'number_of_functions': 10,
    'min_iterations': 0,
    'max_iterations': 6,
    'display_step': 2,
    'min_relative_train_loss_change': 0.0,
    'min_relative_validation_loss_change': 0.0,
}
#: Small but real NNP: 2 epochs, 8-8 network, a reduced grid, 4.5 Å.
TINY_NNP = {
    'epochs': 2,
    'nodes_per_layer': 8,
    'cutoff': 4.5,
    'force_update_fraction': 0.02,
    'symmetry_functions': [
        {'kind': 'radial', 'mode': 'shifted', 'n_points': 5},
        {'kind': 'narrow_angular', 'mode': 'centered', 'r_low': 1.0, 'n_points': 2, 'zeta': [1, 4]},
    ],
}
ASE_TESTDATA = Path(__import__('ase').__file__).parent / 'test' / 'testdata'


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f'test data {path} is missing (../shared must sit beside the checkout)')
    return path


@pytest.fixture(scope='session')
def ta_json() -> Path:
    return require(TA_JSON)


@pytest.fixture(scope='session')
def mo_json() -> Path:
    return require(MLEARN / 'Mo' / 'training.json')


def copy_ta_groups(folder: Path, groups=('Displaced_BCC', 'Displaced_FCC')) -> Path:
    """FitSNAP groups of the Ta set copied under ``folder``/JSON (tests may alter them)."""
    target = Path(folder) / 'JSON'
    for group in groups:
        shutil.copytree(require(TA_JSON / group), target / group)
    return target


def run_fit(calc_class, training_set, code, **parameters):
    """``calc_class`` on ``training_set`` with ``code`` and ``parameters``: (results, node)."""
    from aiida import orm
    from aiida.engine import run_get_node

    return run_get_node(calc_class, training_set=training_set, code=code, parameters=orm.Dict(parameters))


@pytest.fixture
def ta_small(tmp_path) -> Path:
    """Two FitSNAP groups of the Ta set (18 structures), copied so tests may alter them."""
    return copy_ta_groups(tmp_path)


@pytest.fixture(scope='module')
def fitsnap_code():
    """mlpgen-fitsnap on the test localhost computer."""
    return local_code('fitsnap', BIN / 'mlpgen-fitsnap')


@pytest.fixture
def mo_slice(tmp_path) -> Path:
    """Ten structures of mlearn Mo, every group present."""
    import json

    records = json.loads(require(MLEARN / 'Mo' / 'training.json').read_text())
    chosen = [r for i, r in enumerate(records) if i % 20 == 0 or r['group'] == 'Surface'][:12]
    path = tmp_path / 'mo_slice.json'
    path.write_text(json.dumps(chosen))
    return path


@pytest.fixture
def count_nodes():
    """Number of nodes in the test profile's database."""
    from aiida import orm

    return lambda: orm.QueryBuilder().append(orm.Node).count()


@pytest.fixture
def mlpgen_cli(tmp_path):
    """Run the real ``mlpgen`` command in a fresh AIIDA_PATH (its own embedded profile)."""
    aiida_path = tmp_path / 'aiida_home'
    aiida_path.mkdir()
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in ('AIIDA_PROFILE', 'LD_LIBRARY_PATH')}
    env.update(AIIDA_PATH=str(aiida_path), PATH=f'{bin_dir}{os.pathsep}{env.get("PATH", "")}')

    def run(*args, check=True, program='mlpgen', timeout=600):
        result = subprocess.run(
            [str(bin_dir / program), *map(str, args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
        )
        if check and result.returncode != 0:
            raise AssertionError(f'{program} {args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}')
        return result

    run.env = env
    run.aiida_path = aiida_path
    return run


def local_code(label: str, executable, with_mpi: bool | None = None):
    """An InstalledCode for ``executable`` on a localhost computer of the test profile
    (core.local, core.direct, the mpich wheel's mpiexec), created once."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        computer = orm.Computer.collection.get(label='test-localhost')
    except NotExistent:
        computer = orm.Computer(
            label='test-localhost',
            hostname='localhost',
            transport_type='core.local',
            scheduler_type='core.direct',
            workdir=str(Path(os.environ['AIIDA_PATH']) / 'jobs'),
        ).store()
        computer.configure(safe_interval=0)
        computer.set_minimum_job_poll_interval(1.0)  # jobs of seconds: not the 10 s default
        computer.set_default_mpiprocs_per_machine(1)
        computer.set_mpirun_command([str(Path(sys.executable).parent / 'mpiexec'), '-n', '{tot_num_mpiprocs}'])
    return orm.InstalledCode(
        label=label, computer=computer, filepath_executable=str(executable), with_mpi=with_mpi
    ).store()


#: Debian's quantum-espresso (pw.x) and quantum-espresso-data (pseudopotentials), installed by
#: tests/install_services.sh; under CI their absence fails the tests that need them.
PW = shutil.which('pw.x')
PSEUDO_DIR = Path('/usr/share/espresso/pseudo')
#: small but real Quantum ESPRESSO settings for Si tests (norm-conserving rrkj PBE)
SI_QE = {'pseudo_family': 'test-qe-pbe', 'kpoints_spacing': 0.6, 'conv_thr_per_atom': 1e-8, 'max_iterations': 2}


def require_pw() -> None:
    if PW is None or not (PSEUDO_DIR / 'Si.pbe-rrkj.UPF').exists():
        if os.environ.get('CI') == 'true':
            pytest.fail('CI must run the Quantum ESPRESSO tests: pw.x or its pseudopotentials are missing')
        pytest.skip('pw.x (Debian quantum-espresso, quantum-espresso-data) is not installed')


@pytest.fixture(scope='module')
def qe_family():
    """An aiida-pseudo family of Debian's PBE pseudopotentials for Si, Ge and Cu, with small
    recommended cutoffs (Ry) that keep the tests fast."""
    require_pw()
    from aiida_mlpgen.labellers.pseudos import family_from_files

    files = [PSEUDO_DIR / name for name in ('Si.pbe-rrkj.UPF', 'Ge.pbe-kjpaw.UPF', 'Cu.pbe-kjpaw.UPF')]
    return family_from_files('test-qe-pbe', files, {'Si': (16.0, 64.0), 'Ge': (25.0, 200.0), 'Cu': (30.0, 240.0)})


@pytest.fixture(scope='module')
def pw_code():
    """pw.x on the localhost computer of the test profile, serial."""
    require_pw()
    return local_code('pw', PW, with_mpi=False)


@pytest.fixture(scope='module')
def properties_code():
    return local_code('properties', BIN / 'mlpgen-properties')
