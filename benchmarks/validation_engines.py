"""Validation of the published mlearn Mo SNAP (bcc Mo): LAMMPS engine vs ASE engine.

    python benchmarks/validation_engines.py [--properties eos,elastic,vacancy,surface:100]

Both engines run the same tasks (same strains, supercells, slabs); LAMMPS relaxes with
conjugate gradients in ``lmp``, ASE with BFGS and the potential's ASE calculator. Prints
every value of both, the relative difference, and each engine's wall time. Issue 7 asks
for the lattice parameter within 0.05 % and Cij, B, vacancy and (100) surface energy
within 1 %. Runs on a temporary embedded profile (AIIDA_PATH) unless one is set.
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path

from scratch import scratch_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--properties', default='eos,elastic,vacancy,surface:100')
    parser.add_argument('--lattice', type=float, default=3.16, help='starting bcc lattice parameter (Å)')
    args = parser.parse_args()
    scratch_profile()

    from aiida import orm
    from aiida.engine import run_get_node
    from ase.build import bulk

    from aiida_mlpgen.data.potentials import SnapPotentialData
    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    setup()
    folder = args.shared / 'reference_potentials' / 'mlearn' / 'Mo' / 'snap'
    potential = SnapPotentialData.from_files(*sorted(glob.glob(f'{folder}/*'))).store()
    structure = orm.StructureData(ase=bulk('Mo', 'bcc', a=args.lattice, cubic=True))
    values, seconds = {}, {}
    for engine, code in (('lammps', 'lammps@localhost'), ('ase', 'properties@localhost')):
        start = time.perf_counter()
        results, node = run_get_node(
            ValidationWorkChain,
            potential=potential,
            structure=structure,
            properties=orm.List(args.properties.split(',')),
            engine=orm.Str(engine),
            code=orm.load_code(code),
        )
        seconds[engine] = time.perf_counter() - start
        if not node.is_finished_ok:
            raise SystemExit(f'{engine}: [{node.exit_status}] {node.exit_message}')
        values[engine] = results['values'].get_dict()
    limits = {'lattice_parameter': 0.05}
    print('| value | LAMMPS | ASE | difference (%) | limit (%) |\n|---|---|---|---|---|')
    worst = 0.0
    for key in sorted(values['lammps']):
        a, b = values['lammps'][key], values['ase'][key]
        diff = 100 * abs(a - b) / abs(b) if b else 0.0
        limit = limits.get(key, 1.0)
        worst = max(worst, diff / limit)
        print(f'| {key} | {a:.6g} | {b:.6g} | {diff:.2e} | {limit} |')
    print(
        f'\nwall time: LAMMPS engine {seconds["lammps"]:.1f} s, ASE engine {seconds["ase"]:.1f} s; '
        f'largest difference / limit: {worst:.3g}'
    )


if __name__ == '__main__':
    main()
