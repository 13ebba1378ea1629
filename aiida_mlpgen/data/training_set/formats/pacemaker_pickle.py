"""pacemaker's dataset: a pandas DataFrame pickled (usually gzip), one row per structure.

Columns read: ``ase_atoms``, ``energy`` (total, eV), ``forces`` (eV/Å); optional
``stress`` (eV/Å³, ASE sign, Voigt 6 as ``pace_collect`` writes it, or 3x3), ``name``
(where the structure came from), and our own ``group``, ``weight``, ``split``. ``energy_corrected``
is what pacemaker fits (energy minus per-element reference energies); on export it equals
``energy`` and the fit's CalcJob applies reference energies.

A pickle can run code while it loads. By default the file is loaded by
:mod:`.safe_pickle`, which rebuilds only the classes such a dataset holds and refuses
anything else; ``trust_pickle=True`` (``mlpgen import --trust-pickle``) uses pandas' own
loader, for files you made or trust.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from ase.atoms import Atoms
from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from . import safe_pickle
from ._common import as_number, malformed


def read(path: Path, group: str | None = None, trust_pickle: bool = False, **_) -> list[Frame]:
    path = Path(path)
    try:
        with open(path, 'rb') as handle:
            gzipped = handle.read(2) == b'\x1f\x8b'
        if trust_pickle:
            table = pd.read_pickle(path, compression='gzip' if gzipped else None)
        else:
            table = safe_pickle.load(path, gzipped)
    except safe_pickle.UnsafePickleError as error:
        raise TrainingSetError(
            f'{path}: {error}. Pickles can run code while they load; if you made this file or trust it, '
            'pass --trust-pickle (trust_pickle=True)'
        ) from error
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
            Frame.from_atoms(
                atoms,
                energy=None if energy is None or pd.isna(energy) else float(energy),
                forces=None if forces is None else np.asarray(forces, float),
                stress=_stress(stress),
                group=group or str(getattr(row, 'group', None) or 'default'),
                weight=as_number(getattr(row, 'weight', 1.0), 'weight', where),
                split=str(getattr(row, 'split', 'unassigned')),
                source=f'{where} ({row.name})' if isinstance(getattr(row, 'name', None), str) else where,
            )
        )
    return frames


def _stress(value):
    if value is None or np.size(value) == 1:  # absent, None or NaN
        return None
    value = np.asarray(value, float)
    return voigt_6_to_full_3x3_stress(value) if value.size == 6 else value.reshape(3, 3)


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
                'stress': None if frame.stress is None else full_3x3_to_voigt_6_stress(frame.stress),
                'group': frame.group,
                'name': frame.source,
                'weight': frame.weight,
                'split': frame.split,
            }
        )
    pd.DataFrame(rows).to_pickle(path, compression='gzip' if path.name.endswith(('gzip', '.gz')) else None)
    return [path]
