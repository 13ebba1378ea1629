"""What each fit CalcJob writes, against saved copies (pytest-regressions): the FitSNAP input,
the pacemaker input.yaml, the NNP input.nn and the first structure of input.data. These run
``prepare_for_submission`` only — no code runs — so they take seconds; a changed input shows
up as a diff here (regenerate with ``pytest tests/test_inputs.py --force-regen`` once the
change is meant)."""

from pathlib import Path

import pytest
from aiida import orm
from aiida.common.folders import Folder
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager

from aiida_mlpgen.data import TrainingSetData

from .conftest import BIN, local_code


@pytest.fixture(scope='module')
def mo_set(mo_json):
    """The first eight mlearn Mo structures, 25 % of them tagged validation."""
    import json

    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    records = json.loads(mo_json.read_text())[:8]
    path = Path(__file__).parent / '_mo8.json'
    try:
        path.write_text(json.dumps(records))
        data = TrainingSetData.from_file(path).store()
    finally:
        path.unlink(missing_ok=True)
    return split_training_set(data, orm.Float(0.25), orm.Int(1))


def prepare(calc_class, folder: Path, **inputs):
    """Run ``prepare_for_submission`` of ``calc_class`` into ``folder``; its CalcInfo."""
    process = instantiate_process(get_manager().get_runner(), calc_class, **inputs)
    return process.prepare_for_submission(Folder(str(folder)))


def test_fitsnap_input(mo_set, tmp_path, file_regression):
    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation

    code = local_code('fitsnap-inputs', BIN / 'mlpgen-fitsnap')
    info = prepare(
        FitsnapCalculation,
        tmp_path,
        training_set=mo_set,
        code=code,
        parameters=orm.Dict(
            {
                'twojmax': 6,
                'fit': {'energy': 100, 'forces': 1, 'stress': 'off'},
                'group_weights': {'Vacancy': {'energy': 50}},
            }
        ),
    )
    file_regression.check((tmp_path / 'fitsnap.in').read_text(), extension='.in')
    assert 'fitsnap.in' in info.codes_info[0].cmdline_params
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / 'JSON').rglob('*.json'))
    assert len(written) == mo_set.n_structures  # one FitSNAP JSON file per structure


def test_pacemaker_input(mo_set, tmp_path, file_regression):
    from aiida_mlpgen.calculations.pacemaker import PacemakerCalculation

    code = local_code('pacemaker-inputs', BIN / 'mlpgen-pacemaker')
    prepare(
        PacemakerCalculation,
        tmp_path,
        training_set=mo_set,
        code=code,
        parameters=orm.Dict({'cutoff': 5.0, 'number_of_functions': 30, 'max_iterations': 20}),
    )
    file_regression.check((tmp_path / 'input.yaml').read_text(), extension='.yaml')


def test_nnp_inputs(mo_set, tmp_path, file_regression, data_regression):
    from aiida_mlpgen.calculations.n2p2 import NnpCalculation

    code = local_code('nnp-inputs', BIN / 'mlpgen-nnp')
    prepare(
        NnpCalculation,
        tmp_path,
        training_set=mo_set,
        code=code,
        parameters=orm.Dict({'cutoff': 5.0, 'nodes_per_layer': 10, 'epochs': 5}),
    )
    file_regression.check((tmp_path / 'input.nn').read_text(), extension='.nn')
    data = (tmp_path / 'input.data').read_text().split('end\n')
    assert len(data) == mo_set.n_structures + 1
    first = data[0].splitlines()
    data_regression.check({'lines': len(first), 'head': first[:3], 'tail': first[-3:]})


def test_one_validation_rule_for_every_type(mo_set, tmp_path):
    """A set without a split: FitSNAP (validation_fraction given; SNAP's default holds nothing
    out), pacemaker and the NNP engine hold out the structures split_training_set would tag."""
    import json

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.calculations.n2p2 import NnpCalculation

    frames = mo_set.get_frame_list()
    for frame in frames:
        frame.split = 'unassigned'
    plain = TrainingSetData(frames).store()
    expected = {
        i
        for i, f in enumerate(split_training_set(plain, orm.Float(0.25), orm.Int(7)).get_frame_list())
        if f.split == 'validation'
    }
    assert 0 < len(expected) < len(frames)

    def fitsnap_held_out(parameters):
        folder = tmp_path / f'fitsnap{len(parameters)}'
        folder.mkdir()
        code = local_code('fitsnap-split', BIN / 'mlpgen-fitsnap')
        prepare(
            FitsnapCalculation, folder, training_set=plain, code=code, parameters=orm.Dict({'twojmax': 2, **parameters})
        )
        groups = json.loads((folder / FitsnapCalculation.GROUPS_FILE).read_text())['groups']
        return {int(p.stem[1:]) for p in (folder / 'JSON').rglob('*.json') if not groups[p.parent.name]['train']}

    assert fitsnap_held_out({}) == set()
    assert fitsnap_held_out({'validation_fraction': 0.25, 'seed': 7}) == expected
    folder = tmp_path / 'nnp'
    folder.mkdir()
    prepare(
        NnpCalculation,
        folder,
        training_set=plain,
        code=local_code('nnp-split', BIN / 'mlpgen-nnp'),
        parameters=orm.Dict({'validation_fraction': 0.25, 'seed': 7, 'epochs': 1}),
    )
    assert set(json.loads((folder / NnpCalculation.SPLIT_FILE).read_text())['validation']) == expected
