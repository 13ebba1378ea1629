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
source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / 'data' / 'Mo_mlearn_slice.json'
training_set = TrainingSetData.from_file(source).store()
for kind in ('snap', 'ace', 'nnp'):
    results, node = run_get_node(MlpGeneratorWorkChain.get_builder_from_protocol(training_set, kind, 'fast'))
    overall = results['metrics'].get_dict()['energy']['validation']['overall']
    print(f'{kind}: validation energy RMSE {overall["rmse"] * 1000:.2f} meV/atom ({node.process_label}<{node.pk}>)')

# Δ-learning, "include": the published mlearn Mo SNAP as the baseline, a small SNAP learns the rest
published = Path(__file__).resolve().parents[2] / 'shared' / 'reference_potentials' / 'mlearn' / 'Mo' / 'snap'
if published.exists():
    baseline = SnapPotentialData.from_files(published / 'SNAPotential.snapcoeff', published / 'SNAPotential.snapparam')
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, 'snap', 'fast')
    builder.delta_mode = orm.Str('include')
    builder.delta_potential = baseline.store()
    results, node = run_get_node(builder)
    print('overlay:', '\n'.join(results['potential'].lammps_lines()))
