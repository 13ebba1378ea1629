"""Active learning with real DFT: a few Si cells labelled by pw.x, then SNAP learns where it is
unsure in 1200 K MD of the 8-atom cubic cell, pw.x labelling what it asks for. Run with
``python examples/si_active_learning.py`` on a machine with pw.x (Debian: quantum-espresso,
quantum-espresso-data); ``mlpgen setup`` registers pw.x as ``pw@localhost``.

The cutoffs and k-points are small so that it runs in minutes on a laptop; on a cluster use an
SSSP family (``aiida-pseudo install sssp``) and its recommended cutoffs (the default).
"""

import time

from aiida import load_profile, orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.cli.learn import round_table
from aiida_mlpgen.embedded import setup
from aiida_mlpgen.labellers.pseudos import DEBIAN_PSEUDOS, family_from_files
from aiida_mlpgen.workflows.active_learning import ActiveLearningWorkChain
from aiida_mlpgen.workflows.training_set_generation import GenerateTrainingSetWorkChain

setup()
load_profile()
family_from_files('debian-pbe', [DEBIAN_PSEUDOS / 'Si.pbe-rrkj.UPF'], {'Si': (16.0, 64.0)})
pw = orm.load_code('pw@localhost')
qe = {'pseudo_family': 'debian-pbe', 'kpoints_spacing': 0.5}
start = time.time()

# the initial set: the fast protocol's strained, sheared and rattled 8-atom cells, no MD
generation = GenerateTrainingSetWorkChain.get_builder_from_protocol(
    pw,
    {'si': orm.StructureData(ase=bulk('Si', cubic=True))},
    labeller='quantumespresso',
    protocol='fast',
    labeller_settings=qe,
    generation_overrides={'md': {'temperatures': []}, 'vacancies': {'count': 0}},
    max_concurrent=2,
)
generated, node = run_get_node(generation)
assert node.is_finished_ok, node.exit_message
initial = generated['training_set']
print(f'initial TrainingSetData<{initial.pk}>: {initial.n_structures} structures ({time.time() - start:.0f} s)')

builder = ActiveLearningWorkChain.get_builder_from_protocol(
    initial,
    'snap',
    'quantumespresso',
    pw,
    qe,
    protocol='fast',
    overrides={'twojmax': 6},
    exploration_settings={'temperatures': [1200], 'steps': 300, 'interval': 30},
    starts={'si8': orm.StructureData(ase=bulk('Si', cubic=True))},
    per_round=4,
    max_rounds=2,
)
builder.labelling.max_concurrent = orm.Int(2)
results, node = run_get_node(builder)
assert node.is_finished_ok, node.exit_message
print(round_table(results['rounds'].get_dict()))
print(
    f'potential {results["potential"].pk}, training set {results["training_set"].pk} '
    f'({results["training_set"].n_structures} structures), ActiveLearningWorkChain<{node.pk}>, '
    f'{time.time() - start:.0f} s in all'
)
