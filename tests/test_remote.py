"""Fits on a computer reached over SSH and scheduled by SLURM — real sshd, munge, slurmctld
and slurmd started by the fixture (tests/services.py) — and the faults on the way: a job
cancelled, the fitting process killed, the walltime exceeded, files that cannot be written,
a corrupt output file, the AiiDA daemon stopped mid-run. Also: shell metacharacters in
labels, parameters and group names, and caching of identical fits.

Where the services cannot start (no packages, not root) the module is skipped with the
reason; under CI (``CI=true``) that is a failure instead, so CI cannot skip them silently.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
from aiida_mlpgen.calculations.n2p2 import NnpCalculation
from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation
from aiida_mlpgen.computers import RemoteComputer, setup_remote
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData, TrainingSetError

from . import services
from .conftest import BIN, MLEARN, TA_JSON, TINY_ACE, TINY_NNP, copy_ta_groups, local_code, require

WHY = services.missing()
if WHY is not None and os.environ.get('CI') == 'true':
    raise RuntimeError(f'CI must run the SSH+SLURM tests: {WHY}')
pytestmark = [
    pytest.mark.remote,
    pytest.mark.slow,
    pytest.mark.skipif(WHY is not None, reason=f'SSH/SLURM services cannot start here: {WHY}'),
]

SNAP = {'twojmax': 4}
ACE = TINY_ACE
NNP = TINY_NNP


# ---- services and computers -----------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    running = services.start(tmp_path_factory.mktemp('cluster'))
    yield running
    running.stop()


def remote_settings(cluster, label='test-slurm') -> RemoteComputer:
    return RemoteComputer(
        label=label,
        hostname='127.0.0.1',
        bin_dir=str(BIN),
        username=cluster.user,
        port=cluster.ssh_port,
        key_filename=str(cluster.key),
        workdir=str(cluster.workdir),
        mpirun=f'{BIN / "mpiexec"} -n {{tot_num_mpiprocs}}',
        safe_interval=0,
        poll_interval=1,
        load_system_host_keys=False,
    )  # a new host key every run: trust it, keep none


@pytest.fixture(scope='module')
def slurm(cluster):
    """The codes on the SSH+SLURM computer of the test profile (made by setup_remote)."""
    _, codes = setup_remote(remote_settings(cluster))
    return codes


@pytest.fixture(scope='module')
def local():
    return {
        'fitsnap': local_code('fitsnap', BIN / 'mlpgen-fitsnap'),
        'pacemaker': local_code('pacemaker', BIN / 'mlpgen-pacemaker'),
        'nnp': local_code('nnp', BIN / 'mlpgen-nnp'),
    }


@pytest.fixture(scope='module')
def ta_set(tmp_path_factory):
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    target = copy_ta_groups(tmp_path_factory.mktemp('remote-ta'))
    return split_training_set(TrainingSetData.from_file(target).store(), orm.Float(0.25), orm.Int(1))


def mo_records(step: int):
    return json.loads(require(MLEARN / 'Mo' / 'training.json').read_text())[::step]


@pytest.fixture(scope='module')
def mo_set(tmp_path_factory):
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    path = tmp_path_factory.mktemp('remote-mo') / 'mo.json'
    path.write_text(json.dumps(mo_records(8)))
    return split_training_set(TrainingSetData.from_file(path).store(), orm.Float(0.2), orm.Int(3))


def flat(metrics: dict, prefix=''):
    """(key, number) pairs of a nested metrics dict."""
    for key, value in sorted(metrics.items()):
        if isinstance(value, dict):
            yield from flat(value, f'{prefix}{key}.')
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield f'{prefix}{key}', value


def assert_same_metrics(local_node, remote_node, rtol):
    a = dict(flat(local_node.outputs.metrics.get_dict()))
    b = dict(flat(remote_node.outputs.metrics.get_dict()))
    assert a.keys() == b.keys() and a
    for key, value in a.items():
        assert b[key] == pytest.approx(value, rel=rtol, abs=1e-12), key


def assert_ran_on_slurm(node, cluster):
    assert node.computer.label == 'test-slurm' and node.computer.scheduler_type == 'core.slurm'
    assert re.fullmatch(r'\d+', node.get_job_id() or ''), node.get_job_id()
    workdir = Path(node.outputs.remote_folder.get_remote_path())
    assert cluster.workdir in workdir.parents
    script = (workdir / '_aiidasubmit.sh').read_text()
    assert '#SBATCH --job-name=' in script and '#SBATCH --nodes=1' in script


FITS = {
    'snap': (FitsnapCalculation, 'fitsnap', 'ta_set', SNAP, 1e-9),
    'ace': (PacemakerCalculation, 'pacemaker', 'ta_set', ACE, 1e-6),
    'nnp': (NnpCalculation, 'nnp', 'mo_set', NNP, 1e-6),
}


@pytest.mark.parametrize('kind', list(FITS))
def test_fit_on_slurm_over_ssh_parses_like_localhost(kind, slurm, local, cluster, request):
    calc, code, data, parameters, rtol = FITS[kind]
    training_set = request.getfixturevalue(data)
    runs = {}
    for where, codes in (('local', local), ('slurm', slurm)):
        _, node = run_get_node(calc, training_set=training_set, code=codes[code], parameters=orm.Dict(parameters))
        assert node.is_finished_ok, (where, node.exit_status, node.exit_message)
        runs[where] = node
    assert_ran_on_slurm(runs['slurm'], cluster)
    assert_same_metrics(runs['local'], runs['slurm'], rtol)
    a, b = runs['local'].outputs.potential, runs['slurm'].outputs.potential
    assert a.lammps_lines() == b.lammps_lines() and a.elements == b.elements


def test_generator_on_slurm_matches_localhost(slurm, local, cluster, ta_set):
    from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

    nodes = {}
    for where, codes in (('local', local), ('slurm', slurm)):
        builder = MlpGeneratorWorkChain.get_builder_from_protocol(
            ta_set, 'snap', 'fast', code=codes['fitsnap'], overrides=SNAP
        )
        _, nodes[where] = run_get_node(builder)
        assert nodes[where].is_finished_ok, nodes[where].exit_message
    fits = [n for n in nodes['slurm'].called_descendants if isinstance(n, orm.CalcJobNode)]
    assert fits and all(f.computer.label == 'test-slurm' for f in fits)
    assert_ran_on_slurm(fits[0], cluster)
    assert_same_metrics(nodes['local'], nodes['slurm'], 1e-9)


# ---- faults ---------------------------------------------------------------------------------------------------
def slurm_jobs(cluster) -> list[tuple[str, str, str]]:
    """(job id, state, working directory) of every job SLURM knows now."""
    out = cluster.slurm('squeue', '-h', '-o', '%i|%T|%Z')
    return [tuple(line.split('|')) for line in out.splitlines() if line.strip()]


class Watcher(threading.Thread):
    """Waits (in a thread, touching no AiiDA storage) until a running job's folder holds
    files matching every pattern of ``wanted``, then acts on it. ``seen`` records the job id,
    ``error`` what went wrong."""

    def __init__(self, cluster, wanted: str | tuple, action, timeout=240):
        super().__init__(daemon=True)
        self.cluster, self.wanted, self.action, self.timeout = cluster, wanted, action, timeout
        self.seen, self.error = None, None

    def run(self):
        end = time.time() + self.timeout
        try:
            while time.time() < end:
                for job, state, workdir in slurm_jobs(self.cluster):
                    patterns = (self.wanted,) if isinstance(self.wanted, str) else self.wanted
                    if state == 'RUNNING' and all(list(Path(workdir).glob(p)) for p in patterns):
                        self.seen = job
                        self.action(job, Path(workdir))
                        return
                time.sleep(0.3)
            self.error = f'no running job with {self.wanted} within {self.timeout} s'
        except Exception as error:  # noqa: BLE001 - reported by the test
            self.error = repr(error)


def long_nnp(epochs: int) -> dict:
    return {**NNP, 'epochs': epochs, 'force_update_fraction': 0.1}


def nnp_base_builder(code, training_set, parameters, **options):
    from aiida_mlpgen.workflows.restart import N2p2BaseWorkChain

    builder = N2p2BaseWorkChain.get_builder()
    builder.fit.code = code
    builder.fit.training_set = training_set
    builder.fit.parameters = orm.Dict(parameters)
    builder.fit.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, **options}
    return builder


def potential_count():
    return orm.QueryBuilder().append(PotentialData).count()


def fits_of(workchain):
    return sorted((n for n in workchain.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.ctime)


def test_scancel_ends_in_named_exit_code_and_is_not_resubmitted(slurm, cluster, mo_set):
    watcher = Watcher(cluster, 'weights.*.000001.out', lambda job, _: cluster.slurm('scancel', job))
    watcher.start()
    before = potential_count()
    _, node = run_get_node(nnp_base_builder(slurm['nnp'], mo_set, long_nnp(400)))
    watcher.join()
    assert watcher.error is None, watcher.error
    assert node.exit_status == 305, node.exit_message  # the work chain: cancelled, not resubmitted
    fits = fits_of(node)
    assert len(fits) == 1 and fits[0].exit_status == 305 and fits[0].get_job_id() == watcher.seen
    assert 'CANCELLED AT' in fits[0].exit_message
    assert potential_count() == before  # nothing half-made


def kill_trainer(job, workdir: Path):
    """SIGKILL the NNP trainer process of the job (found by its working folder, not by name)."""
    import psutil

    for process in psutil.process_iter(['pid', 'cmdline', 'cwd']):
        cmdline = process.info['cmdline'] or []
        if process.info['cwd'] == str(workdir) and any('mlpgen-nnp' in part for part in cmdline) and 'train' in cmdline:
            process.kill()
            return
    raise RuntimeError(f'no trainer process in {workdir}')


def test_killed_trainer_restarts_from_its_last_weights(slurm, cluster, mo_set):
    watcher = Watcher(cluster, 'weights.*.000002.out', kill_trainer)
    watcher.start()
    total = 8
    _, node = run_get_node(nnp_base_builder(slurm['nnp'], mo_set, long_nnp(total)))
    watcher.join()
    assert watcher.error is None, watcher.error
    assert node.is_finished_ok, node.exit_message
    first, second = fits_of(node)
    assert first.exit_status == 306 and 'Killed' in first.exit_message
    done = max(
        int(m.group(1))
        for n in first.outputs.retrieved.base.repository.list_object_names()
        if (m := re.fullmatch(r'weights\.\d{3}\.(\d{6})\.out', n))
    )
    assert done >= 2
    assert second.inputs.parameters['epochs'] == total - done
    weights = second.inputs.restart_folder.base.repository.list_object_names()
    assert any(re.fullmatch(r'weights\.\d{3}\.data', n) for n in weights)  # continued, not started afresh
    assert 'potential' in node.outputs


def test_walltime_on_slurm_continues_from_the_weights(slurm, cluster, mo_set):
    """SLURM's own time limit (1 minute, its smallest) kills the training; the restart starts
    from the weights of the last epoch done (its folder holds them as weights.ZZZ.data) and
    is cancelled here once it runs, to keep the test short."""
    watcher = Watcher(
        cluster, ('weights.*.data', 'weights.*.000001.out'), lambda job, _: cluster.slurm('scancel', job), timeout=300
    )
    watcher.start()
    total = 2000
    _, node = run_get_node(nnp_base_builder(slurm['nnp'], mo_set, long_nnp(total), max_wallclock_seconds=60))
    watcher.join()
    assert watcher.error is None, watcher.error
    first, second = fits_of(node)
    assert first.exit_status == 120, first.exit_message
    # the progress monitor read the job's progress file over SSH while it ran
    assert re.fullmatch(
        r'epoch \d+/2000, E RMSE .* \((validation|training)\)(, ETA .*)?', first.base.extras.get('mlpgen_progress')
    )
    stderr = first.outputs.retrieved.base.repository.get_object_content('_scheduler-stderr.txt')
    assert 'DUE TO TIME LIMIT' in stderr
    done = max(
        int(m.group(1))
        for n in first.outputs.retrieved.base.repository.list_object_names()
        if (m := re.fullmatch(r'weights\.\d{3}\.(\d{6})\.out', n))
    )
    assert 'restart_folder' in second.inputs and second.inputs.parameters['epochs'] == total - done
    assert second.get_job_id() == watcher.seen, (second.get_job_id(), watcher.seen)
    assert node.exit_status == 305, [(f.exit_status, f.exit_message) for f in fits_of(node)]


def test_disk_write_failure_has_exit_code_and_no_potential(slurm, ta_set):
    from aiida_mlpgen.workflows.restart import FitsnapBaseWorkChain

    before = potential_count()
    builder = FitsnapBaseWorkChain.get_builder()
    builder.fit.code, builder.fit.training_set, builder.fit.parameters = slurm['fitsnap'], ta_set, orm.Dict(SNAP)
    # The job's shell may write at most 64 KiB per file: FitSNAP's outputs are larger.
    builder.fit.metadata.options = {
        'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
        'prepend_text': 'ulimit -f 64',
    }
    _, node = run_get_node(builder)
    assert node.exit_status == 307, node.exit_message
    (fit,) = fits_of(node)
    assert fit.exit_status == 307 and re.search(r'File too large|File size limit exceeded', fit.exit_message)
    assert potential_count() == before


CORRUPTIONS = {
    'snap-truncated': ('fitsnap', 'truncate -s 120 mlpgen_pot.snapcoeff', 302),
    'snap-binary': ('fitsnap', 'head -c 300 /dev/urandom > mlpgen_pot.snapcoeff', 302),
    'nnp-weights': ('nnp', 'for f in weights.*.out; do head -c 50 "$f" > "$f.cut"; mv "$f.cut" "$f"; done', 302),
}


@pytest.mark.parametrize('case', list(CORRUPTIONS))
def test_corrupt_output_file_has_exit_code_and_no_potential(case, slurm, ta_set, mo_set):
    """The real code runs; the job's last shell line then damages its output on the cluster."""
    code, damage, status = CORRUPTIONS[case]
    calc, data, parameters = (FitsnapCalculation, ta_set, SNAP) if code == 'fitsnap' else (NnpCalculation, mo_set, NNP)
    before = potential_count()
    _, node = run_get_node(
        calc,
        training_set=data,
        code=slurm[code],
        parameters=orm.Dict(parameters),
        metadata={'options': {'append_text': damage}},
    )
    assert node.exit_status == status, node.exit_message
    assert 'potential' not in node.outputs and potential_count() == before


