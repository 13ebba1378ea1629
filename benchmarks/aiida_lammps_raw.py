"""Why the LAMMPS engine is our own CalcJob and not aiida-lammps: the same tasks both ways.

    python benchmarks/aiida_lammps_raw.py

The equation-of-state tasks of bcc Mo with the mlearn SNAP run (a) through aiida-lammps'
``lammps.raw`` (script + every data and potential file as a SinglefileData input, the log
retrieved by ``additional_retrieve_list``) and (b) through ``mlpgen.properties.lammps``.
Prints wall time, the number of input nodes, and what each gives as outputs.
"""

from __future__ import annotations

import glob
import tempfile
import time
from pathlib import Path

from scratch import scratch_profile


def main() -> None:
    scratch_profile()
    from aiida import orm
    from aiida.engine import run_get_node
    from aiida_lammps.calculations.raw import LammpsRawCalculation
    from ase.build import bulk

    from aiida_mlpgen.calculations.properties import LammpsPropertiesCalculation
    from aiida_mlpgen.data.potentials import SnapPotentialData
    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.engines.properties import eos, lammps_input

    setup()
    shared = Path(__file__).resolve().parents[2] / 'shared'
    potential = SnapPotentialData.from_files(*sorted(glob.glob(f'{shared}/reference_potentials/mlearn/Mo/snap/*')))
    potential.store()
    atoms = bulk('Mo', 'bcc', a=3.16, cubic=True)
    code = orm.load_code('lammps@localhost')
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        potential.write_lammps(folder, relative=True)
        lammps_input.write_input(eos.tasks(atoms, **eos.DEFAULTS), folder, ['Mo'])
        files = {
            p.name.replace('.', '_'): orm.SinglefileData(str(p))
            for p in folder.iterdir()
            if p.name != lammps_input.INPUT_NAME
        }
        raw, raw_node = run_get_node(
            LammpsRawCalculation,
            code=code,
            script=orm.SinglefileData(str(folder / lammps_input.INPUT_NAME)),
            files=files,
            filenames=orm.Dict({k: v.filename for k, v in files.items()}),
            settings=orm.Dict({'additional_retrieve_list': [lammps_input.LOG_NAME]}),
            metadata={'options': {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}},
        )
    raw_seconds = time.perf_counter() - start
    start = time.perf_counter()
    ours, our_node = run_get_node(
        LammpsPropertiesCalculation,
        code=code,
        potential=potential,
        structure=orm.StructureData(ase=atoms),
        property=orm.Str('eos'),
    )
    our_seconds = time.perf_counter() - start
    print('| route | exit | wall (s) | input nodes | outputs |\n|---|---|---|---|---|')
    for name, node, seconds, outputs in (
        ('aiida-lammps lammps.raw', raw_node, raw_seconds, raw),
        ('mlpgen.properties.lammps', our_node, our_seconds, ours),
    ):
        print(
            f'| {name} | {node.exit_status} | {seconds:.1f} | {len(node.base.links.get_incoming().all())} | '
            f'{", ".join(sorted(outputs))} |'
        )
    print('\nlammps.raw `results`:', sorted(raw['results'].get_dict().get('compute_variables', {})))
    print('mlpgen `properties`:', ours['properties'].get_dict())


if __name__ == '__main__':
    main()
