"""pacemaker's dataset: a pandas DataFrame pickled (usually gzip), one row per structure.

Columns read: ``ase_atoms``, ``energy`` (total, eV), ``forces`` (eV/Å); optional
``stress`` (eV/Å³, ASE sign), ``group``/``name``, ``weight``, ``split``. ``energy_corrected``
is what pacemaker fits (energy minus per-element reference energies); on export it equals
``energy`` and the fit's CalcJob applies reference energies.

Unpickling runs code from the file: only import pickles you trust.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from ase.atoms import Atoms

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from ._common import malformed


def read(path: Path, group: str | None = None, **_) -> list[Frame]:
    path = Path(path)
    try:
        table = pd.read_pickle(path, compression='infer')
    except Exception as error:  # pickle, gzip and pandas raise many types for a broken file
        raise malformed(path, error) from error
    if not isinstance(table, pd.DataFrame):
        raise TrainingSetError(f'{path}: expected a pandas DataFrame, found {type(table).__name__}')
    missing = {'ase_atoms', 'energy'} - set(table.columns)
    if missing:
        raise TrainingSetError(f'{path}: pacemaker dataset lacks column(s) {sorted(missing)}')
    frames = []
    for index, row in enumerate(table.itertuples(index=False)):
        where = f'{path}#{index}'
        atoms = row.ase_atoms
        if not isinstance(atoms, Atoms):
            raise TrainingSetError(f'{where}: ase_atoms is {type(atoms).__name__}, not ase.Atoms')
        forces = getattr(row, 'forces', None)
        stress = getattr(row, 'stress', None)
        energy = row.energy
        frames.append(
            Frame(
                cell=np.asarray(atoms.cell[:], float),
                pbc=tuple(bool(p) for p in atoms.pbc),
                numbers=atoms.numbers.astype(np.int64),
                positions=atoms.positions.copy(),
                energy=None if energy is None or pd.isna(energy) else float(energy),
                forces=None if forces is None else np.asarray(forces, float),
                stress=None if stress is None or np.size(stress) == 1 else np.asarray(stress, float).reshape(3, 3),
                group=group or str(getattr(row, 'group', None) or getattr(row, 'name', None) or 'default'),
                weight=float(getattr(row, 'weight', 1.0)),
                split=str(getattr(row, 'split', 'unassigned')),
                source=where,
            )
        )
    return frames


def write(frames: Frames, path: Path) -> list[Path]:
    path = Path(path)
    if path.is_dir() or not path.name.endswith(('.pckl.gzip', '.pkl.gz', '.pckl', '.pkl')):
        path.mkdir(parents=True, exist_ok=True)
        path = path / 'training_set.pckl.gzip'
    rows = []
    for frame in frames.to_frames():
        atoms = Atoms(numbers=frame.numbers, positions=frame.positions, cell=frame.cell, pbc=frame.pbc)
        rows.append(
            {
                'ase_atoms': atoms,
                'energy': frame.energy,
                'energy_corrected': frame.energy,
                'forces': frame.forces,
                'stress': frame.stress,
                'group': frame.group,
                'name': frame.group,
                'weight': frame.weight,
                'split': frame.split,
            }
        )
    pd.DataFrame(rows).to_pickle(path, compression='gzip' if path.name.endswith(('gzip', '.gz')) else None)
    return [path]
