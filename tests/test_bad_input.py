"""Bad training data: a clear error naming file and structure, and nothing stored."""

import json
import shutil
import warnings

import pytest

from aiida_mlpgen.data import TrainingSetData, TrainingSetError
from aiida_mlpgen.data.training_set import TrainingSetWarning

from .conftest import ASE_TESTDATA, TEST_DATA

BCC1 = 'Displaced_BCC/BCC_1.json'


def _edit_fitsnap(path, change):
    """Apply ``change(record, dataset)`` to the FitSNAP JSON file ``path``."""
    header, body = path.read_text().split('\n', 1)
    payload = json.loads(body)
    change(payload['Dataset']['Data'][0], payload['Dataset'])
    path.write_text(header + '\n' + json.dumps(payload))


def _set(key, value):
    def change(record, dataset):
        record[key] = value

    return change


def _drop(key):
    return lambda record, dataset: record.pop(key)


def _close_atoms(record, dataset):
    record['Positions'][1] = [x + 0.1 for x in record['Positions'][0]]


def _wrong_force_shape(record, dataset):
    record['Forces'] = record['Forces'][:-1]


def _nan_force(record, dataset):
    record['Forces'][3][1] = float('inf')


def _left_handed(record, dataset):
    lattice = record['Lattice']
    lattice[0], lattice[1] = lattice[1], lattice[0]


FITSNAP_CASES = {
    'nan-energy': (_set('Energy', float('nan')), r'BCC_1\.json: energy is nan'),
    'inf-force': (_nan_force, r'BCC_1\.json: forces contain NaN or infinite'),
    'force-shape': (_wrong_force_shape, r'BCC_1\.json: forces have shape \(53, 3\), expected \(54, 3\)'),
    'missing-energy': (_set('Energy', None), r'BCC_1\.json: missing energy'),
    'missing-forces': (_drop('Forces'), r'BCC_1\.json: structure has no forces; a set of energies only needs'),
    'unknown-element': (lambda r, d: r['AtomTypes'].__setitem__(4, 'Xy'), r"BCC_1\.json: unknown element symbol 'Xy'"),
    'zero-volume': (lambda r, d: r['Lattice'].__setitem__(2, [0.0, 0.0, 0.0]), r'BCC_1\.json: zero-volume'),
    'left-handed': (_left_handed, r'BCC_1\.json: left-handed cell'),
    'close-atoms': (_close_atoms, r'BCC_1\.json: atoms 0 and 1 are 0\.173 Å apart, closer than 0\.5 Å'),
    'mixed-units': (
        lambda r, d: d.__setitem__('StressStyle', 'kbar'),
        r"BCC_2\.json: mixed units, StressStyle is 'bar' here but 'kbar' in .*BCC_1\.json",
    ),
    'unknown-unit': (lambda r, d: d.__setitem__('EnergyStyle', 'furlong'), r"unknown unit 'furlong'"),
}


@pytest.mark.parametrize('case', sorted(FITSNAP_CASES))
def test_bad_fitsnap_json(case, ta_small, count_nodes):
    change, message = FITSNAP_CASES[case]
    _edit_fitsnap(ta_small / BCC1, change)
    before = count_nodes()
    with pytest.raises(TrainingSetError, match=message):
        TrainingSetData.from_file(ta_small).store()
    assert count_nodes() == before


def test_truncated_json(ta_small, count_nodes):
    path = ta_small / BCC1
    path.write_text(path.read_text()[:500])
    before = count_nodes()
    with pytest.raises(TrainingSetError, match=r'BCC_1\.json: malformed or truncated file'):
        TrainingSetData.from_file(ta_small)
    assert count_nodes() == before


