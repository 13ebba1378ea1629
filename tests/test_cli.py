"""The ``mlpgen`` command in a fresh AIIDA_PATH: embedded setup, daemon, import/show/export, demo."""

import re
import textwrap
import time

import pytest

pytestmark = [pytest.mark.slow]


def _hash(show_output: str) -> str:
    return re.search(r'content hash\s+([0-9a-f]{64})', show_output).group(1)


def test_setup_is_idempotent_and_uses_sqlite_zeromq(mlpgen_cli):
    first = mlpgen_cli('setup').stdout
    assert 'created  profile mlpgen  (storage core.sqlite_dos, broker core.zeromq)' in first
    assert 'created  computer localhost' in first
    for code in ('fitsnap', 'pacemaker', 'lammps'):
        assert f'created  code {code}@localhost' in first
    second = mlpgen_cli('setup').stdout
    assert 'created' not in second.replace('created 0', '')
    assert 'nothing to do: everything exists' in second
    status = mlpgen_cli('status', program='verdi', check=False).stdout
    assert 'SqliteDosStorage' in status
    assert 'RabbitMQ' not in status and 'rabbitmq' not in status
    config = (mlpgen_cli.aiida_path / '.aiida' / 'config.json').read_text()
    assert '"core.zeromq"' in config and '"core.sqlite_dos"' in config


def test_codes_run_without_ld_library_path(mlpgen_cli):
    """The codes made by setup start with LD_LIBRARY_PATH unset (lmp needs libmpi.so.12 of mpich)."""
    mlpgen_cli('setup')
    script = textwrap.dedent("""
        import subprocess
        from aiida import load_profile, orm
        load_profile()
        for label, args in (('lammps', ['-h']), ('fitsnap', ['--version']), ('pacemaker', ['--help']),
                            ('nnp', ['--help'])):
            exe = str(orm.load_code(f'{label}@localhost').filepath_executable)
            done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)
            print(label, done.returncode, (done.stdout + done.stderr).replace('\\n', ' ')[:300])
        from aiida_mlpgen.common.mpi import import_lammps
        lmp = import_lammps().lammps(cmdargs=['-log', 'none', '-screen', 'none'])
        print('snap', lmp.has_style('pair', 'snap'), 'pace', lmp.has_style('pair', 'pace'))
    """)
    out = mlpgen_cli('-c', script, program='python').stdout
    assert 'lammps 0' in out and 'Large-scale Atomic/Molecular Massively Parallel Simulator' in out
    assert 'fitsnap 0 fitsnap3 3.1.0.4' in out
    assert 'pacemaker 0' in out
    assert 'nnp 0 usage: mlpgen-nnp' in out
    assert 'snap True pace False' in out
    assert 'LD_LIBRARY_PATH' not in mlpgen_cli.env


def test_daemon_runs_a_submitted_calcjob(mlpgen_cli):
    mlpgen_cli('setup')
    mlpgen_cli('daemon', 'start', program='verdi')
    try:
        script = textwrap.dedent("""
            from aiida import load_profile, orm
            from aiida.engine import submit
            from aiida.plugins import CalculationFactory
            load_profile()
            code = orm.InstalledCode(label='bash', computer=orm.load_computer('localhost'),
                                     filepath_executable='/bin/bash').store()
            node = submit(CalculationFactory('core.arithmetic.add'), code=code, x=orm.Int(20), y=orm.Int(22))
            print(node.pk)
        """)
        pk = int(mlpgen_cli('-c', script, program='python').stdout.split()[-1])
        check = textwrap.dedent(f"""
            from aiida import load_profile, orm
            load_profile()
            node = orm.load_node({pk})
            print(node.is_finished_ok, node.outputs.sum.value if node.is_finished_ok else node.process_state)
        """)
        deadline = time.time() + 120
        while time.time() < deadline:
            out = mlpgen_cli('-c', check, program='python').stdout.strip()
            if out.startswith('True'):
                break
            time.sleep(2)
        assert out == 'True 42'
    finally:
        mlpgen_cli('daemon', 'stop', program='verdi', check=False)


def test_import_show_export_round_trip(mlpgen_cli, ta_json, mo_json, tmp_path):
    out = mlpgen_cli('import', ta_json, '--label', 'Ta').stdout
    assert 'Imported TrainingSetData' in out and '363 structures' in out and '12 groups' in out
    out = mlpgen_cli('import', mo_json, '--label', 'Mo').stdout
    assert '194 structures' in out and 'elements Mo,' in out
    listing = mlpgen_cli('list').stdout
    assert re.search(r'Ta\s+363\s+4224\s+Ta\s+12', listing)
    assert re.search(r'Mo\s+194\s+10087\s+Mo\s+4', listing)
    shown = mlpgen_cli('show', 'Mo').stdout
    assert 'AIMD-NVT (108)' in shown and 'train 0, validation 0, unassigned 194' in shown
    original = _hash(mlpgen_cli('show', 'Ta').stdout)
    for fmt in ('fitsnap-json', 'n2p2'):  # every format: test_formats.py::test_round_trip_full_ta
        target = tmp_path / f'export_{fmt}'
        mlpgen_cli('export', 'Ta', target, '--format', fmt)
        path = target if fmt == 'fitsnap-json' else next(p for p in target.iterdir())
        mlpgen_cli('import', path, '--format', fmt, '--label', f'again-{fmt}')
        assert _hash(mlpgen_cli('show', f'again-{fmt}').stdout) == original, fmt


