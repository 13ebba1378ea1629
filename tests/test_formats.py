"""Every importer on real files, every exporter by round trip (same content hash)."""

import json
import shutil
import subprocess
import sys

import ase.io
import numpy as np
import pytest
from ase.units import GPa, Rydberg

from aiida_mlpgen.data.training_set import Frames, TrainingSetError, formats
from aiida_mlpgen.data.training_set.checks import check_frames

from .conftest import ASE_TESTDATA, TEST_DATA

BAR = 1e-4 * GPa


def test_fitsnap_json_tree_full_ta(ta_json):
    frames = formats.read(ta_json)
    assert len(frames) == 363
    assert len({f.group for f in frames}) == 12
    first = next(f for f in frames if f.source.endswith('Displaced_A15/A15_1.json'))
    raw = json.loads((ta_json / 'Displaced_A15' / 'A15_1.json').read_text().split('\n', 1)[1])['Dataset']['Data'][0]
    assert first.group == 'Displaced_A15'
    np.testing.assert_allclose(first.positions[0], [10.59872, 10.5966, 0.05505])
    assert first.energy == raw['Energy']
    # FitSNAP stress: bar, pressure sign -> eV/Å^3, tension sign
    assert first.stress[0, 0] == pytest.approx(-26594.42 * BAR)
    assert first.stress[0, 1] == pytest.approx(-1368.85 * BAR)
    np.testing.assert_allclose(first.forces, raw['Forces'])


def test_fitsnap_stress_sign_is_physical(ta_json):
    """Compressed BCC cells must be under compression (negative stress, tension positive)."""
    frames = formats.read(ta_json / 'Volume_BCC')
    volumes = np.array([abs(np.linalg.det(f.cell)) / len(f.numbers) for f in frames])
    pressure_like = np.array([np.trace(f.stress) / 3 for f in frames])
    assert pressure_like[np.argmin(volumes)] < 0 < pressure_like[np.argmax(volumes)]


def test_mlearn_json(mo_json):
    frames = formats.read(mo_json)
    assert len(frames) == 194
    assert {f.group for f in frames} == {'AIMD-NVT', 'Elastic', 'Surface', 'Vacancy'}
    assert {f.split for f in frames} == {'unassigned'}  # all tagged "train": no split information
    record = json.loads(mo_json.read_text())[0]
    virial = record['outputs']['virial_stress']  # kB, xx yy zz xy yz xz, pressure sign
    frame = frames[0]
    assert frame.energy == record['outputs']['energy']
    assert frame.stress[0, 0] == pytest.approx(-virial[0] * 0.1 * GPa)
    assert frame.stress[0, 1] == pytest.approx(-virial[3] * 0.1 * GPa)
    assert frame.stress[1, 2] == pytest.approx(-virial[4] * 0.1 * GPa)
    assert frame.stress[0, 2] == pytest.approx(-virial[5] * 0.1 * GPa)


def test_vasp_outcar_real_file():
    path = ASE_TESTDATA / 'vasp' / 'OUTCAR_example_1'
    frames = formats.read(path, 'vasp-out')
    reference = ase.io.read(path, index=-1, format='vasp-out')
    assert frames[-1].energy == pytest.approx(reference.get_potential_energy())
    np.testing.assert_allclose(frames[-1].forces, reference.get_forces())
    assert frames[-1].dft['cutoff_ev'] == 300.0
    assert frames[-1].dft['pseudopotentials'] == {'Ni': 'PAW_PBE Ni 02Aug2007'}
    assert formats.detect_format(path) == 'vasp-out'


def test_vasprun_real_file():
    path = ASE_TESTDATA / 'vasp' / 'vasprun_pstress.xml'
    frames = formats.read(path, 'vasp-xml')
    reference = ase.io.read(path, index=-1, format='vasp-xml')
    assert frames[-1].energy == pytest.approx(reference.get_potential_energy())
    np.testing.assert_allclose(frames[-1].stress.reshape(-1), reference.get_stress(voigt=False).reshape(-1))
    assert frames[-1].dft['code'] == 'VASP'
    assert frames[-1].dft['cutoff_ev'] > 0
    assert frames[-1].dft['pseudopotentials']


def test_espresso_output_real_file():
    frames = formats.read(TEST_DATA / 'qe' / 'si_a.pwo')
    assert len(frames) == 1
    frame = frames[0]
    assert frame.energy == pytest.approx(-15.55327213 * Rydberg, abs=1e-4)  # ASE and QE differ in the 6th digit of Ry
    assert frame.forces.shape == (2, 3)
    assert frame.stress is not None
    assert frame.dft == {
        'code': 'Quantum ESPRESSO',
        'cutoff_ev': pytest.approx(20 * Rydberg, abs=1e-4),
        'functional': 'SLA PW PBE PBE',
        'pseudopotentials': {'Si': 'Si.pbe-rrkj.UPF'},
    }