# ---- the AiiDA daemon interrupted and resumed ------------------------------------------------------------------
SUBMIT = """
import json, sys
from aiida import load_profile, orm
from aiida.engine import submit
from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
load_profile()
builder = FitsnapCalculation.get_builder()
builder.code = orm.load_code('fitsnap@cluster')
builder.training_set = orm.load_node(int(sys.argv[1]))
builder.parameters = orm.Dict(json.loads(sys.argv[2]))
builder.metadata.options.prepend_text = 'sleep 15'
print(submit(builder).pk)
"""

STATE = """
import sys
from aiida import load_profile, orm
load_profile()
node = orm.load_node(int(sys.argv[1]))
print(node.process_state.value if node.process_state else 'none', node.exit_status, node.get_job_id(),
      node.get_scheduler_state(), 'potential' in node.outputs)
"""


def test_daemon_stopped_mid_job_resumes_without_resubmitting(mlpgen_cli, cluster, ta_small):
    """Through the CLI: `mlpgen setup-computer`, import, submit to the daemon; the daemon is
    stopped while SLURM runs the job and started again; the same job's results are parsed."""
    s = remote_settings(cluster, 'cluster')
    out = mlpgen_cli(
        'setup-computer',
        'cluster',
        '--hostname',
        s.hostname,
        '--port',
        s.port,
        '--username',
        s.username,
        '--key-filename',
        s.key_filename,
        '--bin-dir',
        s.bin_dir,
        '--workdir',
        s.workdir,
        '--mpirun',
        s.mpirun,
        '--safe-interval',
        0,
        '--poll-interval',
        1,
    ).stdout
    assert 'created  code fitsnap@cluster' in out and 'created  computer cluster' in out
    assert (
        'nothing to do'
        in mlpgen_cli(
            'setup-computer', 'cluster', '--hostname', s.hostname, '--bin-dir', s.bin_dir, '--workdir', s.workdir
        ).stdout
    )
    imported = mlpgen_cli('import', ta_small).stdout
    pk = re.search(r'TrainingSetData<(\d+)>', imported).group(1)

    def state():
        return mlpgen_cli('-c', STATE, calc, program='python').stdout.split()

    try:
        mlpgen_cli('daemon', 'start', '1', program='verdi')
        calc = mlpgen_cli('-c', SUBMIT, pk, json.dumps(SNAP), program='python').stdout.split()[-1]
        end = time.time() + 120
        while time.time() < end and not [j for j in slurm_jobs(cluster) if j[1] == 'RUNNING']:
            time.sleep(0.5)
        running = [j for j in slurm_jobs(cluster) if j[1] == 'RUNNING']
        assert running, state()
        job = running[0][0]
        mlpgen_cli('daemon', 'stop', program='verdi')  # the process is interrupted while its job runs
        interrupted = state()
        assert interrupted[0] == 'waiting' and interrupted[2] == job, interrupted
        end = time.time() + 120  # the job finishes while nobody watches it
        while time.time() < end and any(j[0] == job for j in slurm_jobs(cluster)):
            time.sleep(0.5)
        mlpgen_cli('daemon', 'start', '1', program='verdi')
        end = time.time() + 180
        while time.time() < end and state()[0] not in ('finished', 'excepted', 'killed'):
            time.sleep(1)
        final = state()
    finally:
        mlpgen_cli('daemon', 'stop', program='verdi', check=False)
    assert final[:3] == ['finished', '0', job], final  # the same SLURM job, parsed after the resume
    assert final[4] == 'True'


