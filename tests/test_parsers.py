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
    'fitsnap_mo8': (lambda: _load('aiida_mlpgen.calculations.fitsnap:FitsnapCalculation'), 'fitsnap@localhost',
                    {'twojmax': 4, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 'off'}}),
    'nnp_mo8': (lambda: _load('aiida_mlpgen.calculations.n2p2:N2p2Calculation'), 'nnp@localhost',
                {'cutoff': 5.0, 'nodes_per_layer': 5, 'epochs': 3}),
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


def parse_stored(name: str, data, folder: Path | None = None):
    """Parse the stored outputs ``name`` (or a changed copy in ``folder``) as the retrieved folder of
    a CalcJobNode that had the fit's inputs; (results, the parse calcfunction node)."""
    from .conftest import local_code

    calc_class, _, parameters = FITS[name]
    process = calc_class()
    node = orm.CalcJobNode(computer=local_code('parser-probe', '/bin/true').computer,
                           process_type=process.build_process_type())
    node.set_option('resources', {'num_machines': 1})
    node.set_option('parser_name', process.spec().inputs['metadata']['options']['parser_name'].default)
    node.base.links.add_incoming(data, LinkType.INPUT_CALC, 'training_set')
    node.base.links.add_incoming(orm.Dict(parameters).store(), LinkType.INPUT_CALC, 'parameters')
    node.store()
    retrieved = orm.FolderData()
    retrieved.base.repository.put_object_from_tree(str(folder or OUTPUTS / name))
    retrieved.base.links.add_incoming(node, LinkType.CREATE, 'retrieved')
    retrieved.store()
    return ParserFactory(node.get_option('parser_name')).parse_from_node(node, store_provenance=False)


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
    assert np.array_equal(parse_snapcoeff(potential.get_file_content('potential.snapcoeff').decode(), 'p')[
        'elements']['Mo']['coefficients'], stored['elements']['Mo']['coefficients'])
    p, metrics = results['predictions'], results['metrics'].get_dict()
    for quantity in ('energy', 'forces'):
        validation = p.get_array(f'{quantity}_validation')
        error = p.get_array(f'{quantity}_predicted') - p.get_array(f'{quantity}_reference')
        assert metrics[quantity]['train']['overall']['rmse'] == pytest.approx(_rmse(error[~validation]), rel=1e-9)
        assert metrics[quantity]['validation']['overall']['rmse'] == pytest.approx(_rmse(error[validation]), rel=1e-9)
    assert int(validation.sum()) // 3 == sum(len(f.numbers) for f in mo8.get_frame_list() if f.split == 'validation')
    assert metrics['energy']['train']['overall']['n'] == 6 and metrics['energy']['validation']['overall']['n'] == 2


@pytest.mark.parametrize('damage, status', [
    ('missing_dataframe', 'ERROR_OUTPUT_MISSING'),
    ('truncated_coefficients', 'ERROR_OUTPUT_UNREADABLE'),
    ('nan_coefficients', 'ERROR_NAN_COEFFICIENTS'),
])
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
    assert np.isfinite(metrics['forces']['train']['overall']['rmse'])
