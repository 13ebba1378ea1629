"""Hostile and careless input (issue 17): each case ends in one clear message naming what is
wrong, before anything is stored or any code runs. Numbers in the test names are the items
of issue 17."""

import json

import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_mlpgen.data import TrainingSetData

from .conftest import BIN, local_code


@pytest.fixture(scope='module')
def mo_three(mo_json, tmp_path_factory):
    """Three mlearn Mo structures without a split."""
    path = tmp_path_factory.mktemp('mo3') / 'mo3.json'
    path.write_text(json.dumps(json.loads(mo_json.read_text())[:3]))
    return TrainingSetData.from_file(path).store()


@pytest.mark.parametrize(
    'parameters, message',
    [
        ({'cutoff': 0.1}, r'cutoff 0\.1 Å: the default symmetry functions start at r_low 1\.0 Å'),
        ({'validation_fraction': 0.99}, r'validation_fraction 0\.99 holds out all 3 structures'),
        ({'epochs': 0}, r'epochs must be >= 1, got 0'),
    ],
)
def test_3_4_nnp_parameters_that_cannot_train_are_refused_before_anything_is_stored(
    mo_three, count_nodes, parameters, message
):
    from aiida_mlpgen.calculations.n2p2 import NnpCalculation

    code = local_code('nnp-hostile', BIN / 'mlpgen-nnp')
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(NnpCalculation, training_set=mo_three, code=code, parameters=orm.Dict(parameters))
    assert count_nodes() == before  # nothing stored, not even the parameters


def test_3_every_type_refuses_a_split_that_leaves_nothing_to_train(mo_three, count_nodes):
    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation

    for calc, program in ((FitsnapCalculation, 'mlpgen-fitsnap'), (PacemakerCalculation, 'mlpgen-pacemaker')):
        code = local_code(f'{program}-hostile', BIN / program)
        before = count_nodes()
        with pytest.raises(ValueError, match='holds out all 3 structures'):
            run_get_node(calc, training_set=mo_three, code=code, parameters=orm.Dict({'validation_fraction': 0.9}))
        assert count_nodes() == before