def test_pacemaker_pickle_made_by_pace_collect(tmp_path):
    """pacemaker's own ``pace_collect`` writes the pickle; we read it."""
    calc = tmp_path / 'calc'
    calc.mkdir()
    shutil.copy(ASE_TESTDATA / 'vasp' / 'OUTCAR_example_1', calc / 'OUTCAR')
    tool = shutil.which('pace_collect', path=str(__import__('pathlib').Path(sys.executable).parent))
    subprocess.run(
        [tool, '-wd', str(tmp_path), '--free-atom-energy', 'Ni:0'], check=True, cwd=tmp_path, capture_output=True
    )
    pickle = tmp_path / 'collected.pckl.gzip'
    frames = formats.read(pickle)
    reference = ase.io.read(calc / 'OUTCAR', index=-1, format='vasp-out')
    assert len(frames) == 1
    # pace_collect takes VASP's free energy (TOTEN)
    assert frames[0].energy == pytest.approx(reference.calc.results['free_energy'], abs=1e-6)
    np.testing.assert_allclose(frames[0].forces, reference.get_forces(), atol=1e-6)
    np.testing.assert_allclose(frames[0].stress.reshape(-1), reference.get_stress(voigt=False).reshape(-1), atol=1e-6)


def test_n2p2_input_data_atomic_units(tmp_path):
    path = tmp_path / 'input.data'
    path.write_text(
        'begin\ncomment two atoms\nlattice 10.0 0.0 0.0\nlattice 0.0 10.0 0.0\nlattice 0.0 0.0 10.0\n'
        'atom 0.0 0.0 0.0 Si 0.0 0.0 0.1 0.0 0.0\natom 4.0 0.0 0.0 Si 0.0 0.0 -0.1 0.0 0.0\n'
        'energy -7.5\ncharge 0.0\nend\n'
    )
    (frame,) = formats.read(path, 'n2p2', length_unit='bohr', energy_unit='hartree')
    assert frame.energy == pytest.approx(-7.5 * 27.211386, rel=1e-6)
    assert frame.cell[0, 0] == pytest.approx(5.2917721, rel=1e-6)
    assert frame.forces[0, 0] == pytest.approx(0.1 * 51.422067, rel=1e-6)


def test_ase_atoms_list_with_singlepoint():
    images = ase.io.read(ASE_TESTDATA / 'vasp' / 'OUTCAR_example_1', index=':', format='vasp-out')
    frames = formats.ase_files.frames_from_atoms(images, source='images')
    assert len(frames) == len(images)
    assert frames[0].energy == pytest.approx(images[0].get_potential_energy())


def _hash(frames):
    check_frames(frames)
    return Frames.from_frames(frames).content_hash()


@pytest.mark.parametrize('fmt', sorted(formats.WRITERS))
@pytest.mark.parametrize('dataset', ['ta_small', 'mo_slice'])
def test_round_trip_keeps_content_hash(fmt, dataset, request, tmp_path):
    source = request.getfixturevalue(dataset)
    original = formats.read(source)
    written = formats.write(Frames.from_frames(original), tmp_path / 'out', fmt)
    assert written and all(p.exists() for p in written)
    target = written[0] if fmt != 'fitsnap-json' else tmp_path / 'out'
    again = formats.read(target, fmt)
    assert len(again) == len(original)
    assert _hash(again) == _hash(original)
    assert sorted(f.group for f in again) == sorted(f.group for f in original)


def test_extxyz_export_is_read_by_ase(ta_small, tmp_path):
    frames = formats.read(ta_small)
    (path,) = formats.write(Frames.from_frames(frames), tmp_path, 'extxyz')
    images = ase.io.read(path, index=':')
    assert len(images) == len(frames)
    assert images[3].get_potential_energy() == frames[3].energy
    np.testing.assert_array_equal(images[3].get_forces(), frames[3].forces)


def test_unknown_format_is_rejected(ta_small):
    with pytest.raises(TrainingSetError, match='unknown format'):
        formats.read(ta_small, 'castep-magic')


@pytest.mark.parametrize('fmt', sorted(formats.WRITERS))
def test_round_trip_full_ta(fmt, ta_json, tmp_path):
    """The whole Ta set (363 structures, 12 groups) survives every exporter unchanged."""
    original = formats.read(ta_json)
    written = formats.write(Frames.from_frames(original), tmp_path / 'out', fmt)
    again = formats.read(written[0] if fmt != 'fitsnap-json' else tmp_path / 'out', fmt)
    assert _hash(again) == _hash(original)
