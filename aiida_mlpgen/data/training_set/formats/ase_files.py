"""Files ASE reads (extxyz, VASP OUTCAR / vasprun.xml, Quantum ESPRESSO output, ...) and
lists of ASE ``Atoms`` carrying a (SinglePoint)Calculator with energy, forces and stress.

ASE already converts its readers' results to eV, Å and eV/Å³ (tension positive). The
energy taken is ``energy`` (ASE's choice per code; for VASP the sigma→0 energy); pass
``energy_key='free_energy'`` for the free energy. Per-structure ``group``, ``weight`` and
``split`` are read from ``atoms.info`` when present.
"""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
from ase.data import chemical_symbols
from ase.stress import voigt_6_to_full_3x3_stress

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from . import dft_settings
from ._common import as_number, malformed

#: Our format name -> (ASE format name, DFT settings reader or None).
ASE_FORMATS = {
    'extxyz': ('extxyz', None),
    'vasp-out': ('vasp-out', dft_settings.vasp_outcar),
    'vasp-xml': ('vasp-xml', dft_settings.vasp_xml),
    'espresso-out': ('espresso-out', dft_settings.espresso_out),
    'ase': (None, None),
}


def reader(name: str):
    """A reader function for the ASE-backed format ``name``."""
    ase_format, settings_reader = ASE_FORMATS[name]

    def read(path: Path, group: str | None = None, energy_key: str = 'energy', **_) -> list[Frame]:
        path = Path(path)
        try:
            images = ase.io.read(path, index=':', format=ase_format)
        except Exception as error:  # ASE's readers raise many exception types on broken files
            raise malformed(path, error) from error
        dft = settings_reader(path) if settings_reader else {}
        single = len(images) == 1
        frames = frames_from_atoms(images, source=str(path), group=group, energy_key=energy_key, dft=dft)
        if single:
            frames[0].source = str(path)
        return frames

    read.__name__ = f'read_{name.replace("-", "_")}'
    return read


def frames_from_atoms(
    images, source: str = '<atoms>', group: str | None = None, energy_key: str = 'energy', dft: dict | None = None
) -> list[Frame]:
    """Frames from ASE ``Atoms`` whose calculator holds the DFT results."""
    frames = []
    for index, atoms in enumerate(images):
        where = f'{source}#{index}'
        results = dict(atoms.calc.results) if atoms.calc is not None else {}
        if energy_key not in results and energy_key in atoms.info:
            results[energy_key] = atoms.info[energy_key]
        stress = results.get('stress')
        if stress is not None:
            stress = np.asarray(stress, float)
            stress = voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress.reshape(3, 3)
        info = atoms.info
        frames.append(
            Frame.from_atoms(
                atoms,
                energy=results.get(energy_key),
                forces=None if results.get('forces') is None else np.asarray(results['forces'], float),
                stress=stress,
                group=group or str(info.get('group', 'default')),
                weight=as_number(info.get('weight', 1.0), 'weight', where),
                split=str(info.get('split', 'unassigned')),
                source=where,
                dft=dict(dft or {}),
            )
        )
    if not frames:
        raise TrainingSetError(f'{source}: no structure found')
    return frames


def write_extxyz(frames: Frames, path: Path) -> list[Path]:
    """Extended XYZ with full float precision (ASE's writer rounds to 8 decimals)."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        path = path / 'training_set.xyz'
    lines = []
    for frame in frames.to_frames():
        lattice = ' '.join(repr(x) for x in frame.cell.reshape(-1).tolist())
        header = [
            f'Lattice="{lattice}"',
            'Properties=species:S:1:pos:R:3' + (':forces:R:3' if frame.forces is not None else ''),
            f'energy={frame.energy!r}',
        ]
        if frame.stress is not None:
            header.append('stress="{}"'.format(' '.join(repr(x) for x in frame.stress.reshape(-1).tolist())))
        header += [
            f'group={_quote(frame.group)}',
            f'weight={frame.weight!r}',
            f'split={frame.split}',
            'pbc="{}"'.format(' '.join('T' if p else 'F' for p in frame.pbc)),
        ]
        lines += [str(len(frame.numbers)), ' '.join(header)]
        columns = [frame.positions] + ([frame.forces] if frame.forces is not None else [])
        values = np.hstack(columns).tolist()
        for z, row in zip(frame.numbers.tolist(), values, strict=True):
            lines.append(' '.join([chemical_symbols[z], *(repr(v) for v in row)]))
    path.write_text('\n'.join(lines) + '\n')
    return [path]


def _quote(text: str) -> str:
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'
