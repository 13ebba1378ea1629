"""Generator over all three types on the same data, and a SNAP fitted on top of a ZBL Δ-potential.

verdi run examples/generate_ace_delta_snap.py [path/to/training.json]
"""

import sys
from pathlib import Path

from aiida import load_profile, orm
from aiida.engine import run_get_node

from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.potentials import SnapPotentialData
from aiida_mlpgen.embedded import ensure_ready
from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

ensure_ready()
load_profile()
HERE = Path(sys.argv[0]).resolve().parent  # verdi run gives __file__ without its folder, argv[0] with it
source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / 'data' / 'Mo_mlearn_slice.json'
training_set = TrainingSetData.from_file(source).store()
#: pyace differentiates numerically on a CPU: a small ACE keeps this example to minutes.
OVERRIDES = {'ace': {'number_of_functions': 10, 'max_iterations': 10, 'min_iterations': 0}}
for kind in ('snap', 'ace', 'nnp'):
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, kind, 'fast', overrides=OVERRIDES.get(kind))
    results, node = run_get_node(builder)
    overall = results['metrics'].get_dict()['energy']['validation']['overall']
    print(f'{kind}: validation energy RMSE {overall["rmse"] * 1000:.2f} meV/atom ({node.process_label}<{node.pk}>)')

# Δ-learning, "include": the published mlearn Mo SNAP as the baseline, a small SNAP learns the rest
published = HERE.parents[1] / 'shared' / 'reference_potentials' / 'mlearn' / 'Mo' / 'snap'
if published.exists():
    baseline = SnapPotentialData.from_files(published / 'SNAPotential.snapcoeff', published / 'SNAPotential.snapparam')
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, 'snap', 'fast')
    builder.delta_mode = orm.Str('include')
    builder.delta_potential = baseline.store()
    results, node = run_get_node(builder)
    print('overlay:', '\n'.join(results['potential'].lammps_lines()))
