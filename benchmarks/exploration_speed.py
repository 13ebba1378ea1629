"""What exploration MD costs per atom and step, for each type's ASE calculator here.

    python benchmarks/exploration_speed.py [--repeat 4] [--steps 20]

A bcc Mo cell (``--repeat``³ × 2 atoms, rattled), velocity Verlet, 1 fs: milliseconds per
atom-step and what a 10 ps exploration of that cell would take, for SNAP through LAMMPS (the
stored FitSNAP fit of tests/data/outputs, 2J=4), with its extrapolation grade at every step,
our NNP engine (the stored fit there) alone and as a committee of three, a network of the
moderate protocol's size, and ACE (pyace, 30
functions, 5 Å). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

OUTPUTS = Path(__file__).resolve().parents[1] / 'tests' / 'data' / 'outputs'


def snap(graded: bool):
    from aiida_mlpgen.engines.active.calculators import WithGrades
    from aiida_mlpgen.engines.active.snap_descriptors import SnapGrades, settings_from
    from aiida_mlpgen.engines.properties.calculators import calculator_from_spec

    coeff = (OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapcoeff').read_text().splitlines()
    param = (OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapparam').read_text()
    folder = Path(tempfile.mkdtemp())
    (folder / 'p.snapcoeff').write_text('\n'.join(coeff) + '\n')
    (folder / 'p.snapparam').write_text(param)
    lines = ['pair_style snap', f'pair_coeff * * {folder}/p.snapcoeff {folder}/p.snapparam Mo']
    base = calculator_from_spec({'kind': 'lammpslib', 'lines': lines, 'elements': ['Mo']}, folder)
    if not graded:
        return base
    values = dict(line.split()[:2] for line in param.splitlines() if line.strip() and not line.startswith('#'))
    radelem, wj = next(line.split()[1:3] for line in coeff if line.startswith('Mo '))
    settings = settings_from(values, {'Mo': {'radelem': radelem, 'wj': wj}})
    return WithGrades(base, SnapGrades(settings, [cell(2, seed) for seed in range(4)]))


def nnp(members: int):
    from aiida_mlpgen.engines.active.calculators import Committee
    from aiida_mlpgen.engines.nnp.calculator import NnpCalculator
    from aiida_mlpgen.engines.nnp.model import Potential

    calculators = []
    for epoch in range(1, members + 1):
        folder = Path(tempfile.mkdtemp())
        for name in ('input.nn', 'scaling.data'):
            (folder / name).write_bytes((OUTPUTS / 'nnp_mo8' / name).read_bytes())
        (folder / 'weights.042.data').write_bytes((OUTPUTS / 'nnp_mo8' / f'weights.042.{epoch:06d}.out').read_bytes())
        calculators.append(NnpCalculator(Potential.load(folder), cflength=1.0, cfenergy=1.0))
    return calculators[0] if members == 1 else Committee(calculators)


def nnp_moderate():
    """A network of the moderate protocol's size (default functions at 5.5 Å, 20-20), its
    scaling from the test cells and small random weights: the cost does not depend on them."""
    import numpy as np

    from aiida_mlpgen.calculations.parameters import nnp as parameters
    from aiida_mlpgen.engines.nnp import descriptors
    from aiida_mlpgen.engines.nnp.calculator import NnpCalculator
    from aiida_mlpgen.engines.nnp.model import Potential, network_of
    from aiida_mlpgen.engines.nnp.scaling import Statistics
    from aiida_mlpgen.engines.nnp.settings import Settings

    p = parameters.normalize({'cutoff': 5.5, 'nodes_per_layer': 20}, ['Mo'])
    settings = Settings.parse(parameters.input_nn(p, ['Mo'], None))
    setup = descriptors.Setup.from_settings(settings)
    values = [
        descriptors.compute(setup, a.numbers, a.positions, a.cell, True, False)['Mo'].values
        for a in (cell(2, seed) for seed in range(4))
    ]
    stats = Statistics.from_values({'Mo': values})
    net = network_of(settings, len(setup.functions['Mo']))
    weights = {'Mo': net.initial_weights(np.random.default_rng(0), -0.01, 0.01)}  # small: the MD stays sane
    return NnpCalculator(Potential(settings, stats, weights))


def ace():
    from pyace import PyACECalculator, create_multispecies_basis_config

    basis = create_multispecies_basis_config(
        {
            'deltaSplineBins': 0.001,
            'elements': ['Mo'],
            'embeddings': {'ALL': {'npot': 'FinnisSinclairShiftedScaled', 'fs_parameters': [1, 1], 'ndensity': 1}},
            'bonds': {'ALL': {'radbase': 'SBessel', 'radparameters': [5.25], 'rcut': 5.0, 'dcut': 0.01}},
            'functions': {
                'number_of_functions_per_element': 30,
                'ALL': {'nradmax_by_orders': [15, 3, 2], 'lmax_by_orders': [0, 3, 2]},
            },
        }
    )
    return PyACECalculator(basis)


def cell(repeat: int, seed: int = 0):
    from ase.build import bulk

    atoms = bulk('Mo', 'bcc', 3.16, cubic=True).repeat(repeat)
    atoms.rattle(0.05, seed=seed)
    return atoms


def measure(calculator, repeat: int, steps: int) -> float:
    from ase import units
    from ase.md.verlet import VelocityVerlet

    atoms = cell(repeat)
    atoms.calc = calculator
    atoms.get_forces()
    dynamics = VelocityVerlet(atoms, 1.0 * units.fs)
    start = time.perf_counter()
    dynamics.run(steps)
    return (time.perf_counter() - start) / steps / len(atoms) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=4)
    parser.add_argument('--steps', type=int, default=20)
    args = parser.parse_args()
    atoms = 2 * args.repeat**3
    print(f'bcc Mo, {atoms} atoms, velocity Verlet, {args.steps} steps')
    print('| calculator | ms per atom-step | 10 ps of 100 atoms |')
    print('|---|---|---|')
    for name, make in (
        ('SNAP 2J=4 (LAMMPS)', lambda: snap(False)),
        ('SNAP 2J=4 + grade every step', lambda: snap(True)),
        ('ACE 30 functions (pyace)', ace),
        ('NNP (our engine)', lambda: nnp(1)),
        ('NNP committee of 3', lambda: nnp(3)),
        ('NNP, moderate size (5.5 Å, 20-20)', nnp_moderate),
    ):
        cost = measure(make(), args.repeat, args.steps)
        total = cost * 1e-3 * 100 * 10_000
        print(f'| {name} | {cost:.3f} | {total / 60:.1f} min |', flush=True)


if __name__ == '__main__':
    main()