def test_truncated_n2p2(ta_small, tmp_path, count_nodes):
    (path,) = TrainingSetData.from_file(ta_small).export(tmp_path / 'n2p2', 'n2p2')
    path.write_text('\n'.join(path.read_text().splitlines()[:-5]))  # cut inside the last atom block
    before = count_nodes()
    with pytest.raises(TrainingSetError, match=r'input\.data: malformed or truncated file, configuration from line'):
        TrainingSetData.from_file(path)
    path.write_text(path.read_text() + '\natom 1.0 2.0\n')
    with pytest.raises(TrainingSetError, match=r'input\.data:\d+: atom line needs 9 values, found 2'):
        TrainingSetData.from_file(path)
    assert count_nodes() == before


def test_truncated_outcar(tmp_path, count_nodes):
    text = (ASE_TESTDATA / 'vasp' / 'OUTCAR_example_1').read_text()
    path = tmp_path / 'OUTCAR'
    path.write_text(text[: len(text) // 3])
    before = count_nodes()
    with pytest.raises(TrainingSetError, match='OUTCAR'):
        TrainingSetData.from_file(path)
    assert count_nodes() == before


def test_empty_sets(tmp_path, count_nodes):
    empty_list = tmp_path / 'empty.json'
    empty_list.write_text('[]')
    (tmp_path / 'nothing').mkdir()
    (tmp_path / 'nothing' / 'group').mkdir()
    before = count_nodes()
    with pytest.raises(TrainingSetError, match='the training set is empty'):
        TrainingSetData.from_file(empty_list)
    with pytest.raises(TrainingSetError, match=r'nothing: (no FitSNAP JSON|directory without)'):
        TrainingSetData.from_file(tmp_path / 'nothing', 'fitsnap-json')
    assert count_nodes() == before


def test_mlearn_missing_energy_names_record(mo_slice, count_nodes):
    records = json.loads(mo_slice.read_text())
    del records[2]['outputs']['energy']
    mo_slice.write_text(json.dumps(records))
    before = count_nodes()
    with pytest.raises(TrainingSetError, match=r'mo_slice\.json#2: missing energy'):
        TrainingSetData.from_file(mo_slice)
    assert count_nodes() == before


def test_duplicates_rejected_unless_allowed(ta_small, count_nodes):
    shutil.copy(ta_small / BCC1, ta_small / 'Displaced_FCC' / 'copy_of_BCC_1.json')
    before = count_nodes()
    duplicated = r'copy_of_BCC_1\.json: duplicated structure, identical to .*BCC_1\.json'
    with pytest.raises(TrainingSetError, match=duplicated):
        TrainingSetData.from_file(ta_small)
    assert count_nodes() == before
    with pytest.warns(TrainingSetWarning, match='duplicated structure'):
        node = TrainingSetData.from_file(ta_small, allow_duplicates=True).store()
    assert node.n_structures == 19
    assert count_nodes() == before + 1


def test_inconsistent_dft_settings_rejected_unless_allowed(count_nodes):
    qe = TEST_DATA / 'qe'
    before = count_nodes()
    with pytest.raises(TrainingSetError, match=r"si_c\.pwo: DFT setting 'cutoff_ev' = 326\.5.* differs from 272\.1"):
        TrainingSetData.from_file([qe / 'si_a.pwo', qe / 'si_b.pwo', qe / 'si_c.pwo'])
    assert count_nodes() == before
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        node = TrainingSetData.from_file([qe / 'si_a.pwo', qe / 'si_c.pwo'], allow_inconsistent_dft=True).store()
    assert any(issubclass(w.category, TrainingSetWarning) for w in caught)
    assert node.n_structures == 2
    consistent = TrainingSetData.from_file([qe / 'si_a.pwo', qe / 'si_b.pwo']).store()
    assert consistent.dft_settings['cutoff_ev'] == pytest.approx(272.114, abs=1e-3)
    assert consistent.dft_settings['pseudopotentials'] == {'Si': 'Si.pbe-rrkj.UPF'}


def test_missing_path_and_unknown_format(tmp_path, count_nodes):
    before = count_nodes()
    with pytest.raises(TrainingSetError, match='no such file'):
        TrainingSetData.from_file(tmp_path / 'absent.xyz')
    with pytest.raises(TrainingSetError, match='no input path'):
        TrainingSetData.from_file([])
    assert count_nodes() == before
