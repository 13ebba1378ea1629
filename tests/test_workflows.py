"""Workflows: the replayed nlopt search, the optimisation WorkChain and the generator (real FitSNAP)."""

import nlopt
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_mlpgen.calculations.functions.training_set import split_training_set
from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.potential_types import protocol_parameters
from aiida_mlpgen.workflows import optimizer as opt
from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain
from aiida_mlpgen.workflows.optimization import OptimizationWorkChain

from .conftest import BIN, copy_ta_groups, local_code

pytestmark = [pytest.mark.slow]


def _quadratic(x):
    return float((x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2 + 0.5 * (x[0] - 0.3) * (x[1] - 0.7))


@pytest.mark.parametrize('algorithm', ['bobyqa', 'newuoa'])
def test_replayed_optimizer_retraces_nlopt(algorithm):
    """Ask/tell by replay visits exactly the points nlopt visits when it calls the objective itself."""
    direct = []
    o = nlopt.opt(opt.ALGORITHMS[algorithm], 2)
    o.set_lower_bounds([0, 0])
    o.set_upper_bounds([1, 1])
    o.set_initial_step(0.15)
    o.set_maxeval(25)
    o.set_xtol_abs(1e-3)
    o.set_min_objective(lambda x, grad: direct.append(list(x)) or _quadratic(x))
    o.optimize([0.5, 0.5])
    search = opt.ReplayOptimizer([0.5, 0.5], algorithm, budget=25, rhobeg=0.15)
    evaluated = []
    while True:
        point, best = search.ask(evaluated)
        if point is None:
            break
        evaluated.append((point, _quadratic(point)))
    assert [p for p, _ in evaluated] == direct
    assert np.allclose(best, [0.3, 0.7], atol=1e-2)
    design = search.initial_design()
    assert [list(p) for p in design] == [list(p) for p, _ in evaluated[:5]]  # start, +e1, +e2, -e1, -e2


def test_search_space_names_and_bounds():
    normalized = {
        'rcutfac': 4.0,
        'elements': {'Mo': {'radelem': 0.5, 'wj': 1.0}},
        'fit': {'forces': 0.01, 'stress': 'off'},
    }
    keys = opt.expand_keys(['rcutfac', 'radelem', 'wj', 'fit.forces'], ['Mo'], [])
    assert keys == ['rcutfac', 'elements.Mo.radelem', 'elements.Mo.wj', 'fit.forces']
    space = opt.build_space(keys, normalized)
    assert (space[0].low, space[0].high) == pytest.approx((3.0, 5.2))
    assert space[3].log and space[3].from_unit(space[3].to_unit(0.01)) == pytest.approx(0.01)
    parameters = opt.apply(normalized, space, [1.0, 0.0, 0.5, 0.5])
    assert parameters['rcutfac'] == pytest.approx(5.2) and parameters['elements']['Mo']['radelem'] == 0.3
    with pytest.raises(opt.OptimizationError, match='cannot be optimised'):
        opt.build_space(['twojmax'], {'twojmax': 6})
    with pytest.raises(opt.OptimizationError, match='switched off'):
        opt.build_space(['fit.stress'], normalized)
    with pytest.raises(opt.OptimizationError, match='outside its bounds'):
        opt.build_space(['rcutfac'], normalized, {'rcutfac': [4.5, 5.0]})
    with pytest.raises(opt.OptimizationError, match='budget'):
        opt.ReplayOptimizer([0.5] * 3, budget=5)
    assert opt.expand_keys(['group_weights'], ['Mo'], ['Bulk', 'Surface']) == [
        'group_weights.Bulk.energy',
        'group_weights.Bulk.forces',
        'group_weights.Surface.energy',
        'group_weights.Surface.forces',
    ]
    nnp_space = opt.build_space(['nodes_per_layer'], {'nodes_per_layer': [20, 20]})
    assert nnp_space[0].integer and opt.apply({'nodes_per_layer': [20, 20]}, nnp_space, [1.0]) == {
        'nodes_per_layer': [40, 40]
    }


def test_default_search_keys_follow_type_and_elements(ta_split):
    """No keys: SNAP searches rcutfac, wj and the energy:force balance, and each element's radelem
    only with several elements (one element: the cutoff is rcutfac x 2 radelem, so radelem would
    duplicate rcutfac); ACE and NNP the cutoff and the model size."""
    from aiida_mlpgen.workflows.optimization import default_keys, search_space

    settings, _, space, start = search_space(ta_split, 'snap', {'twojmax': 4}, {})
    assert [v.key for v in space] == ['rcutfac', 'elements.Ta.wj', 'fit.forces'] and len(start) == 3
    assert settings['keys'] == ['rcutfac', 'wj', 'fit.forces']
    assert opt.expand_keys(default_keys('snap', ['Cu', 'Au']), ['Cu', 'Au'], []) == [
        'rcutfac',
        'elements.Cu.radelem',
        'elements.Au.radelem',
        'elements.Cu.wj',
        'elements.Au.wj',
        'fit.forces',
    ]
    assert [v.key for v in search_space(ta_split, 'nnp', {}, {})[2]] == ['cutoff', 'nodes_per_layer']
    assert [v.key for v in search_space(ta_split, 'ace', {}, {})[2]] == ['cutoff', 'number_of_functions']
    with pytest.raises(opt.OptimizationError, match='leave keys out'):
        search_space(ta_split, 'snap', {}, {'keys': []})


def test_group_weights_start_from_the_fit_weights(ta_split):
    from aiida_mlpgen.workflows.optimization import search_space

    _, normalized, space, start = search_space(
        ta_split, 'snap', {'fit': {'energy': 100.0, 'forces': 1.0}}, {'keys': ['group_weights']}
    )
    assert [v.key for v in space][:2] == ['group_weights.Displaced_BCC.energy', 'group_weights.Displaced_BCC.forces']
    assert normalized['group_weights']['Displaced_BCC'] == {'energy': 100.0, 'forces': 1.0}
    assert all(v.log for v in space) and np.allclose(start, 0.5)


def test_nnp_hyperparameters_are_optimised_too(ta_split):
    """The same machinery over NNP settings (nodes per layer), every trial a real training."""
    split = split_training_set(ta_split, orm.Float(0.2), orm.Int(3))
    results, node = run_get_node(
        OptimizationWorkChain,
        training_set=split,
        potential_type=orm.Str('nnp'),
        code=local_code('nnp', BIN / 'mlpgen-nnp'),
        parameters=orm.Dict(
            {
                'epochs': 1,
                'nodes_per_layer': 6,
                'cutoff': 4.5,
                'symmetry_functions': [{'kind': 'radial', 'mode': 'shifted', 'n_points': 4}],
            }
        ),
        optimize=orm.Dict({'keys': ['nodes_per_layer'], 'budget': 4, 'max_in_flight': 2}),
    )
    assert node.is_finished_ok, node.exit_message
    rows = results['trials'].get_dict()['rows']
    assert len(rows) == 4 and all(r['exit_status'] == 0 for r in rows)
    sizes = {r['pk']: orm.load_node(r['pk']).inputs.parameters['nodes_per_layer'][0] for r in rows}
    assert len(set(sizes.values())) >= 3  # different networks were trained
    assert results['potential'].base.attributes.get('network')['Ta'][1] == results['parameters']['nodes_per_layer'][0]


@pytest.fixture(scope='module')
def ta_split(tmp_path_factory):
    target = copy_ta_groups(tmp_path_factory.mktemp('wf'), ('Displaced_BCC', 'Displaced_FCC', 'Volume_BCC'))
    return TrainingSetData.from_file(target).store()


@pytest.fixture(scope='module')
def optimized(ta_split, fitsnap_code):
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(
        ta_split,
        'snap',
        'fast',
        code=fitsnap_code,
        optimize={'keys': ['rcutfac', 'fit.forces'], 'budget': 6, 'max_in_flight': 3},
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    return results, node


def test_optimization_improves_and_records_every_trial(optimized):
    results, node = optimized
    table = results['trials'].get_dict()
    rows = table['rows']
    assert len(rows) == 6 and [r['trial'] for r in rows] == list(range(6))
    objectives = [r['objective'] for r in rows]
    assert min(objectives) <= objectives[0]  # never worse than the start (the protocol's settings)
    assert table['best_trial'] == int(np.argmin(objectives))
    best = rows[table['best_trial']]
    assert results['parameters'].get_dict()['rcutfac'] == pytest.approx(best['rcutfac'])
    assert results['search_metrics'].get_dict()['energy']['validation']['overall']['rmse'] * 1000 == pytest.approx(
        best['energy_rmse']
    )
    # trials that change fit.forces only re-solve with an earlier trial's design matrix
    reused = [r for r in rows if r['reused_descriptors']]
    assert reused and all(r['exit_status'] == 0 for r in reused)
    png = results['objective_plot'].get_content(mode='rb')
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    # the first five trials (start and ± the step on both axes) ran in batches of 3 + 2: in the first,
    # the start and rcutfac + step ran together; fit.forces + step (the start's design matrix) waited
    # for the start and only re-solved it
    optimization = next(c for c in node.called if c.process_class is OptimizationWorkChain)
    links = optimization.base.links.get_outgoing(node_class=orm.CalcJobNode).all()
    calcs = {link.link_label: link.node for link in links}
    assert sorted(calcs) == [f'trial_{i:03d}' for i in range(6)]
    start, step_r, step_f = calcs['trial_000'], calcs['trial_001'], calcs['trial_002']
    assert max(start.ctime, step_r.ctime) < min(start.mtime, step_r.mtime)  # in flight together
    assert start.inputs.save_descriptors.value and 'descriptors_folder' not in step_r.inputs
    assert step_f.inputs.descriptors_folder.pk == start.outputs.remote_folder.pk and step_f.ctime > start.mtime
    assert rows[2]['reused_descriptors'] == 1 and rows[1]['reused_descriptors'] == 0


def test_refit_equals_a_plain_fit_on_all_structures(optimized, ta_split, fitsnap_code):
    """The delivered potential is the chosen parameters fitted on training + validation: the same
    coefficients as a FitsnapCalculation on every structure, and its metrics have no held-out part."""
    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.functions.training_set import train_on_all
    from aiida_mlpgen.data.potentials.snap import parse_snapcoeff

    results, _ = optimized
    metrics = results['metrics'].get_dict()
    assert 'validation' not in metrics['energy']
    assert metrics['energy']['train']['overall']['n'] == ta_split.n_structures
    assert results['search_metrics']['energy']['validation']['overall']['n'] > 0
    plain, node = run_get_node(
        FitsnapCalculation, training_set=train_on_all(ta_split), code=fitsnap_code, parameters=results['parameters']
    )
    assert node.is_finished_ok, node.exit_message
    coefficients = [
        parse_snapcoeff(p.get_file_content('potential.snapcoeff').decode())['elements']['Ta']['coefficients']
        for p in (plain['potential'], results['potential'])
    ]
    np.testing.assert_allclose(coefficients[0], coefficients[1], rtol=1e-10, atol=1e-12)
    assert len(coefficients[0]) == results['potential'].base.attributes.get('n_coefficients')
    report = results['report'].get_content()
    assert 'Hyperparameter search: best trial' in report and 'refitted on all' in report
    assert report.index('energy [eV/atom], train') < report.index('energy [eV/atom], validation')


def test_refit_keeps_the_training_length_the_search_chose():
    """The refit has no validation structures left: it trains the NNP for the best trial's optimum epoch."""
    from aiida_mlpgen.data.potentials import NnpPotentialData
    from aiida_mlpgen.workflows.generator import refit_parameters

    from .conftest import SHARED

    nnp = NnpPotentialData.from_n2p2(
        SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / 'nnp', cflength=1.8897261, cfenergy=0.0367493
    )
    nnp.base.attributes.set('epoch', 7)
    chosen = orm.Dict({'epochs': 30, 'cutoff': 5.5}).store()
    assert refit_parameters(chosen, nnp.store()).get_dict() == {'epochs': 7, 'cutoff': 5.5}
    # (ACE: tests/test_ace.py::test_refit_runs_the_iterations_of_the_trial)


def test_provenance_reaches_data_trials_and_parameters(optimized, ta_split):
    results, node = optimized
    potential = results['potential']
    qb = orm.QueryBuilder()
    qb.append(PotentialData, subclassing=True, filters={'id': potential.pk}, tag='potential')
    qb.append(
        orm.WorkflowNode,
        with_outgoing='potential',
        tag='generator',
        filters={'attributes.process_label': 'MlpGeneratorWorkChain'},
    )
    qb.append(
        orm.WorkflowNode,
        with_incoming='generator',
        tag='optimization',
        filters={'attributes.process_label': 'OptimizationWorkChain'},
    )
    qb.append(orm.CalcJobNode, with_incoming='optimization', tag='trial', project='id')
    trials = {pk for (pk,) in qb.all()}
    assert len(trials) == 6
    qb = orm.QueryBuilder()
    qb.append(PotentialData, subclassing=True, filters={'id': potential.pk}, tag='potential')
    qb.append(orm.CalcJobNode, with_outgoing='potential', tag='fit', project='id')
    qb.append(orm.Dict, with_outgoing='fit', edge_filters={'label': 'parameters'}, project='id')
    ((fit_pk, parameters_pk),) = qb.all()
    # the potential is the refit (not a trial), with the best trial's very parameters passed through
    # refit_parameters (which carries the training length; SNAP has none, so the content is the same)
    assert fit_pk not in trials
    refit_parameters = orm.load_node(parameters_pk)
    assert refit_parameters.creator.process_label == 'refit_parameters'
    assert refit_parameters.creator.inputs.parameters.pk == results['parameters'].pk
    assert refit_parameters.get_dict() == results['parameters'].get_dict()
    qb = orm.QueryBuilder()
    qb.append(orm.CalcJobNode, filters={'id': fit_pk}, tag='fit')
    qb.append(TrainingSetData, with_outgoing='fit', tag='all')
    qb.append(
        orm.CalcFunctionNode, with_outgoing='all', tag='refit', filters={'attributes.process_label': 'train_on_all'}
    )
    qb.append(TrainingSetData, with_outgoing='refit', tag='split')
    qb.append(orm.CalcFunctionNode, with_outgoing='split', tag='splitter')
    qb.append(TrainingSetData, with_outgoing='splitter', project='id')
    assert qb.all(flat=True) == [ta_split.pk]


def test_generator_plain_fit_and_protocols(ta_split, fitsnap_code):
    from ase.build import bulk

    builder = MlpGeneratorWorkChain.get_builder_from_protocol(ta_split, 'snap', 'fast', code=fitsnap_code)
    builder.validation.structure = orm.StructureData(ase=bulk('Ta', 'bcc', a=3.32, cubic=True))
    builder.validation.properties = orm.List(['eos', 'elastic'])
    builder.validation.reference = orm.Dict({'lattice_parameter': 3.32, 'C44': 75.0})  # DFT-like values
    builder.validation.code = local_code('lmp', BIN / 'lmp')
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    assert {'potential', 'metrics', 'report', 'plots', 'predictions', 'validation'} <= set(results)
    assert 'trials' not in results
    # the validation ran on the fitted potential and its table closes the fit's report
    (validation,) = [child for child in node.called if child.process_label == 'ValidationWorkChain']
    assert validation.inputs.potential.uuid == results['potential'].uuid
    report = results['report'].get_content()
    assert 'RMSE' in report and 'validation report' in report and 'lattice_parameter' in report
    assert 'C44' in results['validation']['values'].get_dict()
    assert protocol_parameters('snap', 'fast')['twojmax'] == 4
    assert protocol_parameters('ace', 'precise')['number_of_functions'] == 700  # SPEC.md's default
    assert protocol_parameters('nnp', 'moderate', {'epochs': 5})['epochs'] == 5
    assert protocol_parameters('ace', 'moderate', {'max_iterations': 100})['min_iterations'] == 100  # a lower cap
    with pytest.raises(ValueError, match='unknown protocol'):
        protocol_parameters('snap', 'sloppy')


@pytest.mark.parametrize(
    'extra, message',
    [
        ({'potential_type': 'gap'}, 'potential_type must be one of'),
        ({'delta_mode': 'include'}, 'needs a delta_potential'),
        ({'delta_mode': 'sideways'}, 'delta_mode must be'),
        ({'parameters': {'twojmax': 5}}, 'invalid snap parameters'),
        ({'optimize': {'keys': ['twojmax']}}, 'cannot be optimised'),
        ({'optimize': {'keys': ['rcutfac'], 'budget': 2}}, 'too small'),
        ({'optimize': {'keys': ['nosuch']}}, 'nosuch'),
        ({'optimize': {'keys': ['rcutfac'], 'bounds': {'rcutfac': []}}}, 'rcutfac'),
        ({'optimize': {'keys': ['rcutfac'], 'folds': 1}}, 'folds must be an integer >= 2'),
        ({'optimize': {'keys': ['rcutfac'], 'folds': 10}}, "group 'Displaced_BCC' has 9 structure"),
        ({'optimize': {'keys': ['rcutfac'], 'folds': 3}, 'refit': False}, 'refit must stay on'),
        ({'optimize': {'keys': ['rcutfac'], 'seed': -1}}, 'seed must be a non-negative integer'),
        ({'optimize': {'keys': ['rcutfac']}, 'validation_fraction': 0.01}, 'draws no validation structure'),
    ],
)
def test_generator_refuses_bad_requests(extra, message, ta_split, fitsnap_code, count_nodes):
    inputs = {'training_set': ta_split, 'potential_type': orm.Str('snap'), 'code': fitsnap_code}
    for key, value in extra.items():
        inputs[key] = (
            orm.Dict(value)
            if isinstance(value, dict)
            else orm.Bool(value)
            if isinstance(value, bool)
            else orm.Float(value)
            if isinstance(value, float)
            else orm.Str(value)
        )
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(MlpGeneratorWorkChain, **inputs)
    assert count_nodes() == before


def test_band_limit_as_a_discrete_outer_choice(ta_split, fitsnap_code):
    """choices {twojmax: [2, 4]}: one rcutfac search per band limit, side by side; the winner is the
    search whose best trial has the lowest objective, and its parameters carry that twojmax."""
    results, node = run_get_node(
        OptimizationWorkChain,
        training_set=split_training_set(ta_split, orm.Float(0.2), orm.Int(3)),
        potential_type=orm.Str('snap'),
        code=fitsnap_code,
        parameters=orm.Dict({'fit': {'stress': 'off'}}),
        optimize=orm.Dict({'keys': ['rcutfac'], 'budget': 4, 'max_in_flight': 4, 'choices': {'twojmax': [2, 4]}}),
    )
    assert node.is_finished_ok, node.exit_message
    searches = [link.node for link in node.base.links.get_outgoing(node_class=orm.WorkChainNode).all()]
    assert sorted(s.label for s in searches) == ['twojmax=2', 'twojmax=4'] and all(s.is_finished_ok for s in searches)
    table = results['trials'].get_dict()
    rows = table['rows']
    assert table['columns'][0] == 'choice' and len(rows) == 8
    assert [r['choice'] for r in rows] == ['twojmax=2'] * 4 + ['twojmax=4'] * 4
    objectives = [r['objective'] for r in rows]
    assert table['best_trial'] == int(np.argmin(objectives))
    best = rows[table['best_trial']]
    assert results['parameters']['twojmax'] == int(best['choice'].split('=')[1])
    assert results['parameters']['rcutfac'] == pytest.approx(best['rcutfac'])
    assert results['potential'].pk == orm.load_node(best['pk']).outputs.potential.pk
    for search in searches:  # each search ran its own band limit only
        twojmax = int(search.label.split('=')[1])
        assert {c.inputs.parameters['twojmax'] for c in search.called if isinstance(c, orm.CalcJobNode)} == {twojmax}
    assert results['objective_plot'].get_content(mode='rb')[:8] == b'\x89PNG\r\n\x1a\n'


@pytest.mark.parametrize(
    'choices, message',
    [
        ({'twojmax': [5]}, 'choices twojmax=5: twojmax must be even'),
        ({'twojmax': []}, 'non-empty lists'),
        ({'rcutfac': [4.0, 4.5]}, 'both a choice and a searched key'),
        ({'twojmax': list(range(2, 36, 2))}, 'at most 16'),
    ],
)
def test_bad_choices_fail_before_any_fit(choices, message, ta_split, fitsnap_code, count_nodes):
    ta_split = split_training_set(ta_split, orm.Float(0.2), orm.Int(3))
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(
            OptimizationWorkChain,
            training_set=ta_split,
            potential_type=orm.Str('snap'),
            code=fitsnap_code,
            optimize=orm.Dict({'keys': ['rcutfac'], 'choices': choices}),
        )
    assert count_nodes() == before


def test_optimization_needs_a_validation_split(ta_split, fitsnap_code):
    with pytest.raises(ValueError, match='no validation structures'):
        run_get_node(OptimizationWorkChain, training_set=ta_split, potential_type=orm.Str('snap'), code=fitsnap_code)
    split = split_training_set(ta_split, orm.Float(0.2), orm.Int(1))
    assert split.split_counts['validation'] > 0


def test_delta_include_zbl_overlay_reproduces_the_fit(ta_split, fitsnap_code, tmp_path):
    """Δ "include": ZBL is evaluated under the data, SNAP learns the rest; the stored overlay,
    run in LAMMPS and through ASE, gives the fit's predictions (which include Δ)."""
    from ase import Atoms

    from aiida_mlpgen.data.potentials import ClassicalPotentialData
    from aiida_mlpgen.data.potentials.lammps_run import evaluate_with_lmp

    zbl = ClassicalPotentialData.zbl(['Ta'], 2.0, 3.0).store()
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(
        ta_split, 'snap', 'fast', code=fitsnap_code, overrides={'fit': {'stress': 'off'}}
    )
    builder.delta_mode = orm.Str('include')
    builder.delta_potential = zbl
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    potential = results['potential']
    assert potential.lammps_lines()[0] == 'pair_style hybrid/overlay zbl 2.0 3.0 snap'
    frames = ta_split.get_frame_list()[:4:3]  # structures 0 and 3 (the split keeps the order)
    atoms = [Atoms(numbers=f.numbers, positions=f.positions, cell=f.cell, pbc=True) for f in frames]
    lammps = evaluate_with_lmp(potential, atoms, tmp_path, lmp=str(BIN / 'lmp'))
    predictions = results['predictions']
    structure = predictions.get_array('energy_structure')
    predicted = predictions.get_array('energy_predicted')
    calculator = potential.get_ase_calculator()
    for k, index in enumerate((0, 3)):
        expected = predicted[structure == index][0]
        assert lammps['energy'][k] / len(atoms[k]) == pytest.approx(expected, abs=1e-6)
        atoms[k].calc = calculator
        assert atoms[k].get_potential_energy() / len(atoms[k]) == pytest.approx(expected, abs=1e-6)


def test_delta_include_for_nnp_subtracts_and_overlays(ta_split):
    """ACE and NNP learn DFT - Δ; the output is the overlay (hybrid/overlay in LAMMPS, a sum in ASE)
    and equals the fit's predictions plus Δ on every structure."""
    from aiida_mlpgen.data.potentials import ClassicalPotentialData, OverlayPotentialData

    # a Lennard-Jones baseline: energies of eV, so adding it back is not a no-op
    baseline = ClassicalPotentialData('lj/cut 5.0', ['1 1 0.05 2.6'], ['Ta'], 5.0).store()
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(
        ta_split,
        'nnp',
        'fast',
        code=local_code('nnp', BIN / 'mlpgen-nnp'),
        overrides={'epochs': 1, 'nodes_per_layer': 5, 'cutoff': 4.5},
    )
    builder.delta_mode = orm.Str('include')
    builder.delta_potential = baseline
    builder.delta_code = local_code('mlpgen-properties', BIN / 'mlpgen-properties')
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    # Δ was evaluated in a job (mlpgen-properties), not in the daemon: its output is what the fit learnt
    delta_job = next(n for n in node.called if n.process_label == 'DeltaSubtractionCalculation')
    learnt = delta_job.outputs.training_set
    fits = [n for n in node.called_descendants if n.process_label == 'NnpCalculation']
    assert fits and all(fit.inputs.training_set.uuid == learnt.uuid for fit in fits)
    frames, original = learnt.get_frame_list(), ta_split.get_frame_list()
    for k in range(3):
        atoms = ta_split.to_ase()[k]
        atoms.calc = baseline.get_ase_calculator()
        assert frames[k].energy == pytest.approx(original[k].energy - atoms.get_potential_energy(), abs=1e-8)
        assert np.allclose(frames[k].forces, original[k].forces - atoms.get_forces(), atol=1e-8)
        assert frames[k].group == original[k].group and frames[k].split in ('train', 'validation')
    overlay = results['potential']
    assert isinstance(overlay, OverlayPotentialData)
    lines = overlay.lammps_lines('/pot')
    assert lines[0].startswith('pair_style hybrid/overlay lj/cut 5.0 hdnnp 4.5 dir /pot ')
    assert lines[1:] == ['pair_coeff 1 1 lj/cut 0.05 2.6', 'pair_coeff * * hdnnp Ta']
    predictions = results['predictions']
    structure, predicted = predictions.get_array('energy_structure'), predictions.get_array('energy_predicted')
    calculator, delta = overlay.get_ase_calculator(), baseline.get_ase_calculator()
    for index, atoms in list(enumerate(ta_split.to_ase()))[:3]:
        atoms.calc = delta
        e_delta = atoms.get_potential_energy()
        assert abs(e_delta) / len(atoms) > 0.01
        atoms.calc = calculator
        expected = predicted[structure == index][0] + e_delta / len(atoms)
        assert atoms.get_potential_energy() / len(atoms) == pytest.approx(expected, abs=1e-6)


def test_kfold_objective_is_the_mean_of_independent_fold_errors(ta_split, fitsnap_code):
    """folds=2: every trial is two fits; its objective equals the mean over the folds of
    1 x energy RMSE (meV/atom) + 10 x force RMSE (eV/Å), recomputed here from each fold fit's
    own predictions (independent fits, each computing its own descriptors, while the trials
    shared one design matrix per trial); every structure is held out exactly once, every group
    in every fold."""
    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.functions.training_set import kfold_training_sets

    results, node = run_get_node(
        OptimizationWorkChain,
        training_set=ta_split,
        potential_type=orm.Str('snap'),
        code=fitsnap_code,
        parameters=orm.Dict({'twojmax': 4, 'fit': {'stress': 'off'}}),
        optimize=orm.Dict({'keys': ['rcutfac'], 'budget': 4, 'max_in_flight': 4, 'folds': 2}),
    )
    assert node.is_finished_ok, node.exit_message
    rows = results['trials'].get_dict()['rows']
    assert len(rows) == 4 and all(len(r['fold_pks'].split(';')) == 2 for r in rows)
    calcs = [n for n in node.called if isinstance(n, orm.CalcJobNode)]
    assert len(calcs) == 8
    # one design matrix per trial: fold 0 computes it, fold 1 re-solves it with its own split
    assert all(r['reused_descriptors'] == 1 for r in rows)
    for row in rows:
        first, *others = [orm.load_node(int(pk)) for pk in row['fold_pks'].split(';')]
        assert all(n.inputs.descriptors_folder.pk == first.outputs.remote_folder.pk for n in others)
    folds = kfold_training_sets(ta_split, orm.Int(2), orm.Int(42))
    held_out = np.zeros(ta_split.n_structures, int)
    per_fold = []
    for k in range(2):
        fold = folds[f'fold_{k}']
        tags = np.array([f.split for f in fold.get_frame_list()])
        held_out += tags == 'validation'
        groups = {f.group for f, t in zip(fold.get_frame_list(), tags, strict=True) if t == 'validation'}
        assert groups == set(ta_split.groups)
        fitted, fold_node = run_get_node(
            FitsnapCalculation,
            training_set=fold,
            code=fitsnap_code,
            parameters=orm.load_node(rows[0]['pk']).inputs.parameters,
        )
        assert fold_node.is_finished_ok
        p = fitted['predictions']
        e_mask, f_mask = p.get_array('energy_validation'), p.get_array('forces_validation')
        e = p.get_array('energy_predicted')[e_mask] - p.get_array('energy_reference')[e_mask]
        f = p.get_array('forces_predicted')[f_mask] - p.get_array('forces_reference')[f_mask]
        per_fold.append(1000 * np.sqrt(np.mean(e**2)) + 10 * np.sqrt(np.mean(f**2)))
    assert list(held_out) == [1] * ta_split.n_structures
    assert rows[0]['objective'] == pytest.approx(np.mean(per_fold), rel=1e-9)
