"""Parsers on stored outputs: the retrieved folders of real FitSNAP and NNP-engine fits
(``tests/data/outputs``, made by ``make_outputs.py`` there) are parsed again without running
any code, and the parsed numbers are checked against the files themselves."""

from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common import LinkType
from aiida.plugins import ParserFactory

from aiida_mlpgen.data import TrainingSetData

OUTPUTS = Path(__file__).resolve().parent / 'data' / 'outputs'
MO = Path(__file__).resolve().parents[2] / 'shared' / 'datasets' / 'mlearn' / 'Mo' / 'training.json'

#: name -> (CalcJob class loader, code label on the embedded profile, parameters)
FITS = {
    'fitsnap_mo8': (
        lambda: _load('aiida_mlpgen.calculations.fitsnap:FitsnapCalculation'),
        'fitsnap@localhost',
        {'twojmax': 4, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 'off'}},
    ),
    'nnp_mo8': (
        lambda: _load('aiida_mlpgen.calculations.n2p2:NnpCalculation'),
        'nnp@localhost',
        {'cutoff': 5.0, 'nodes_per_layer': 5, 'epochs': 3},
    ),
}


def _load(path):
    import importlib

    module, name = path.split(':')
    return getattr(importlib.import_module(module), name)


def training_set():
    """Eight mlearn Mo structures, two of them tagged validation (seed 1)."""
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    data = TrainingSetData(TrainingSetData.from_file(MO).get_frame_list()[:8]).store()
    return split_training_set(data, orm.Float(0.25), orm.Int(1))


def parse_stored(name: str, data, folder: Path | None = None, temporary: Path | None = None):
    """Parse the stored outputs ``name`` (or a changed copy in ``folder``; the retrieved temporary
    files from ``NAME.temporary`` or ``temporary``) as the retrieved folder of a CalcJobNode that
    had the fit's inputs; (results, the parse calcfunction node)."""
    from .conftest import local_code

    calc_class, _, parameters = FITS[name]
    process = calc_class()
    node = orm.CalcJobNode(
        computer=local_code('parser-probe', '/bin/true').computer, process_type=process.build_process_type()
    )
    node.set_option('resources', {'num_machines': 1})
    node.set_option('parser_name', process.spec().inputs['metadata']['options']['parser_name'].default)
    node.base.links.add_incoming(data, LinkType.INPUT_CALC, 'training_set')
    node.base.links.add_incoming(orm.Dict(parameters).store(), LinkType.INPUT_CALC, 'parameters')
    node.store()
    retrieved = orm.FolderData()
    retrieved.base.repository.put_object_from_tree(str(folder or OUTPUTS / name))
    retrieved.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
    retrieved.store()
    temporary = temporary or OUTPUTS / f'{name}.temporary'
    return ParserFactory(node.get_option('parser_name')).parse_from_node(
        node, store_provenance=False, retrieved_temporary_folder=str(temporary) if temporary.exists() else None
    )


@pytest.fixture(scope='module')
def mo8():
    return training_set()


def _rmse(block):
    return float(np.sqrt(np.mean(np.square(block))))


