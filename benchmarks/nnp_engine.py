"""Cost of our NNP engine vs problem size: descriptors and evaluation, training epochs, Kalman updates.

    python benchmarks/nnp_engine.py [--quick]

1. Symmetry functions (with derivatives) and a full evaluation (energy + forces) per
   structure, for bcc Mo supercells of growing size and for the default function set at
   two densities; peak memory of the descriptor arrays (tracemalloc sees numpy's buffers).
2. Seconds per training epoch on 30 mlearn Mo structures for hidden layers of 10, 20 and
   40 nodes (the engine's own log lines).
3. One Kalman update (BLAS symv + syr on the n×n covariance) vs the number of weights n,
   and the memory of P.
No AiiDA: the engine alone, one thread for BLAS as in training.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / 'shared'


def _settings_text(cutoff: float, nodes: int, density: int = 1, epochs: int = 1) -> str:
    from aiida_mlpgen.calculations.parameters import nnp as nnp_parameters
    from aiida_mlpgen.engines.nnp.sfsets import default_rows

    rows = default_rows(cutoff)
    for row in rows:
        row['n_points'] = row['n_points'] * density
    p = nnp_parameters.normalize(
        {'cutoff': cutoff, 'nodes_per_layer': nodes, 'epochs': epochs, 'symmetry_functions': rows}, ['Mo']
    )
    return nnp_parameters.input_nn(p, ['Mo'], None)


def descriptors_table(sizes, densities) -> list[str]:
    from ase.build import bulk

    from aiida_mlpgen.engines.nnp import descriptors
    from aiida_mlpgen.engines.nnp.settings import Settings

    lines = [
        '| atoms | symmetry functions | descriptors + derivatives (s) | per atom (ms) | peak memory (MB) |',
        '|---|---|---|---|---|',
    ]
    for density in densities:
        setup = descriptors.Setup.from_settings(Settings.parse(_settings_text(6.0, 20, density)))
        n_sf = len(setup.functions['Mo'])
        for n in sizes:
            atoms = bulk('Mo', 'bcc', a=3.16, cubic=True).repeat(n)
            atoms.rattle(0.05, seed=1)
            tracemalloc.start()
            start = time.perf_counter()
            descriptors.compute(setup, atoms.numbers, atoms.positions, atoms.cell[:], atoms.pbc, True)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            lines.append(f'| {len(atoms)} | {n_sf} | {seconds:.3f} | {1000 * seconds / len(atoms):.2f} | {peak:.0f} |')
    return lines


def epochs_table(nodes_list, n_structures) -> list[str]:
    from aiida_mlpgen.data.training_set.formats import n2p2_data, read
    from aiida_mlpgen.data.training_set.frames import Frames
    from aiida_mlpgen.engines.nnp import cli
    from aiida_mlpgen.engines.nnp.training import Trainer
    from aiida_mlpgen.parsers.n2p2 import epoch_seconds

    frames = read(SHARED / 'datasets' / 'mlearn' / 'Mo' / 'training.json')
    step = max(1, len(frames) // n_structures)
    chosen = frames[::step][:n_structures]
    atoms = sum(len(f.numbers) for f in chosen)
    lines = [
        f'| nodes per layer | weights | s per epoch ({len(chosen)} structures, {atoms} atoms) | ms per structure |',
        '|---|---|---|---|',
    ]
    for nodes in nodes_list:
        with tempfile.TemporaryDirectory() as directory:
            folder = Path(directory)
            n2p2_data.write(Frames.from_frames(chosen), folder / 'input.data')
            (folder / 'input.nn').write_text(_settings_text(5.0, nodes, epochs=2))
            cli.scaling(folder, 20)
            text = []
            Trainer(folder, log=text.append).run()
            seconds = float(np.mean(epoch_seconds('\n'.join(text))))
            weights = [line for line in text if 'weights' in line and 'updates per epoch' in line]
            n_weights = weights[0].split(' weights')[0].split()[-1] if weights else '?'
            lines.append(f'| {nodes} | {n_weights} | {seconds:.2f} | {1000 * seconds / len(chosen):.1f} |')
    return lines


def kalman_table(sizes, repeats: int = 200) -> list[str]:
    from threadpoolctl import threadpool_limits

    from aiida_mlpgen.engines.nnp.kalman import KalmanFilter
    from aiida_mlpgen.engines.nnp.settings import Settings

    settings = Settings.parse(_settings_text(5.0, 10))
    rng = np.random.default_rng(0)
    lines = ['| weights n | one update (ms) | P memory (MB) |', '|---|---|---|']
    for n in sizes:
        kalman = KalmanFilter(rng.normal(size=n), settings, 1000)
        jacobians = rng.normal(size=(repeats, n)) * 1e-2
        with threadpool_limits(1):
            start = time.perf_counter()
            for h in jacobians:
                kalman.update(1e-3, h)
            seconds = (time.perf_counter() - start) / repeats
        lines.append(f'| {n} | {1000 * seconds:.3f} | {n * n * 8 / 2**20:.0f} |')
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='smaller sizes (about a minute)')
    args = parser.parse_args()
    sizes = (2, 3) if args.quick else (2, 3, 4, 5)
    densities = (1,) if args.quick else (1, 2)
    for title, lines in (
        ('Symmetry functions, bcc Mo supercells (cutoff 6 Å)', descriptors_table(sizes, densities)),
        (
            'Training epochs (cutoff 5 Å, 2 hidden layers)',
            epochs_table((10, 20) if args.quick else (10, 20, 40), 10 if args.quick else 30),
        ),
        ('Kalman filter', kalman_table((500, 1000) if args.quick else (500, 1000, 2000, 4000))),
    ):
        print(f'\n{title}\n' + '\n'.join(lines), flush=True)


if __name__ == '__main__':
    main()
