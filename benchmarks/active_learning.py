"""Active learning against random choice: which potential is better on MD it never saw?

    python benchmarks/active_learning.py [--types snap,ace,nnp] [--temperature 1200] [--rounds 3]
                                         [--per-round 6] [--initial 8] [--seed 0]

EMT plays DFT for fcc Cu (labeller ``ase`` with ``ase.calculators.emt:EMT``, one
``AsePropertiesCalculation`` per label). Every run starts from the same ``--initial``
rattled/strained 32-atom cells and explores by MD at the ``--explore`` temperatures (the
default of ``mlpgen learn``) from three of them; the test is MD at ``--temperature``.
For each type, three potentials of the same training-set size are compared on 30 frames of
EMT's own MD at that temperature (another start and seed; no round saw them):

- ``loop``: ``ActiveLearningWorkChain`` (strategy "uncertainty"), ``--rounds`` rounds of at
  most ``--per-round`` labels;
- ``random``: the same loop with strategy "random" (frames of its exploration drawn at random,
  as many per round), until it has labelled as many frames as the loop;
- ``true MD``: the initial cells plus as many frames drawn at random from EMT's own MD at the
  temperature (a third seed) — data a user would have to pay ab initio MD for.

Prints a Markdown table (energy and force MAE/RMSE, training size, labels, wall time) and
writes ``benchmarks/results/active_learning.csv``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from scratch import scratch_profile

#: fits small enough for a laptop: the fast protocol with these overrides
OVERRIDES = {
    'snap': {'twojmax': 6},
    'ace': {'number_of_functions': 30, 'max_iterations': 100},
    'nnp': {'epochs': 10, 'nodes_per_layer': 10},
}
EMT = 'ase.calculators.emt:EMT'
DFT = {'code': f'ASE {EMT}()'}


def labelled(atoms, group: str):
    from ase.calculators.emt import EMT as Calculator

    from aiida_mlpgen.data.training_set.frames import Frame

    atoms = atoms.copy()
    atoms.calc = Calculator()
    return Frame.from_atoms(
        atoms,
        energy=atoms.get_potential_energy(),
        forces=atoms.get_forces(),
        stress=atoms.get_stress(voigt=False),
        group=group,
        dft=dict(DFT),
    )


def initial_cells(count: int, seed: int):
    from ase.build import bulk

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        atoms = bulk('Cu', 'fcc', 3.61 * rng.uniform(0.97, 1.03), cubic=True).repeat(2)
        atoms.rattle(rng.uniform(0.02, 0.06), seed=int(rng.integers(1 << 30)))
        out.append(atoms)
    return out


def emt_md(temperature: float, frames: int, seed: int, interval: int = 50, equilibration: int = 500):
    """Frames of EMT's own Langevin MD of a 32-atom cell at ``temperature``."""
    from ase import units
    from ase.build import bulk
    from ase.calculators.emt import EMT as Calculator
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    atoms = bulk('Cu', 'fcc', 3.61, cubic=True).repeat(2)
    atoms.calc = Calculator()
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    dynamics = Langevin(atoms, 2 * units.fs, temperature_K=temperature, friction=0.02, rng=rng)
    dynamics.run(equilibration)
    out = []
    for _ in range(frames):
        dynamics.run(interval)
        image = atoms.copy()
        image.calc = None
        out.append(image)
    return out


def errors(potential, images) -> dict:
    calculator = potential.get_ase_calculator()
    de, df = [], []
    for atoms in images:
        reference = labelled(atoms, 'test')
        image = atoms.copy()
        image.calc = calculator
        de.append((image.get_potential_energy() - reference.energy) / len(atoms) * 1000)
        df.append((image.get_forces() - reference.forces).ravel())
    de, df = np.array(de), np.concatenate(df)
    return {
        'energy_mae': float(np.abs(de).mean()),
        'energy_rmse': float(np.sqrt((de**2).mean())),
        'force_mae': float(np.abs(df).mean()),
        'force_rmse': float(np.sqrt((df**2).mean())),
    }