def test_fitsnap_parser_on_stored_outputs(mo8):
    from aiida_mlpgen.data.potentials.snap import parse_snapcoeff

    results, call = parse_stored('fitsnap_mo8', mo8)
    assert call.is_finished_ok, call.exit_message
    stored = parse_snapcoeff((OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapcoeff').read_text(), 'snapcoeff')
    potential = results['potential']
    assert np.array_equal(
        parse_snapcoeff(potential.get_file_content('potential.snapcoeff').decode(), 'p')['elements']['Mo'][
            'coefficients'
        ],
        stored['elements']['Mo']['coefficients'],
    )
    p, metrics = results['predictions'], results['metrics'].get_dict()
    for quantity in ('energy', 'forces'):
        validation = p.get_array(f'{quantity}_validation')
        error = p.get_array(f'{quantity}_predicted') - p.get_array(f'{quantity}_reference')
        assert metrics[quantity]['train']['overall']['rmse'] == pytest.approx(_rmse(error[~validation]), rel=1e-9)
        assert metrics[quantity]['validation']['overall']['rmse'] == pytest.approx(_rmse(error[validation]), rel=1e-9)
    assert int(validation.sum()) // 3 == sum(len(f.numbers) for f in mo8.get_frame_list() if f.split == 'validation')
    assert metrics['energy']['train']['overall']['n'] == 6 and metrics['energy']['validation']['overall']['n'] == 2


def test_design_check_is_computed_in_the_job_and_only_read_by_the_parser(mo8, tmp_path):
    """mlpgen-fitsnap wrote the check of the weighted design matrix (rows, rank) beside the
    dataframe; it equals the check recomputed here, the report shows it, and a check that
    found a problem ends the parse in ERROR_SINGULAR_FIT with its sentence."""
    import json
    import shutil

    import pandas as pd

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.common.design_check import CHECK_FILE, check_design

    stored = json.loads((OUTPUTS / 'fitsnap_mo8' / CHECK_FILE).read_text())
    again = check_design(pd.read_pickle(OUTPUTS / 'fitsnap_mo8' / 'FitSNAP.df'), regularised=False)
    train = [f for f in mo8.get_frame_list() if f.split == 'train']
    # an energy row and three force rows per atom of each training structure (stress is off)
    assert stored['rows'] == again['rows'] == len(train) + 3 * sum(len(f.numbers) for f in train)
    assert stored['coefficients'] == 15 and stored['problem'] is None
    assert stored['condition_number'] == pytest.approx(again['condition_number'], rel=1e-9)
    results, call = parse_stored('fitsnap_mo8', mo8)
    assert f'{stored["condition_number"]:.3g}' in results['report'].get_content()
    folder = tmp_path / 'retrieved'
    shutil.copytree(OUTPUTS / 'fitsnap_mo8', folder)
    (folder / CHECK_FILE).write_text(json.dumps({**stored, 'problem': 'rank-deficient design matrix (test)'}))
    results, call = parse_stored('fitsnap_mo8', mo8, folder)
    assert call.exit_status == FitsnapCalculation.exit_codes.ERROR_SINGULAR_FIT.status
    assert 'rank-deficient design matrix (test)' in call.exit_message


def test_design_check_finds_too_few_rows_and_rank_deficiency():
    import pandas as pd

    from aiida_mlpgen.common.design_check import check_design, regularised

    rng = np.random.default_rng(0)
    design = rng.normal(size=(6, 3))
    frame = pd.DataFrame(design, columns=[0, 1, 2])
    frame['weights'] = [1.0, 2.0, 1.0, 0.5, 1.0, 0.0]  # the last row has no weight
    frame['Testing'] = [False, False, False, False, True, False]  # row 4 is held out
    full = check_design(frame, regularised=False)
    assert (full['rows'], full['coefficients'], full['problem']) == (4, 3, None)
    weighted = design[:4] * np.array([1.0, 2.0, 1.0, 0.5])[:, None]
    assert full['condition_number'] == pytest.approx(np.linalg.cond(weighted), rel=1e-9)
    frame[2] = frame[0] * 3.0  # a column that repeats another: rank 2
    assert 'rank-deficient' in check_design(frame, regularised=False)['problem']
    assert check_design(frame, regularised=True)['problem'] is None  # a penalty copes with it
    frame['weights'] = [1.0, 1.0, 0, 0, 1.0, 0]
    assert check_design(frame, regularised=True)['problem'] == '2 weighted training rows for 3 coefficients'
    assert regularised({'SOLVER': {'solver': 'RIDGE'}, 'RIDGE': {'alpha': '1e-8'}})
    assert not regularised({'SOLVER': {'solver': 'SVD'}}) and not regularised({'SOLVER': {'solver': 'RIDGE'}})


@pytest.mark.parametrize(
    'damage, status',
    [
        ('missing_dataframe', 'ERROR_OUTPUT_MISSING'),
        ('truncated_coefficients', 'ERROR_OUTPUT_UNREADABLE'),
        ('nan_coefficients', 'ERROR_NAN_COEFFICIENTS'),
    ],
)
def test_fitsnap_parser_on_damaged_outputs(mo8, tmp_path, damage, status):
    import shutil

    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation

    folder = tmp_path / 'retrieved'
    shutil.copytree(OUTPUTS / 'fitsnap_mo8', folder)
    coeff = folder / 'mlpgen_pot.snapcoeff'
    if damage == 'missing_dataframe':
        (folder / 'FitSNAP.df').unlink()
    elif damage == 'truncated_coefficients':
        coeff.write_text('\n'.join(coeff.read_text().splitlines()[:8]))
    else:
        lines = coeff.read_text().splitlines()
        last = max(i for i, line in enumerate(lines) if '#  B[' in line)
        lines[last] = ' nan #  B[14, 4, 4, 4]'
        coeff.write_text('\n'.join(lines) + '\n')
    results, call = parse_stored('fitsnap_mo8', mo8, folder)
    assert call.exit_status == FitsnapCalculation.exit_codes[status].status
    assert 'potential' not in results


def test_nnp_parser_on_stored_outputs(mo8):
    """The optimum epoch is the one with the lowest validation RMSE in learning-curve.out, and
    the parsed validation energy RMSE is the curve's at that epoch (eV/atom, physical units)."""
    from aiida_mlpgen.parsers.n2p2 import read_learning_curve

    results, call = parse_stored('nnp_mo8', mo8)
    assert call.is_finished_ok, call.exit_message
    curve = read_learning_curve(OUTPUTS / 'nnp_mo8' / 'learning-curve.out')
    epoch = results['potential'].base.attributes.get('epoch')
    test_column = next(k for k in curve if k.startswith('RMSEpa_Etest'))
    assert epoch == int(curve['epoch'][int(np.argmin(curve[test_column]))])
    metrics = results['metrics'].get_dict()
    assert metrics['energy']['validation']['overall']['n'] == 2 and metrics['energy']['train']['overall']['n'] == 6
    # the predictions come from the job's comparison files of that epoch, in eV and eV/Å: their
    # errors are the learning curve's at the optimum epoch (n2p2 writes it in physical units)
    row = int(np.flatnonzero(curve['epoch'] == epoch)[0])
    for quantity, column in (('energy', 'RMSEpa_E{}_pu'), ('forces', 'RMSE_F{}_pu')):
        for split, word in (('train', 'train'), ('validation', 'test')):
            assert metrics[quantity][split]['overall']['rmse'] == pytest.approx(
                curve[column.format(word)][row], rel=1e-5
            ), (quantity, split)
    # and they are the potential's: one validation structure evaluated here agrees
    frames = mo8.get_frame_list()
    s = next(i for i, f in enumerate(frames) if f.split == 'validation')
    model = results['potential'].get_model()
    frame = frames[s]
    direct = model.evaluate(frame.numbers, frame.positions, frame.cell, frame.pbc)
    p = results['predictions']
    energy = p.get_array('energy_predicted')[p.get_array('energy_structure') == s]
    assert energy[0] == pytest.approx(direct.energy / len(frame.numbers), abs=1e-6)
    forces = p.get_array('forces_predicted')[p.get_array('forces_structure') == s]
    assert np.allclose(forces, direct.forces.ravel(), atol=1e-5)


def test_nnp_parser_without_comparison_files_names_them(mo8, tmp_path):
    """Re-parsed without the job's per-epoch comparison files (the temporary folder is gone):
    a missing-output exit, not a model evaluation in the daemon."""
    from aiida_mlpgen.calculations.n2p2 import NnpCalculation

    empty = tmp_path / 'temporary'
    empty.mkdir()
    results, call = parse_stored('nnp_mo8', mo8, temporary=empty)
    assert call.exit_status == NnpCalculation.exit_codes.ERROR_OUTPUT_MISSING.status
    assert 'trainpoints' in call.exit_message and 'potential' not in results


def _delta_node(data, potential, results: dict | None):
    """A DeltaSubtractionCalculation node with ``results`` (task name -> result) as its retrieved
    results.json (None: no file)."""
    import json

    from aiida_mlpgen.calculations.delta import DeltaSubtractionCalculation

    from .conftest import local_code

    node = orm.CalcJobNode(
        computer=local_code('parser-probe', '/bin/true').computer,
        process_type=DeltaSubtractionCalculation.build_process_type(),
    )
    node.set_option('resources', {'num_machines': 1})
    node.set_option('parser_name', DeltaSubtractionCalculation.PARSER_NAME)
    node.base.links.add_incoming(data, LinkType.INPUT_CALC, 'training_set')
    node.base.links.add_incoming(potential, LinkType.INPUT_CALC, 'delta_potential')
    node.store()
    retrieved = orm.FolderData()
    if results is not None:
        retrieved.base.repository.put_object_from_bytes(
            json.dumps(results).encode(), DeltaSubtractionCalculation.RESULTS_FILE
        )
    retrieved.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
    retrieved.store()
    return ParserFactory(DeltaSubtractionCalculation.PARSER_NAME).parse_from_node(node, store_provenance=False)


def test_delta_subtraction_parser_subtracts_and_refuses_non_finite_values(mo8):
    from aiida_mlpgen.calculations.delta import DeltaSubtractionCalculation, task_name
    from aiida_mlpgen.data.potentials import ClassicalPotentialData

    potential = ClassicalPotentialData('zbl 4.0 4.8', ['* * 42 42'], ['Mo'], 4.8).store()
    frames = mo8.get_frame_list()
    results = {
        task_name(i): {
            'energy': 0.5 * i,
            'stress': np.full((3, 3), 0.01).tolist(),
            'forces': np.full((len(f.numbers), 3), 0.1).tolist(),
        }
        for i, f in enumerate(frames)
    }
    outputs, call = _delta_node(mo8, potential, results)
    assert call.is_finished_ok, call.exit_message
    learnt = outputs['training_set'].get_frame_list()
    for i, (before, after) in enumerate(zip(frames, learnt, strict=True)):
        assert after.energy == pytest.approx(before.energy - 0.5 * i, abs=1e-12)
        assert np.allclose(after.forces, before.forces - 0.1)
        assert (after.split, after.group, after.weight) == (before.split, before.group, before.weight)
    results[task_name(3)]['energy'] = float('nan')
    outputs, call = _delta_node(mo8, potential, results)
    assert call.exit_status == DeltaSubtractionCalculation.exit_codes.ERROR_NON_FINITE.status
    assert 'training_set' not in outputs
    outputs, call = _delta_node(mo8, potential, None)
    assert call.exit_status == DeltaSubtractionCalculation.exit_codes.ERROR_OUTPUT_MISSING.status


def test_delta_subtraction_refuses_a_potential_without_the_elements(mo8):
    from aiida.engine import run_get_node

    from aiida_mlpgen.calculations.delta import DeltaSubtractionCalculation
    from aiida_mlpgen.data.potentials import ClassicalPotentialData

    from .conftest import local_code

    tungsten = ClassicalPotentialData('zbl 4.0 4.8', ['* * 74 74'], ['W'], 4.8).store()
    with pytest.raises(ValueError, match=r"lacks element\(s\) \['Mo'\]"):
        run_get_node(
            DeltaSubtractionCalculation,
            training_set=mo8,
            delta_potential=tungsten,
            code=local_code('delta-probe', '/bin/true'),
        )


def test_old_class_names_still_import_with_a_deprecation_warning():
    from aiida_mlpgen.calculations import n2p2 as calculations
    from aiida_mlpgen.parsers import n2p2 as parsers

    with pytest.warns(DeprecationWarning, match='N2p2Calculation is now NnpCalculation'):
        assert calculations.N2p2Calculation is calculations.NnpCalculation
    with pytest.warns(DeprecationWarning, match='N2p2Parser is now NnpParser'):
        assert parsers.N2p2Parser is parsers.NnpParser