# ---- security --------------------------------------------------------------------------------------------------
def hostile(canary: Path) -> list[str]:
    """Strings that would run a command, or write outside the job's folder, if they reached a
    shell or a path unquoted; each would create ``canary``."""
    return [
        f'$(touch {canary})',
        f'`touch {canary}`',
        f"'; touch {canary}; '",
        f'"; touch {canary}; "',
        f'a\ntouch {canary}',
        f'../../{canary.name}',
        f'x && touch {canary} #',
    ]


def test_shell_metacharacters_never_reach_a_shell_or_a_path(slurm, cluster, tmp_path, count_nodes):
    canary = tmp_path / 'PWNED'
    strings = hostile(canary)
    frames = TrainingSetData.from_file(require(TA_JSON / 'Displaced_BCC')).get_frame_list()
    for hostile_group in strings:  # a group name is data an exporter writes: refused at the door (issue 17)
        frames[1].group = hostile_group
        with pytest.raises(TrainingSetError, match='group name'):
            TrainingSetData(frames)
    groups = [f'group{i % 3}' for i in range(len(frames))]
    for frame, group in zip(frames, groups, strict=True):
        frame.group = group
    training_set = TrainingSetData(frames, label=strings[0], description=strings[3]).store()
    for calc, code, parameters in ((FitsnapCalculation, 'fitsnap', SNAP), (NnpCalculation, 'nnp', NNP)):
        _, node = run_get_node(
            calc,
            training_set=training_set,
            code=slurm[code],
            parameters=orm.Dict(parameters),
            metadata={'label': strings[1], 'description': strings[4]},
        )
        assert node.is_finished_ok, node.exit_message
        assert not canary.exists() and not list(cluster.workdir.parent.glob('PWNED'))
        energy = node.outputs.metrics['energy']
        per_group = {g for split in energy.values() for g in split['groups']}
        assert per_group == set(groups)
    # A newline inside a string parameter would add keywords to an input file: refused.
    before = count_nodes()
    for calc, code, data, key in (
        (FitsnapCalculation, 'fitsnap', training_set, 'solver'),
        (NnpCalculation, 'nnp', training_set, 'activation'),
    ):
        with pytest.raises(ValueError, match='newline'):
            run_get_node(
                calc, training_set=data, code=slurm[code], parameters=orm.Dict({key: f'svd\n[EXTRAS]\ntouch {canary}'})
            )
    assert count_nodes() == before and not canary.exists()


