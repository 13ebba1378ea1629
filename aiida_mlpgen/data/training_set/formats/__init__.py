"""Readers and writers of training-data file formats, keyed by format name.

A reader takes a path (and options such as ``group``) and returns a list of
:class:`~aiida_mlpgen.data.training_set.frames.Frame`; a writer takes
:class:`~aiida_mlpgen.data.training_set.frames.Frames` and a target path and returns the
files it wrote.
"""

from __future__ import annotations

from pathlib import Path

from ..checks import TrainingSetError
from . import ase_files, fitsnap_json, mlearn_json, n2p2_data, pacemaker_pickle

READERS = {
    'fitsnap-json': fitsnap_json.read,
    'mlearn-json': mlearn_json.read,
    'n2p2': n2p2_data.read,
    'pacemaker': pacemaker_pickle.read,
    **{name: ase_files.reader(name) for name in ase_files.ASE_FORMATS},
}

WRITERS = {
    'extxyz': ase_files.write_extxyz,
    'fitsnap-json': fitsnap_json.write,
    'mlearn-json': mlearn_json.write,
    'n2p2': n2p2_data.write,
    'pacemaker': pacemaker_pickle.write,
}


def detect_format(path: Path) -> str:
    """Guess the format of ``path`` from its name (and, for JSON, its first character)."""
    path = Path(path)
    name = path.name.lower()
    if path.is_dir():
        if any(path.rglob('*.json')):
            return 'fitsnap-json'
        raise TrainingSetError(f'{path}: directory without *.json files; name the format with --format')
    if not path.exists():
        raise TrainingSetError(f'{path}: no such file or directory')
    if name.endswith('.json'):
        with open(path, errors='replace') as handle:
            head = handle.read(4096).lstrip()
        return 'mlearn-json' if head.startswith('[') else 'fitsnap-json'
    if name.endswith(('.pckl.gzip', '.pkl.gz', '.pckl', '.pkl', '.pickle')):
        return 'pacemaker'
    if name.endswith(('.xyz', '.extxyz')):
        return 'extxyz'
    if 'outcar' in name:
        return 'vasp-out'
    if name.startswith('vasprun') and name.endswith('.xml'):
        return 'vasp-xml'
    if name.endswith(('.pwo', '.pw.out')) or name.startswith(('pw.out', 'aiida.out')):
        return 'espresso-out'
    if name.endswith('.data') or name == 'input.data':
        return 'n2p2'
    return 'ase'


def read(path, format: str | None = None, **options) -> list:
    """Read ``path`` as ``format`` (detected when None) into frames."""
    format = format or detect_format(path)
    if format not in READERS:
        raise TrainingSetError(f'unknown format {format!r}; known: {", ".join(sorted(READERS))}')
    if not Path(path).exists():
        raise TrainingSetError(f'{path}: no such file or directory')
    return READERS[format](Path(path), **options)


def write(frames, path, format: str) -> list[Path]:
    if format not in WRITERS:
        raise TrainingSetError(f'cannot export to {format!r}; export formats: {", ".join(sorted(WRITERS))}')
    return WRITERS[format](frames, Path(path))
