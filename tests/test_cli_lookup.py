"""How ``mlpgen`` commands find a node from what the user typed (PK, label, UUID prefix)."""

import click
import pytest
from aiida import orm

from aiida_mlpgen.cli.utils import load_training_set
from aiida_mlpgen.data import TrainingSetData


@pytest.fixture
def ta_node(ta_small):
    return TrainingSetData.from_file(ta_small).store()


def test_a_label_wins_over_another_nodes_uuid_prefix(ta_node):
    # CI once failed when `mlpgen fit nnp fcc` found a RemoteData whose UUID began with "fcc".
    other = orm.Int(1).store()
    prefix = other.uuid[:6]
    ta_node.label = prefix
    assert load_training_set(prefix).uuid == ta_node.uuid


def test_pk_uuid_and_label_find_the_same_training_set(ta_node):
    ta_node.label = 'ta-lookup-test'
    for identifier in (str(ta_node.pk), ta_node.uuid, ta_node.uuid[:13], 'ta-lookup-test'):
        assert load_training_set(identifier).uuid == ta_node.uuid


def test_wrong_class_and_unknown_names_are_clear_errors(ta_node):
    other = orm.Int(2).store()
    with pytest.raises(click.BadParameter, match=r'is a Int, not a TrainingSetData'):
        load_training_set(str(other.pk))
    with pytest.raises(click.BadParameter, match=r"no single TrainingSetData with PK, UUID or label 'no-such-set'"):
        load_training_set('no-such-set')


def test_an_extra_fit_input_must_be_of_the_class_the_calcjob_takes():
    from aiida_mlpgen import potential_types
    from aiida_mlpgen.cli.fit import _extra_input

    wrong = orm.Int(3).store()
    with pytest.raises(click.BadParameter, match=r'is a Int, not a AcePotentialData'):
        _extra_input(potential_types.get('ace'), 'initial_potential', str(wrong.pk))