# ---- caching ---------------------------------------------------------------------------------------------------
def test_identical_fit_is_a_cache_hit(local, ta_set):
    from aiida.manage.caching import enable_caching

    with enable_caching(identifier='aiida.calculations:mlpgen.*'):
        _, first = run_get_node(
            FitsnapCalculation, training_set=ta_set, code=local['fitsnap'], parameters=orm.Dict({'twojmax': 2})
        )
        _, second = run_get_node(
            FitsnapCalculation, training_set=ta_set, code=local['fitsnap'], parameters=orm.Dict({'twojmax': 2})
        )
    assert first.is_finished_ok and second.is_finished_ok
    assert second.base.caching.get_cache_source() == first.uuid
    assert second.outputs.metrics.get_dict() == first.outputs.metrics.get_dict()
    assert not first.base.caching.is_created_from_cache


def test_embedded_profile_caches_fits(mlpgen_cli):
    mlpgen_cli('setup')
    out = mlpgen_cli('config', 'get', 'caching.enabled_for', program='verdi').stdout
    for plugin in ('mlpgen.fitsnap', 'mlpgen.pacemaker', 'mlpgen.n2p2'):
        assert f'aiida.calculations:{plugin}' in out


def test_dft_labelling_on_slurm_gives_the_numbers_of_localhost(slurm, cluster, qe_family, pw_code):
    """The same structures labelled by pw.x on localhost and on the SSH+SLURM computer: the
    same energies, forces and stresses (issue 18)."""
    from ase.build import bulk

    from aiida_mlpgen.workflows.labelling import LabelWorkChain

    from .conftest import PW, SI_QE

    remote_pw = orm.InstalledCode(
        label='pw', computer=slurm['fitsnap'].computer, filepath_executable=PW, with_mpi=False
    ).store()
    atoms = bulk('Si')
    rattled = atoms.copy()
    rattled.rattle(0.05, seed=2)
    strained = atoms.copy()
    strained.set_cell(atoms.cell[:] * 1.02, scale_atoms=True)
    structures = {
        name: orm.StructureData(ase=a) for name, a in (('ground', atoms), ('rattled', rattled), ('strained', strained))
    }
    sets = []
    for code in (pw_code, remote_pw):
        results, node = run_get_node(
            LabelWorkChain,
            structures=structures,
            labeller=orm.Str('quantumespresso'),
            code=code,
            settings=orm.Dict(SI_QE),
        )
        assert node.is_finished_ok, node.exit_message
        assert results['failed'].get_list() == []
        sets.append(results['training_set'].get_frames())
    here, there = sets
    assert np.allclose(here.energies, there.energies, rtol=0, atol=1e-6)
    assert np.allclose(here.forces, there.forces, rtol=0, atol=1e-5)
    assert np.allclose(here.stress, there.stress, rtol=0, atol=1e-7)
    assert np.ptp(here.energies) > 0.01  # three different structures
