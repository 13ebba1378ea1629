"""The active-learning loop (issue 19) with the real FitSNAP, LAMMPS and AiiDA engine; ASE's EMT
plays DFT through the ``ase`` labeller (one AsePropertiesCalculation per label)."""

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.training_set.frames import Frame

from .conftest import BIN, local_code

EMT = 'ase.calculators.emt:EMT'


def cu_cells(count: int, seed: int = 0) -> TrainingSetData:
    """``count`` rattled, strained 32-atom fcc Cu cells labelled with EMT, as the labeller would."""
    from ase.calculators.emt import EMT as Calculator

    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        atoms = bulk('Cu', 'fcc', 3.61 * rng.uniform(0.98, 1.02), cubic=True).repeat(2)
        atoms.rattle(0.03, seed=int(rng.integers(1 << 30)))
        atoms.calc = Calculator()
        frames.append(
            Frame.from_atoms(
                atoms,
                energy=atoms.get_potential_energy(),
                forces=atoms.get_forces(),
                stress=atoms.get_stress(voigt=False),
                group='initial',
                dft={'code': f'ASE {EMT}()'},
            )
        )
    return TrainingSetData(frames).store()


_CODES: dict = {}


def code(name: str):
    """The test profile's code of ``mlpgen-<name>`` (made once per module)."""
    if name not in _CODES:
        _CODES[name] = local_code(f'al-{name}', BIN / f'mlpgen-{name}')
    return _CODES[name]


def builder_for(training_set, calculator=EMT, calculator_kwargs=None, **inputs):
    from aiida_mlpgen.workflows.active_learning import ActiveLearningWorkChain

    builder = ActiveLearningWorkChain.get_builder_from_protocol(
        training_set,
        'snap',
        'ase',
        code('properties'),
        {'calculator': calculator, 'calculator_kwargs': calculator_kwargs or {}},
        protocol='fast',
        overrides={'twojmax': 4},
        exploration_settings=inputs.pop('exploration', {'temperatures': [1200], 'steps': 200, 'interval': 20}),
        **inputs,
    )
    builder.code = code('fitsnap')
    return builder


@pytest.mark.parametrize(
    'change, message',
    [
        ({'threshold': -0.5}, 'threshold must be >= 0, got -0.5'),
        ({'label_budget': 0}, 'label_budget must be at least 1, got 0'),
        ({'per_round': 0}, 'per_round must be at least 1, got 0'),
        ({'exploration': {'temperatures': []}}, 'exploration: give at least one exploration temperature'),
        ({'exploration': {'temperatures': [300], 'pressure': 1}}, 'unknown exploration setting'),
        ({'strategy': 'greedy'}, 'strategy must be "uncertainty" or "random"'),
        ({'target_fraction': 1.5}, r'target_fraction must be in \[0, 1\)'),
        ({'potential_type': 'gap'}, 'potential_type must be one of'),
        ({'potential_type': 'nnp', 'committee_size': 1}, 'a committee needs at least 2 members'),
    ],
)
def test_bad_requests_are_refused_before_anything_runs(count_nodes, change, message):
    training_set = cu_cells(3)
    builder = builder_for(training_set)
    for key, value in change.items():
        node = {float: orm.Float, int: orm.Int, str: orm.Str, dict: orm.Dict}[type(value)]
        builder[key] = node(value)
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(builder)
    assert count_nodes() == before


def test_a_labeller_without_the_elements_or_calculator_is_refused(count_nodes):
    builder = builder_for(cu_cells(3), calculator='ase.calculators.nope:EMT')
    before = count_nodes()
    with pytest.raises(ValueError, match='labelling: the ase labeller: cannot import'):
        run_get_node(builder)
    assert count_nodes() == before


@pytest.mark.slow
def test_the_loop_labels_what_snap_is_unsure_of_until_it_is_sure_with_provenance():
    """Six cells; MD at 1200 K from three of them; two label rounds of at most four frames."""
    from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
    from aiida_mlpgen.calculations.properties import AsePropertiesCalculation

    initial = cu_cells(6)
    results, node = run_get_node(builder_for(initial, per_round=4, max_rounds=2, target_fraction=0.0))
    assert node.is_finished_ok, node.exit_message
    table = results['rounds'].get_dict()
    rows = table['rounds']
    print(*rows, sep='\n')
    assert table['threshold'] == 2.0 and table['uncertainty'].startswith('extrapolation grade')
    assert [r['round'] for r in rows] == list(range(len(rows)))
    # the first potential is unsure of most of its high-temperature MD; labelling makes it surer
    assert rows[0]['uncertain_fraction'] > 0.5
    assert rows[-1]['uncertain_fraction'] < rows[0]['uncertain_fraction']
    assert rows[-1]['median_uncertainty'] < rows[0]['median_uncertainty']
    labelled = sum(r.get('labelled', 0) for r in rows)
    assert table['labelled'] == labelled and 0 < labelled <= 8
    final = results['training_set']
    assert final.n_structures == 6 + labelled
    assert sorted(final.groups) == sorted(
        {'initial', *(f'active_round{r["round"]}' for r in rows if r.get('labelled'))}
    )
    assert results['rounds_plot'].get_content(mode='rb')[:8] == b'\x89PNG\r\n\x1a\n'
    # provenance: the final potential's ancestors hold every earlier round's fit, MD, selection
    # and labelling; its own MD and selection descend from it
    potential = results['potential']

    def processes(relation, node_class):
        query = orm.QueryBuilder()
        query.append(orm.Node, filters={'id': potential.pk}, tag='potential')
        query.append(node_class, **{relation: 'potential'}, project='*')
        return [n for (n,) in query.distinct().all()]

    ancestors = processes('with_descendants', orm.ProcessNode)
    labels = {n.process_label for n in ancestors}
    rounds = len(rows)
    assert len([n for n in ancestors if n.process_class is FitsnapCalculation]) == rounds
    for name in ('explore_with_potential', 'select_frames', 'merge_training_sets'):
        assert len([n for n in ancestors if n.process_label == name]) == rounds - 1, (name, labels)
    label_calcs = [n for n in ancestors if n.process_class is AsePropertiesCalculation]
    assert len(label_calcs) == labelled and all(n.is_finished_ok for n in label_calcs)
    descendants = {n.process_label for n in processes('with_ancestors', orm.ProcessNode)}
    assert {'explore_with_potential', 'select_frames'} <= descendants
    # the potential grades its final training set as known
    graded = potential.get_ase_calculator(uncertainty=True)
    atoms = final.to_ase()[-1]
    atoms.calc = graded
    atoms.get_potential_energy()
    assert graded.results['max_uncertainty'] < 1.05


@pytest.mark.slow
def test_a_labeller_that_fails_for_every_structure_ends_the_loop_with_nothing_half_made():
    """Lennard-Jones with a nonsense sigma imports but fails on every structure."""
    initial = cu_cells(4, seed=1)
    builder = builder_for(
        initial,
        calculator='ase.calculators.lj:LennardJones',
        calculator_kwargs={'sigma': 'abc'},
        per_round=2,
        max_rounds=1,
        target_fraction=0.0,
        exploration={'temperatures': [1500], 'steps': 60, 'interval': 20},
    )
    results, node = run_get_node(builder)
    assert node.exit_status == 403
    assert 'The labelling of round 0 failed' in node.exit_message and 'LabelWorkChain' in node.exit_message
    assert results == {}  # no potential, no set, no table: nothing half-made is given back
