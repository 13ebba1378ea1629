"""A pseudopotential family (aiida-pseudo) from UPF files, with recommended cutoffs.

For machines without SSSP (``aiida-pseudo install sssp``), e.g. the pseudopotentials of
Debian's ``quantum-espresso-data`` in ``/usr/share/espresso/pseudo``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .base import LabellingError

DEBIAN_PSEUDOS = Path('/usr/share/espresso/pseudo')


def family_from_files(label: str, files, cutoffs: dict | None = None):
    """The family ``label`` (created when missing) of the UPF ``files``, one per element;
    ``cutoffs`` {element: (wfc, rho)} in Ry become its recommended cutoffs."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent
    from aiida_pseudo.data.pseudo import UpfData
    from aiida_pseudo.groups.family import CutoffsPseudoPotentialFamily

    try:
        return orm.Group.collection.get(label=label)
    except NotExistent:
        pass
    files = [Path(f) for f in files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise LabellingError(f'pseudopotential file(s) not found: {", ".join(missing)}')
    with tempfile.TemporaryDirectory() as folder:
        for path in files:
            shutil.copy(path, folder)
        try:
            family = CutoffsPseudoPotentialFamily.create_from_folder(Path(folder), label, pseudo_type=UpfData)
        except ValueError as error:
            raise LabellingError(f'cannot make family {label!r}: {error}') from error
    if cutoffs:
        values = {element: {'cutoff_wfc': float(w), 'cutoff_rho': float(r)} for element, (w, r) in cutoffs.items()}
        family.set_cutoffs(values, 'normal', unit='Ry')
    return family
