"""Our engine on the n2p2 speed anchor of ../shared/README.md: mlearn Mo, the published input.nn.

    python benchmarks/nnp_n2p2_anchor.py [--epochs 5] [--workdir DIR]

Real n2p2 v2.3.0 (one thread, 2-core machine): `nnp-scaling 200` 1.4 s, `nnp-train` 5 epochs
75 s (~15 s per epoch), after 5 epochs test energy RMSE 10.0 meV/atom, force RMSE 0.199 eV/Å.
The data go to input.data in Bohr/Hartree, as the published potential was trained; the
published input.nn is used as it is (39 symmetry functions, 16-16 tanh network, Kalman
filter, short_force_fraction 0.02315) except epochs and test_fraction 0.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scratch import scratch

from aiida_mlpgen.data.training_set.formats import mlearn_json, n2p2_data
from aiida_mlpgen.data.training_set.frames import Frames
from aiida_mlpgen.parsers.n2p2 import epoch_seconds, read_learning_curve

BOHR, HARTREE = 1.8897261246257702, 0.03674932217565499


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shared', type=Path, default=Path(__file__).resolve().parents[2] / 'shared')
    parser.add_argument('--epochs', type=int, default=5)
    parser.add_argument('--workdir', type=Path, default=None)
    args = parser.parse_args()
    folder = args.workdir or scratch('nnp-anchor-')
    folder.mkdir(parents=True, exist_ok=True)
    frames = mlearn_json.read(args.shared / 'datasets' / 'mlearn' / 'Mo' / 'training.json')
    frames = [dataclasses.replace(f, stress=None) for f in frames]
    n2p2_data.write(Frames.from_frames(frames), folder / 'input.data', 'bohr', 'hartree')
    text = (args.shared / 'reference_potentials' / 'mlearn' / 'Mo' / 'nnp' / 'input.nn').read_text()
    text = re.sub(r'^epochs .*$', f'epochs {args.epochs}', text, flags=re.MULTILINE)
    text = re.sub(r'^test_fraction .*$', 'test_fraction 0.1', text, flags=re.MULTILINE)
    (folder / 'input.nn').write_text(text)
    engine = shutil.which('mlpgen-nnp') or str(Path(sys.executable).parent / 'mlpgen-nnp')
    start = time.perf_counter()
    subprocess.run([engine, '-C', str(folder), 'scaling', '200'], check=True, capture_output=True)
    scaling = time.perf_counter() - start
    start = time.perf_counter()
    done = subprocess.run([engine, '-C', str(folder), 'train'], check=True, capture_output=True, text=True)
    train = time.perf_counter() - start
    seconds = epoch_seconds(done.stdout)
    curve = read_learning_curve(folder / 'learning-curve.out')
    precompute = next(line for line in done.stdout.splitlines() if line.startswith('Descriptors'))
    print(f'workdir {folder}')
    print(
        f'scaling 200: {scaling:.1f} s (n2p2 1.4 s); train {args.epochs} epochs: {train:.0f} s (n2p2 75 s); '
        f'{precompute}'
    )
    print('| epoch | s | test E RMSE (meV/atom) | test F RMSE (eV/Å) | train E RMSE | train F RMSE |')
    print('|---|---|---|---|---|---|')
    for i, epoch in enumerate(curve['epoch'].astype(int)):
        s = f'{seconds[epoch - 1]:.2f}' if epoch > 0 and epoch <= len(seconds) else '-'
        print(
            f'| {epoch} | {s} | {curve["RMSEpa_Etest_pu"][i] / HARTREE * 1000:.2f} | '
            f'{curve["RMSE_Ftest_pu"][i] / HARTREE * BOHR:.4f} | {curve["RMSEpa_Etrain_pu"][i] / HARTREE * 1000:.2f} '
            f'| {curve["RMSE_Ftrain_pu"][i] / HARTREE * BOHR:.4f} |'
        )
    print(f'mean seconds per epoch: {np.mean(seconds):.2f} (n2p2 about 15)')


if __name__ == '__main__':
    main()
