"""``mlpgen-nnp``: n2p2's programs and file contracts, run in the current folder.

mlpgen-nnp scaling NBINS          # nnp-scaling:  input.nn + input.data -> scaling.data, sf.*.histo
mlpgen-nnp prune range THRESHOLD  # nnp-prune:    -> output-prune-range.nn
mlpgen-nnp train                  # nnp-train:    -> weights.ZZZ.EEEEEE.out, learning-curve.out, ...
mlpgen-nnp predict                # nnp-dataset:  -> output.data, energy.comp, forces.comp
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import descriptors, files
from .scaling import Statistics, prune_range
from .settings import NnpInputError, Settings


def scaling(folder: Path, bins: int) -> Statistics:
    from aiida_mlpgen.common.progress_file import ProgressFile

    settings = Settings.read(folder / 'input.nn')
    setup = descriptors.Setup.from_settings(settings)
    frames = files.read_structures(folder / 'input.data')
    ProgressFile(folder)(f'preparing: symmetry-function ranges of {len(frames)} structures')
    if not frames:
        raise NnpInputError(f'{folder / "input.data"}: no structures')
    values = {e: [] for e in setup.elements}
    start = time.perf_counter()
    for frame in frames:
        blocks = descriptors.compute(setup, frame.numbers, frame.positions, frame.cell, frame.pbc, False)
        for e, block in blocks.items():
            values[e].append(block.values)
    stats = Statistics.from_values(values)
    stats.write(folder / 'scaling.data')
    stats.histograms(values, bins, folder)
    for e in setup.elements:
        spans = stats.maximum[e] - stats.minimum[e]
        print(f'{e}: {len(spans)} symmetry functions, smallest range {spans.min():.3e}')
    print(f'scaling.data written from {len(frames)} structures in {time.perf_counter() - start:.1f} s')
    return stats


def prune(folder: Path, mode: str, threshold: float) -> set[int]:
    if mode != 'range':
        raise NnpInputError(f'prune mode {mode!r}: only "range" is available (sensitivity needs nnp-train output)')
    settings = Settings.read(folder / 'input.nn')
    stats = Statistics.read(folder / 'scaling.data', settings)
    lines = prune_range(settings, stats, threshold)
    (folder / 'output-prune-range.nn').write_text(settings.text(lines))
    print(f'{len(lines)} symmetry functions with range below {threshold:g} pruned -> output-prune-range.nn')
    return lines


def train(folder: Path) -> dict:
    from aiida_mlpgen.common.progress_file import ProgressFile

    from .training import Trainer

    torch_threads()
    return Trainer(folder, log=lambda text: print(text, flush=True), progress=ProgressFile(folder)).run()


def predict(folder: Path) -> None:
    from aiida_mlpgen.data.training_set.formats import n2p2_data
    from aiida_mlpgen.data.training_set.frames import Frame, Frames

    from .model import Potential

    potential = Potential.load(folder)
    frames = files.read_structures(folder / 'input.data')
    out, energies, forces = [], [], []
    for i, frame in enumerate(frames):
        result = potential.evaluate(frame.numbers, frame.positions, frame.cell, frame.pbc)
        out.append(Frame(frame.cell, frame.numbers, frame.positions, result.energy, result.forces, pbc=frame.pbc))
        energies.append(f'{i:10d} {len(frame.numbers):6d} {frame.energy or 0.0:24.16E} {result.energy:24.16E}')
        forces += [
            f'{i:10d} {a:6d} {r:24.16E} {p:24.16E}'
            for a, (r, p) in enumerate(zip(frame.forces.ravel(), result.forces.ravel(), strict=True))
        ]
    n2p2_data.write(Frames.from_frames(out), folder / 'output.data')
    (folder / 'energy.comp').write_text('# index natoms Eref Ennp\n' + '\n'.join(energies) + '\n')
    (folder / 'forces.comp').write_text('# index_s component Fref Fnnp\n' + '\n'.join(forces) + '\n')
    print(f'predicted {len(frames)} structures -> output.data, energy.comp, forces.comp')


def torch_threads() -> None:
    import torch

    threads = os.environ.get('OMP_NUM_THREADS')
    if threads and threads.isdigit():
        torch.set_num_threads(int(threads))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='mlpgen-nnp', description='n2p2-compatible NNP engine of aiida-mlpgen')
    parser.add_argument('-C', '--directory', default='.', help='folder with input.nn and input.data (default: .)')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('scaling', help='symmetry-function statistics (nnp-scaling)')
    p.add_argument('bins', type=int, nargs='?', default=500, help='histogram bins')
    p = sub.add_parser('prune', help='remove symmetry functions (nnp-prune)')
    p.add_argument('mode', choices=['range'])
    p.add_argument('threshold', type=float)
    sub.add_parser('train', help='Kalman-filter training (nnp-train)')
    sub.add_parser('predict', help='energies and forces of every structure in input.data')
    args = parser.parse_args(argv)
    folder = Path(args.directory)
    try:
        if args.command == 'scaling':
            scaling(folder, args.bins)
        elif args.command == 'prune':
            prune(folder, args.mode, args.threshold)
        elif args.command == 'train':
            train(folder)
        else:
            predict(folder)
    except (NnpInputError, ValueError) as error:
        print(f'ERROR: {error}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
