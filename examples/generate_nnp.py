"""An NNP (our n2p2-compatible engine) with the generator's "fast" protocol — ``verdi run`` it.

    verdi run examples/generate_nnp.py [path/to/training.json]

The fit runs inside N2p2BaseWorkChain: a walltime kill continues from the last epoch's
weights, a diverging training restarts with a more cautious Kalman filter.
"""

import sys
from pathlib import Path

from aiida import load_profile
from aiida.engine import run_get_node

from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.embedded import ensure_ready
from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

ensure_ready()
load_profile()
HERE = Path(sys.argv[0]).resolve().parent  # verdi run gives __file__ without its folder, argv[0] with it
source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / 'data' / 'Mo_mlearn_slice.json'
training_set = TrainingSetData.from_file(source).store()
builder = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, 'nnp', 'fast')
results, node = run_get_node(builder)
print(f'{node.process_label}<{node.pk}>: [{node.exit_status}] {node.exit_message or "ok"}')
print(results['report'].get_content())
results['potential'].write_lammps('nnp_lammps')
print('LAMMPS files in nnp_lammps/ (needs a LAMMPS with ML-HDNNP)')