def run_loop(kind, initial, args, strategy, budget=None, rounds=None):
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.workflows.active_learning import ActiveLearningWorkChain

    builder = ActiveLearningWorkChain.get_builder_from_protocol(
        initial,
        kind,
        'ase',
        orm.load_code('properties@localhost'),
        {'calculator': EMT},
        protocol='fast',
        overrides=OVERRIDES[kind],
        exploration_settings={
            'temperatures': [float(x) for x in args.explore.split(',')],
            'steps': args.steps,
            'interval': 20,
            'timestep_fs': 2.0,
        },
        per_round=args.per_round,
        max_rounds=rounds or args.rounds,
        target_fraction=0.0,
        strategy=strategy,
        seed=args.seed,
        **({'label_budget': budget} if budget else {}),
    )
    start = time.time()
    results, node = run_get_node(builder)
    if not node.is_finished_ok:
        raise RuntimeError(f'{strategy} loop of {kind}: [{node.exit_status}] {node.exit_message}')
    return results, time.time() - start, node


def fit_once(kind, training_set):
    from aiida.engine import run_get_node

    from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

    builder = MlpGeneratorWorkChain.get_builder_from_protocol(training_set, kind, 'fast', overrides=OVERRIDES[kind])
    start = time.time()
    results, node = run_get_node(builder)
    if not node.is_finished_ok:
        raise RuntimeError(f'fit of {kind}: [{node.exit_status}] {node.exit_message}')
    return results['potential'], time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--types', default='snap,ace,nnp')
    parser.add_argument('--temperature', type=float, default=1200.0, help='the test MD (and the hot exploration)')
    parser.add_argument('--explore', default='300,1200', help='exploration temperatures, K (as mlpgen learn)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--per-round', type=int, default=6)
    parser.add_argument('--steps', type=int, default=400, help='MD steps of each exploration run (2 fs)')
    parser.add_argument('--initial', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--output', type=Path, default=Path(__file__).parent / 'results' / 'active_learning.csv')
    args = parser.parse_args()
    scratch_profile('mlpgen-bench-al-')
    from aiida_mlpgen.cli.learn import round_table
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

    setup()
    initial_images = initial_cells(args.initial, args.seed)
    initial = TrainingSetData([labelled(a, 'initial') for a in initial_images]).store()
    test = emt_md(args.temperature, 30, seed=1000 + args.seed)
    pool = emt_md(args.temperature, 60, seed=2000 + args.seed)
    rows = []
    print(
        f'Cu, EMT as DFT; {args.initial} initial cells; exploration MD at {args.explore} K; '
        f'{args.rounds} rounds of at most {args.per_round}; test: 30 unseen EMT MD frames at {args.temperature:g} K'
    )
    print('| type | training set | structures | labels | E MAE / RMSE (meV/atom) | F MAE / RMSE (eV/Å) | wall (s) |')
    print('|---|---|---|---|---|---|---|')
    for kind in args.types.split(','):
        loop, loop_wall, _ = run_loop(kind, initial, args, 'uncertainty')
        labels = loop['rounds']['labelled']
        random_loop, random_wall, _ = run_loop(kind, initial, args, 'random', budget=labels, rounds=4 * args.rounds)
        for name, result in (('loop', loop), ('random', random_loop)):
            print(f'{kind} {name}, round by round:\n{round_table(result["rounds"].get_dict())}', flush=True)
        rng = np.random.default_rng(args.seed)
        picks = rng.choice(len(pool), size=labels, replace=False)
        true_md = TrainingSetData(
            [labelled(a, 'initial') for a in initial_images] + [labelled(pool[i], 'md') for i in sorted(picks)]
        ).store()
        true_potential, true_wall = fit_once(kind, true_md)
        for name, potential, size, count, wall in (
            ('loop', loop['potential'], loop['training_set'].n_structures, labels, loop_wall),
            (
                'random',
                random_loop['potential'],
                random_loop['training_set'].n_structures,
                random_loop['rounds']['labelled'],
                random_wall,
            ),
            ('true MD', true_potential, true_md.n_structures, labels, true_wall),
        ):
            found = errors(potential, test)
            rows.append({'type': kind, 'set': name, 'structures': size, 'labels': count, 'wall_s': wall, **found})
            print(
                f'| {kind} | {name} | {size} | {count} | {found["energy_mae"]:.2f} / {found["energy_rmse"]:.2f} | '
                f'{found["force_mae"]:.4f} / {found["force_rmse"]:.4f} | {wall:.0f} |',
                flush=True,
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open('w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == '__main__':
    main()
