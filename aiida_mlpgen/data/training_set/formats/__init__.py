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
from ._common import natural_key

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
        kinds = {_json_kind(file) for file in path.rglob('*.json')}
        if kinds == {'mlearn-json'}:
            return 'mlearn-json'
        if kinds == {'fitsnap-json'}:
            return 'fitsnap-json'
        if kinds:
            raise TrainingSetError(f'{path}: holds both mlearn and FitSNAP JSON files; import them separately')
        raise TrainingSetError(f'{path}: directory without *.json files; name the format with --format')
    if not path.exists():
        raise TrainingSetError(f'{path}: no such file or directory')
    if name.endswith('.json'):
        return _json_kind(path)
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


def _json_kind(path: Path) -> str:
    """mlearn files hold a JSON list, FitSNAP files an object (after an optional comment line)."""
    with open(path, errors='replace') as handle:
        head = handle.read(4096).lstrip()
    return 'mlearn-json' if head.startswith('[') else 'fitsnap-json'


def read(path, format: str | None = None, **options) -> list:
    """Read ``path`` as ``format`` (detected when None) into frames. A directory is a FitSNAP
    tree, or for any other format the files in it (sorted) that are of that format."""
    path = Path(path)
    if not path.exists():
        raise TrainingSetError(f'{path}: no such file or directory')
    format = format or detect_format(path)
    if format not in READERS:
        raise TrainingSetError(f'unknown format {format!r}; known: {", ".join(sorted(READERS))}')
    if path.is_dir() and format != 'fitsnap-json':
        files = [f for f in sorted(path.iterdir(), key=natural_key) if f.is_file() and _is_format(f, format)]
        if not files:
            raise TrainingSetError(f'{path}: no {format} file in this directory')
        return [frame for file in files for frame in READERS[format](file, **options)]
    return READERS[format](path, **options)


def _is_format(path: Path, format: str) -> bool:
    try:
        return detect_format(path) == format
    except TrainingSetError:
        return False


def write(frames, path, format: str) -> list[Path]:
    if format not in WRITERS:
        raise TrainingSetError(f'cannot export to {format!r}; export formats: {", ".join(sorted(WRITERS))}')
    return WRITERS[format](frames, Path(path))
