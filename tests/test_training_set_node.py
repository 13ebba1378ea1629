"""TrainingSetData node: storage, attributes, immutability, operations with provenance."""

import io
import json

import numpy as np
import pytest
from aiida import orm
from aiida.common.exceptions import ModificationNotAllowed

from aiida_mlpgen.calculations.functions.training_set import (
    aiida_inputs,
    merge_training_sets,
    reweight_groups,
    select_groups,
    split_training_set,
    training_set_from_aiida,
)
from aiida_mlpgen.data import TrainingSetData, TrainingSetError

from .conftest import TEST_DATA


@pytest.fixture
def ta_node(ta_small):
    return TrainingSetData.from_file(ta_small).store()


def test_attributes_and_arrays(ta_node, ta_small):
    assert ta_node.n_structures == 18
    counted = sum(
        json.loads(f.read_text().split('\n', 1)[1])['Dataset']['Data'][0]['NumAtoms'] for f in ta_small.rglob('*.json')
    )
    assert ta_node.n_atoms == counted == 9 * 54 + 9 * 48
    assert ta_node.elements == ['Ta']
    assert ta_node.groups == ['Displaced_BCC', 'Displaced_FCC']
    assert ta_node.group_counts == {'Displaced_BCC': 9, 'Displaced_FCC': 9}
    assert ta_node.has_forces and ta_node.has_stress
    assert ta_node.split_counts == {'unassigned': 18, 'train': 0, 'validation': 0}
    frames = ta_node.get_frames()
    assert ta_node.n_atoms == int(frames.n_atoms.sum())
    low, high = ta_node.energy_per_atom_range
    assert low == pytest.approx(frames.energies_per_atom().min())
    assert low < high < 0
    # one compact file, readable without pickle
    content = ta_node.base.repository.get_object_content(TrainingSetData.FILENAME, mode='rb')
    with np.load(io.BytesIO(content), allow_pickle=False) as archive:
        assert archive['positions'].shape == (ta_node.n_atoms, 3)
    assert ta_node.base.repository.list_object_names() == [TrainingSetData.FILENAME]


def test_node_is_immutable(ta_node):
    with pytest.raises(ModificationNotAllowed):
        ta_node.base.attributes.set('n_structures', 1)
    with pytest.raises(ModificationNotAllowed):
        ta_node.base.repository.put_object_from_bytes(b'', TrainingSetData.FILENAME)


def test_reload_from_database_gives_same_content(ta_node):
    loaded = orm.load_node(ta_node.pk)
    assert loaded.get_frames().content_hash() == ta_node.content_hash
    np.testing.assert_array_equal(loaded.get_frames().forces, ta_node.get_frames().forces)


def test_query_by_attributes(ta_node):
    query = orm.QueryBuilder().append(
        TrainingSetData, filters={'attributes.elements': {'contains': ['Ta']}, 'id': ta_node.pk}
    )
    assert query.count() == 1


def test_to_ase_and_back(ta_node):
    images = ta_node.to_ase()
    assert images[0].get_potential_energy() == pytest.approx(ta_node.get_frames().energies[0])
    again = TrainingSetData.from_ase(images)
    assert again.content_hash == ta_node.content_hash


def test_split_keeps_preassigned_and_is_stratified(ta_node):
    frames = ta_node.get_frame_list()
    frames[0].split = 'validation'
    frames[1].split = 'train'
    preset = TrainingSetData(frames).store()
    result = split_training_set(preset, orm.Float(0.25), orm.Int(7))
    tags = result.get_frames().split
    assert tags[0] == 2 and tags[1] == 1  # kept
    assert (tags != 0).all()
    groups = result.get_frames().groups
    for group in ('Displaced_BCC', 'Displaced_FCC'):
        assert (tags[groups == group] == 2).sum() >= 2  # about a quarter of 9 in each group
    again = split_training_set(preset, orm.Float(0.25), orm.Int(7))
    np.testing.assert_array_equal(again.get_frames().split, tags)  # same seed, same split
    assert result.creator.process_label == 'split_training_set'
    assert result.creator.inputs.training_set.pk == preset.pk
    assert result.content_hash == preset.content_hash  # a split changes annotations only


def test_split_rejects_bad_fraction(ta_node):
    with pytest.raises(TrainingSetError, match=r'fraction must be in \[0, 1\)'):
        split_training_set(ta_node, orm.Float(1.5), orm.Int(1))


def test_select_merge_reweight(ta_node):
    bcc = select_groups(ta_node, orm.List(['Displaced_BCC']))
    fcc = select_groups(ta_node, orm.List(['Displaced_FCC']))
    assert bcc.n_structures == 9 and bcc.groups == ['Displaced_BCC']
    merged = merge_training_sets(a=bcc, b=fcc)
    assert merged.content_hash == ta_node.content_hash
    assert {link.node.pk for link in merged.creator.base.links.get_incoming().all()} >= {bcc.pk, fcc.pk}
    with pytest.raises(TrainingSetError, match='duplicated structure'):
        merge_training_sets(a=bcc, b=bcc)
    heavy = reweight_groups(ta_node, orm.Dict({'Displaced_FCC': 3.0}))
    weights = heavy.get_frames().weights
    assert set(weights[heavy.get_frames().groups == 'Displaced_FCC']) == {3.0}
    assert set(weights[heavy.get_frames().groups == 'Displaced_BCC']) == {1.0}
    with pytest.raises(TrainingSetError, match='unknown group'):
        reweight_groups(ta_node, orm.Dict({'Liquid': 2.0}))
    with pytest.raises(TrainingSetError, match='unknown group'):
        select_groups(ta_node, orm.List(['Nope']))


def test_from_aiida_outputs_links_provenance():
    """DFT results already in the database (structure + energy + forces) become a linked training set."""
    import ase.io

    images = [
        *ase.io.read(TEST_DATA / 'qe' / 'si_a.pwo', index=':'),
        *ase.io.read(TEST_DATA / 'qe' / 'si_b.pwo', index=':'),
    ]
    entries = []
    for atoms in images:
        structure = orm.StructureData(ase=atoms).store()
        forces = orm.ArrayData()
        forces.set_array('forces', atoms.get_forces())
        entries.append((structure, orm.Float(atoms.get_potential_energy()).store(), forces.store()))
    node = training_set_from_aiida(**aiida_inputs(entries))
    assert node.n_structures == 2
    assert node.get_frames().energies[1] == pytest.approx(images[1].get_potential_energy())
    linked = {link.node.pk for link in node.creator.base.links.get_incoming().all()}
    assert {entries[0][0].pk, entries[1][1].pk, entries[1][2].pk} <= linked


def test_from_aiida_rejects_array_without_forces():
    structure = orm.StructureData(cell=np.eye(3) * 5)
    structure.append_atom(position=(0, 0, 0), symbols='Si')
    empty = orm.ArrayData()
    empty.set_array('something', np.zeros((1, 3)))
    with pytest.raises(TrainingSetError, match="no array named 'forces'"):
        training_set_from_aiida(**aiida_inputs([(structure.store(), 1.0, empty)]))
