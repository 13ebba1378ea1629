"""``setup_remote`` / ``mlpgen setup-computer``: what a cluster computer is made of, refused
settings, idempotence (no services needed; the SSH+SLURM runs are in test_remote.py)."""

import pytest
from aiida import orm

from aiida_mlpgen.computers import RemoteComputer, setup_remote


def cluster(label, **changes):
    settings = dict(
        label=label,
        hostname='login.example.org',
        bin_dir='/home/u/env/bin',
        username='u',
        workdir='/scratch/u/aiida',
        prepend_text='module load gcc openmpi',
        lammps='/opt/lammps/bin/lmp',
        n2p2_bin='/opt/n2p2/bin',
        mpiprocs_per_machine=32,
    )
    settings.update(changes)
    return RemoteComputer(**settings)


def test_computer_and_codes_as_a_cluster_needs_them():
    computer, codes = setup_remote(cluster('hpc'))
    assert (computer.transport_type, computer.scheduler_type) == ('core.ssh', 'core.slurm')
    assert computer.get_mpirun_command() == ['srun', '-n', '{tot_num_mpiprocs}']
    assert computer.get_prepend_text() == 'module load gcc openmpi'
    assert computer.get_default_mpiprocs_per_machine() == 32
    assert computer.get_configuration()['username'] == 'u'
    paths = {label: str(code.filepath_executable) for label, code in codes.items()}
    assert paths == {
        'fitsnap': '/home/u/env/bin/mlpgen-fitsnap',
        'pacemaker': '/home/u/env/bin/mlpgen-pacemaker',
        'nnp': '/home/u/env/bin/mlpgen-nnp',
        'properties': '/home/u/env/bin/mlpgen-properties',
        'lammps': '/opt/lammps/bin/lmp',
        'n2p2': '/opt/n2p2/bin/nnp-train',
    }
    assert codes['n2p2'].default_calc_job_plugin == 'mlpgen.n2p2'
    _, again = setup_remote(cluster('hpc'))  # idempotent: the same nodes
    assert {k: c.pk for k, c in again.items()} == {k: c.pk for k, c in codes.items()}


@pytest.mark.parametrize(
    'changes, message',
    [
        ({'bin_dir': 'env/bin'}, 'bin_dir must be an absolute path'),
        ({'workdir': 'scratch'}, 'workdir must be an absolute path'),
        ({'n2p2_bin': '/opt/n2p2\n/bin'}, 'single line'),
        ({'port': 0}, 'port must be'),
        ({'mpirun': 'mpirun'}, 'tot_num_mpiprocs'),
    ],
)
def test_unusable_settings_are_refused_before_anything_is_stored(changes, message, count_nodes):
    computers = orm.QueryBuilder().append(orm.Computer).count()
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        setup_remote(cluster('bad', **changes))
    assert orm.QueryBuilder().append(orm.Computer).count() == computers and count_nodes() == before


def test_cli_refuses_a_relative_bin_dir(mlpgen_cli):
    done = mlpgen_cli('setup-computer', 'c', '--hostname', 'h', '--bin-dir', 'relative/bin', check=False)
    assert done.returncode != 0 and 'bin_dir must be an absolute path' in done.stderr