def test_bad_import_fails_cleanly(mlpgen_cli, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(
        '[{"structure": {"lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]}, '
        '"sites": [{"species": [{"element": "Qq"}], "xyz": [0,0,0]}]}, "outputs": {"energy": -1.0}}]'
    )
    result = mlpgen_cli('import', bad, check=False)
    assert result.returncode != 0
    assert "bad.json#0: unknown element symbol 'Qq'" in result.stderr
    assert 'No training set yet' in mlpgen_cli('list').stdout


@pytest.mark.timeout(300)
def test_demo_runs_end_to_end(mlpgen_cli):
    result = mlpgen_cli('demo')
    out = result.stdout
    assert 'created  profile mlpgen' in out
    assert 'structures' in out and '39' in out
    assert "{'unassigned': 0, 'train'" in out
    assert 'verdi node graph generate' in out
    exported = mlpgen_cli.aiida_path.parent / 'mlpgen_demo_output'
    assert (exported / 'n2p2' / 'input.data').exists()
    assert (exported / 'pacemaker' / 'training_set.pckl.gzip').exists()
    pk = re.search(r'<- TrainingSetData<(\d+)> <- split_training_set', out).group(1)
    assert re.search(
        rf'TrainingSetData<{pk}> <- split_training_set<\d+> <- TrainingSetData<\d+> '
        r'<- Mo_mlearn_slice',
        out,
    )
    assert re.search(rf'SnapPotentialData<\d+> <- FitsnapCalculation<\d+> <- TrainingSetData<{pk}>', out)
    energy = re.search(r'energy \[eV/atom\], validation.*\n-+.*\nALL\s+(\d+)\s+(\S+)', out)
    assert int(energy.group(1)) >= 3 and float(energy.group(2)) < 0.05  # held-out energy RMSE below 50 meV/atom
    snap_dir = exported / 'snap'
    assert len(list(snap_dir.glob('*.png'))) == 8
    assert (snap_dir / 'lammps' / 'potential.mod').read_text().count('pair_coeff * * ') == 1
    shown = mlpgen_cli('node', 'show', pk, program='verdi').stdout
    assert 'TrainingSetData' in shown


def test_fit_snap_rejects_bad_parameters_before_running(mlpgen_cli, mo_slice):
    mlpgen_cli('import', mo_slice, '--label', 'mo')
    for params, message in (
        (['-p', 'twojmax=5'], 'twojmax must be even'),
        (['-p', 'solver=CG'], 'unknown solver'),
        (['-p', 'elements.Ta.radelem=0.4'], "elements ['Ta'] are not in the training set"),
        (['-p', 'fit.energy=off', '-p', 'fit.forces=off', '-p', 'fit.stress=off'], 'all fit terms are off'),
        (['-p', 'rcutfac'], 'is not key=value'),
    ):
        result = mlpgen_cli('fit', 'snap', 'mo', *params, check=False)
        assert result.returncode != 0
        assert message in result.stderr, result.stderr
    assert 'Total results: 0' in mlpgen_cli('process', 'list', '-a', program='verdi').stdout


def test_potential_import_legacy_snap(mlpgen_cli):
    from .conftest import SHARED

    folder = SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / 'snap'
    out = mlpgen_cli(
        'potential', 'import', 'snap', folder / 'SNAPotential.snapcoeff', folder / 'SNAPotential.snapparam'
    ).stdout
    assert 'elements Mo, cutoff 4.600 Å' in out
    assert 'pair_coeff * * potential.snapcoeff potential.snapparam Mo' in out
    broken = mlpgen_cli.aiida_path / 'broken.snapparam'
    broken.write_text('twojmax 6\n')
    result = mlpgen_cli('potential', 'import', 'snap', folder / 'SNAPotential.snapcoeff', broken, check=False)
    assert result.returncode != 0 and "missing required key(s) ['rcutfac']" in result.stderr
    # what each type takes comes from the type: one file too few, an option of another type, an unknown type
    for args, message in (
        ((folder / 'SNAPotential.snapcoeff',), 'snap: takes two files: COEFF PARAM'),
        (
            (folder / 'SNAPotential.snapcoeff', folder / 'SNAPotential.snapparam', '--epoch', '3'),
            '--epoch does not apply to snap',
        ),
        ((folder / 'SNAPotential.snapcoeff',), "'gap' is not one of "),
    ):
        kind = 'gap' if 'gap' in message else 'snap'
        result = mlpgen_cli('potential', 'import', kind, *args, check=False)
        assert result.returncode != 0 and message in result.stderr, result.stderr
    assert 'nnp DIR' in mlpgen_cli('potential', 'types').stdout


def test_fit_ace_and_import_its_potential(mlpgen_cli, ta_small):
    mlpgen_cli('import', ta_small / 'Displaced_FCC', '--label', 'fcc')
    out = mlpgen_cli(
        'fit',
        'ace',
        'fcc',
        '-p',
        'cutoff=5.0',
        '-p',
        'number_of_functions=8',
        '-p',
        'max_iterations=3',
        '-p',
        'min_iterations=0',
        '-p',
        'validation_fraction=0.2',
        '--output',
        'ace_out',
    ).stdout
    assert 'aiida-mlpgen ACE fit report' in out and 'pair_style pace' in out
    assert 'evaluator: tensorpot' in out and 'iterations: 3' in out  # the default evaluator, no -p needed
    train_rmse = float(re.search(r'^forces \[eV/Å\], train.*\n.*\nALL\s+\d+\s+(\S+)', out, re.M).group(1))
    assert 0 < train_rmse < 1.0
    folder = mlpgen_cli.aiida_path.parent / 'ace_out'
    assert (folder / 'learning-curve.png').exists() and (folder / 'lammps' / 'potential.yace').exists()
    imported = mlpgen_cli('potential', 'import', 'ace', folder / 'lammps' / 'potential.yaml').stdout
    assert 'Imported AcePotentialData' in imported and 'elements Ta, cutoff 5.000 Å' in imported
    listing = mlpgen_cli('potential', 'list').stdout
    assert re.search(r'AcePotentialData\s+Ta\s+5\.000\s+PacemakerCalculation<\d+>', listing)
    assert re.search(r'AcePotentialData\s+Ta\s+5\.000\s+imported', listing)
    bad = mlpgen_cli('fit', 'ace', 'fcc', '-p', 'cutoff=-1', check=False)
    assert bad.returncode != 0 and 'cutoff must be > 0' in bad.stderr


def test_fit_nnp_and_import_its_potential(mlpgen_cli, ta_small):
    mlpgen_cli('import', ta_small / 'Displaced_FCC', '--label', 'fcc')
    out = mlpgen_cli(
        'fit',
        'nnp',
        'fcc',
        '-p',
        'epochs=2',
        '-p',
        'nodes_per_layer=6',
        '-p',
        'cutoff=4.5',
        '-p',
        'validation_fraction=0.2',
        '--output',
        'nnp_out',
    ).stdout
    assert 'aiida-mlpgen NNP fit report' in out and 'pair_style hdnnp 4.5 dir' in out
    assert 'optimum epoch (lowest validation error)' in out
    folder = mlpgen_cli.aiida_path.parent / 'nnp_out'
    assert (folder / 'learning-curve.png').exists() and (folder / 'lammps' / 'weights.073.data').exists()
    mod = (folder / 'lammps' / 'potential.mod').read_text()
    assert f'dir {(folder / "lammps").resolve()} ' in mod and 'pair_coeff * * Ta' in mod
    imported = mlpgen_cli('potential', 'import', 'nnp', folder / 'lammps').stdout
    assert 'Imported NnpPotentialData' in imported and 'elements Ta, cutoff 4.500 Å' in imported
    listing = mlpgen_cli('potential', 'list').stdout
    assert re.search(r'NnpPotentialData\s+Ta\s+4\.500\s+NnpCalculation<\d+>', listing)
    bad = mlpgen_cli('fit', 'nnp', 'fcc', '-p', 'nodes_per_layer=0', check=False)
    assert bad.returncode != 0 and 'nodes_per_layer must be >= 1' in bad.stderr


def test_fit_snap_optimization_arguments_are_checked(mlpgen_cli, ta_small):
    """(A whole `mlpgen fit snap --optimize` runs in tests/test_production.py, submitted.)"""
    mlpgen_cli('import', ta_small, '--label', 'ta')
    defaults = mlpgen_cli('fit', 'snap', 'ta', '--optimize', '--budget', '5', check=False)  # rcutfac, wj, fit.forces
    assert defaults.returncode != 0 and 'a budget of 5 is too small for 3 variables' in defaults.stderr
    bad = mlpgen_cli('fit', 'snap', 'ta', '--optimize', 'twojmax', check=False)
    assert bad.returncode != 0 and 'cannot be optimised' in bad.stderr
    alone = mlpgen_cli('fit', 'snap', 'ta', '--folds', '3', check=False)
    assert alone.returncode != 0 and '--folds, --choice and --no-refit go with --optimize' in alone.stderr
    odd = mlpgen_cli('fit', 'snap', 'ta', '--optimize', 'rcutfac', '--choice', 'twojmax=4,5', check=False)
    assert odd.returncode != 0 and 'choices twojmax=5: twojmax must be even' in odd.stderr
