"""Si from scratch: one bulk cell → generated structures labelled by pw.x → SNAP → validation
against pw.x's own equation of state. Run with ``verdi run examples/si_from_scratch.py``
(or ``python``, on the default profile) on a machine with pw.x (Debian: quantum-espresso,
quantum-espresso-data); ``mlpgen setup`` registers pw.x as ``pw@localhost``.

On a cluster, use your pw.x code and an SSSP family (``aiida-pseudo install sssp``) instead,
and drop the small cutoffs below: the family's recommended ones are the default.
"""

from aiida import load_profile, orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.embedded import setup
from aiida_mlpgen.labellers.pseudos import DEBIAN_PSEUDOS, family_from_files
from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain
from aiida_mlpgen.workflows.training_set_generation import GenerateTrainingSetWorkChain
from aiida_mlpgen.workflows.validation import ValidationWorkChain

setup()  # the default profile, localhost computer and codes (pw@localhost when pw.x is on PATH)
load_profile()
family_from_files('debian-pbe', [DEBIAN_PSEUDOS / 'Si.pbe-rrkj.UPF'], {'Si': (24.0, 96.0)})
pw = orm.load_code('pw@localhost')
qe = {'pseudo_family': 'debian-pbe', 'kpoints_spacing': 0.4}

builder = GenerateTrainingSetWorkChain.get_builder_from_protocol(
    pw,
    {'si': orm.StructureData(ase=bulk('Si'))},
    labeller='quantumespresso',
    protocol='moderate',
    labeller_settings=qe,
    generation_overrides={'supercell': [2, 1, 1], 'md': {'temperatures': [300, 900], 'steps': 20}},
    max_concurrent=2,
)
results, node = run_get_node(builder)
training_set = results['training_set']
print(f'TrainingSetData<{training_set.pk}>: {training_set.n_structures} structures, {training_set.group_counts}')
print('left out:', results['failed'].get_list())

fit = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, 'snap', 'moderate')
fitted, _ = run_get_node(fit)
print(fitted['report'].get_content())

validation, _ = run_get_node(
    ValidationWorkChain,
    potential=fitted['potential'],
    structure=orm.StructureData(ase=bulk('Si')),
    properties=orm.List(['eos', 'elastic']),
    code=orm.load_code('lammps@localhost'),
    dft_reference={'labeller': orm.Str('quantumespresso'), 'code': pw, 'settings': orm.Dict(qe)},
)
print(validation['report'].get_content())
