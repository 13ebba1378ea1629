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
        ({'potential_type': 'nnp', 'parameters': {}, 'committee_size': 1}, 'a committee needs at least 2 members'),
        ({'parameters': {'twojmax': 5}}, 'invalid snap parameters'),
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


def test_exploration_runs_keep_the_periodicity_of_their_start():
    """A molecule explored and chosen stays a molecule (frames were once rebuilt periodic, so a
    cluster would have been labelled as a crystal); a crystal stays periodic. A selection with
    nothing to choose stores only its table."""
    from ase import Atoms

    from aiida_mlpgen.calculations.functions.active_learning import select_frames, trajectory_of
    from aiida_mlpgen.engines.active.explore import Frame as ExplorationFrame

    cluster = Atoms('Cu4', positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0], [0, 0, 2.5]], cell=[12, 12, 12], pbc=False)
    crystal = bulk('Cu', 'fcc', 3.61, cubic=True)
    runs = {}
    for name, atoms in (('cluster', cluster), ('crystal', crystal)):
        found = []
        for step in range(3):
            moved = atoms.copy()
            moved.rattle(0.05, seed=step)
            found.append(ExplorationFrame(moved, 0, 900.0, 10 * step, -3.0, np.full(len(atoms), 5.0 + step)))
        runs[name] = trajectory_of(found, name, 900.0).store()
    assert runs['cluster'].base.attributes.get('pbc') == [False, False, False]
    settings = {'threshold': 1.0, 'max_count': 6, 'elements': ['Cu'], 'cutoff': 4.0}
    chosen = select_frames(orm.Dict(settings), **runs)
    table = chosen['selection'].get_dict()['chosen']
    assert {row['run'] for row in table} == {'cluster', 'crystal'}
    for row in table:
        expected = (False,) * 3 if row['run'] == 'cluster' else (True,) * 3
        assert chosen[row['name']].pbc == expected, row
    # a loop that stops after this round (sure enough, or its last round) stores no frame to label
    for stop in ({'stop_fraction': 1.0}, {'max_count': 0}):
        measured = select_frames(orm.Dict({**settings, **stop}), **runs)
        assert set(measured) == {'selection'}
        assert measured['selection']['uncertain_fraction'] == 1.0 and measured['selection']['chosen'] == []


def test_a_labeller_without_the_elements_or_calculator_is_refused(count_nodes):
    builder = builder_for(cu_cells(3), calculator='ase.calculators.nope:EMT')
    before = count_nodes()
    with pytest.raises(ValueError, match='labelling: the ase labeller: cannot import'):
        run_get_node(builder)
    assert count_nodes() == before


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


PROVENANCE = """
import json, sys
from aiida import load_profile, orm
load_profile()
potential = orm.load_node(int(sys.argv[1]))

def processes(relation):
    query = orm.QueryBuilder()
    query.append(orm.Node, filters={'id': potential.pk}, tag='potential')
    query.append(orm.ProcessNode, **{relation: 'potential'}, project='*')
    return [n for (n,) in query.distinct().all()]

count = lambda nodes, label: sum(1 for n in nodes if n.process_label == label)
ancestors, descendants = processes('with_descendants'), processes('with_ancestors')
labels = [n for n in ancestors if n.process_label == 'AsePropertiesCalculation']
final = potential.creator.inputs.training_set
graded = potential.get_ase_calculator(uncertainty=True)
atoms = final.to_ase()[-1]
atoms.calc = graded
atoms.get_potential_energy()
print(json.dumps({
    'fits': count(ancestors, 'FitsnapCalculation'),
    'explore': count(ancestors, 'explore_with_potential'),
    'select': count(ancestors, 'select_frames'),
    'merge': count(ancestors, 'merge_training_sets'),
    'labels': len(labels), 'labels_ok': all(n.is_finished_ok for n in labels),
    'explore_after': count(descendants, 'explore_with_potential'),
    'select_after': count(descendants, 'select_frames'),
    'final_grade': graded.results['max_uncertainty'],
}))
"""


@pytest.mark.slow
def test_mlpgen_learn_labels_what_snap_is_unsure_of_until_it_is_sure_with_provenance(mlpgen_cli, tmp_path):
    """The command a user types, on the embedded profile, EMT playing DFT: six cells, MD at
    1200 K from three of them, at most two label rounds of four frames; then the provenance
    graph of the final potential."""
    import json

    from ase.io import write

    write(tmp_path / 'cu.extxyz', cu_cells(6).to_ase(), format='extxyz')
    mlpgen_cli('import', tmp_path / 'cu.extxyz', '-l', 'cu')
    common = ['learn', 'cu', '--type', 'snap', '--labeller', f'ase:{EMT}', '--protocol', 'fast', '-p', 'twojmax=4']
    for extra, message in (
        (['--temperatures', ''], 'exploration: give at least one exploration temperature'),
        (['--threshold', '-1'], 'threshold must be >= 0, got -1.0'),
        (['--temperatures', 'hot'], "'hot': numbers separated by commas"),
    ):
        refused = mlpgen_cli(*common, *extra, check=False)
        assert refused.returncode != 0 and message in refused.stderr, (extra, refused.stderr)
        assert 'Traceback' not in refused.stderr
    assert 'ActiveLearningWorkChain' not in mlpgen_cli('process', 'list', '-a', program='verdi').stdout
    done = mlpgen_cli(
        *common,
        '--temperatures',
        '1200',
        '--steps',
        '200',
        '--interval',
        '20',
        '--rounds',
        '2',
        '--per-round',
        '4',
        '--target',
        '0',
    ).stdout
    print(done)
    assert 'uncertainty: extrapolation grade' in done and 'threshold 2' in done
    rows = [line.split() for line in done.splitlines() if line.strip()[:1].isdigit()]
    rounds = [int(row[0]) for row in rows]
    sizes = [int(row[1]) for row in rows]
    uncertain = [float(row[5].rstrip('%')) for row in rows]
    labelled = [int(row[-1]) for row in rows]
    assert rounds == list(range(len(rows))) and 2 <= len(rows) <= 3
    # the first potential is unsure of most of its 1200 K MD; labelling makes it surer
    assert uncertain[0] > 50 and uncertain[-1] < uncertain[0]
    assert sizes == [6 + sum(labelled[:k]) for k in range(len(rows))] and 0 < sum(labelled) <= 8
    pk = int(done.split('potential SnapPotentialData<')[1].split('>')[0])
    script = tmp_path / 'provenance.py'
    script.write_text(PROVENANCE)
    found = json.loads(mlpgen_cli(script, pk, program='python').stdout.strip().splitlines()[-1])
    # the final potential's ancestors hold every earlier round's fit, MD, selection, labelling
    # calculations and merge; its own round's MD and selection descend from it
    earlier = len(rows) - 1
    assert found['fits'] == len(rows)
    assert found['explore'] == found['select'] == found['merge'] == earlier
    assert found['labels'] == sum(labelled) and found['labels_ok']
    assert found['explore_after'] == found['select_after'] == 1
    assert found['final_grade'] < 1.05  # what it was fitted on, it knows
