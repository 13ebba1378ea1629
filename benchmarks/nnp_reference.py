"""The published mlearn n2p2 potentials through our evaluator, on their training sets.

    python benchmarks/nnp_reference.py [--elements Ge,Li,Mo,Si]

The potentials are in Bohr/Hartree (cflength 1.8897261, cfenergy 1/27.2114); prints energy
MAE/RMSE (meV/atom), force MAE/RMSE (eV/Å) next to an independent evaluator's MAEs, and the
evaluation time per atom (energies, forces).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from aiida_mlpgen.data.training_set.formats import mlearn_json
from aiida_mlpgen.engines.nnp.model import Potential

BOHR, HARTREE = 1.8897261246257702, 0.03674932217565499
INDEPENDENT = {'Ge': (5.67, 0.104), 'Li': (0.784, 0.0169), 'Mo': (3.73, 0.121), 'Si': (7.49, 0.0985)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--elements', default='Ge,Li,Mo,Si')
    args = parser.parse_args()
    print(
        '| element | structures | atoms | E MAE / RMSE (meV/atom) | independent E MAE | F MAE / RMSE (eV/Å) '
        '| independent F MAE | ms per atom |'
    )
    print('|---|---|---|---|---|---|---|---|')
    for element in args.elements.split(','):
        potential = Potential.load(args.shared / 'reference_potentials' / 'mlearn' / element / 'nnp')
        frames = mlearn_json.read(args.shared / 'datasets' / 'mlearn' / element / 'training.json')
        de, df, atoms = [], [], 0
        start = time.perf_counter()
        for frame in frames:
            result = potential.evaluate(frame.numbers, frame.positions * BOHR, frame.cell * BOHR, frame.pbc)
            de.append((result.energy / HARTREE - frame.energy) / len(frame.numbers))
            df.append((result.forces * BOHR / HARTREE - frame.forces).ravel())
            atoms += len(frame.numbers)
        elapsed = time.perf_counter() - start
        de, df = np.array(de), np.concatenate(df)
        ref = INDEPENDENT.get(element, (float('nan'), float('nan')))
        print(
            f'| {element} | {len(frames)} | {atoms} | {1000 * np.abs(de).mean():.3f} / '
            f'{1000 * np.sqrt(np.mean(de**2)):.3f} | {ref[0]} | {np.abs(df).mean():.4f} / '
            f'{np.sqrt(np.mean(df**2)):.4f} | {ref[1]} | {1000 * elapsed / atoms:.2f} |'
        )


if __name__ == '__main__':
    main()
