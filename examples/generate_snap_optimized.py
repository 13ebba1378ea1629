"""SNAP for mlearn Mo with hyperparameter optimisation — run with ``verdi run`` (or ``python``).

    verdi run examples/generate_snap_optimized.py [path/to/training.json]

Imports the data, lets the generator split it 90/10, optimises rcutfac, radelem and wj with
nlopt BOBYQA (20 fits, 4 at a time) and prints the trials and where the potential came from.
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
builder = MlpGeneratorWorkChain.get_builder_from_protocol(
    training_set, 'snap', 'moderate', optimize={'keys': ['rcutfac', 'radelem', 'wj'], 'budget': 20, 'max_in_flight': 4}
)
results, node = run_get_node(builder)
print(f'{node.process_label}<{node.pk}>: [{node.exit_status}] {node.exit_message or "ok"}')
table = results['trials'].get_dict()
for row in table['rows']:
    print(f'trial {row["trial"]:2d}  objective {row["objective"]:.4f}  rcutfac {row["rcutfac"]:.3f}')
print('best trial', table['best_trial'], 'parameters', results['parameters'].get_dict())
print('\n'.join(results['potential'].lammps_lines()))
