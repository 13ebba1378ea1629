"""Unpickle a pandas DataFrame of ASE structures without running code from the file.

A pickle can call any importable function while it loads. This unpickler resolves only
classes of the data pacemaker's datasets hold (numpy arrays, pandas frames and indexes, ASE
atoms, cells and single-point results) and the few reconstruction helpers numpy and pandas
pickle with; anything else stops the load with :class:`UnsafePickleError` naming it.
"""

from __future__ import annotations

import gzip
import importlib
import pickle

#: modules whose classes may be rebuilt (a class, not any function of the module)
CLASS_MODULES = (
    'numpy',
    'numpy.core.multiarray',
    'numpy._core.multiarray',
    'numpy.dtypes',
    'pandas.core.frame',
    'pandas.core.series',
    'pandas.core.internals.managers',
    'pandas.core.internals.blocks',
    'pandas.core.indexes.base',
    'pandas.core.indexes.range',
    'pandas.core.indexes.numeric',
    'pandas.core.arrays.string_',
    'pandas.core.arrays.numpy_',
    'pandas._libs.internals',
    'ase.atoms',
    'ase.atom',
    'ase.cell',
    'ase.constraints',
    'ase.calculators.singlepoint',
    'ase.calculators.calculator',
    'collections',
)
#: functions numpy and pandas pickle their objects with
FUNCTIONS = {
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.numeric', '_frombuffer'),
    ('numpy._core.numeric', '_frombuffer'),
    ('numpy', 'dtype'),
    ('pandas._libs.internals', '_unpickle_block'),
    ('pandas.core.internals.blocks', 'new_block'),
    ('pandas.core.indexes.base', '_new_Index'),
    ('copyreg', '_reconstructor'),
    ('builtins', 'slice'),
}
#: attributes an ASE single-point calculator is pickled with (bound methods, through getattr)
ATTRIBUTES = {'_deprecated_get_spin_polarized'}
BUILTIN_CLASSES = {
    'object',
    'list',
    'dict',
    'tuple',
    'set',
    'frozenset',
    'int',
    'float',
    'complex',
    'str',
    'bytes',
    'bytearray',
    'bool',
    'range',
    'slice',
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asks for something a dataset does not need."""


def _attribute(owner, name):
    if name not in ATTRIBUTES:
        raise UnsafePickleError(f'refused to look up attribute {name!r}: a dataset pickle does not need it')
    return getattr(owner, name)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ('builtins', 'getattr'):
            return _attribute
        if (module, name) in FUNCTIONS or (module == 'builtins' and name in BUILTIN_CLASSES):
            return super().find_class(module, name)
        if module in CLASS_MODULES:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type):
                return found
        raise UnsafePickleError(f'refused to load {module}.{name}: a dataset pickle does not need it')


def load(path, gzipped: bool):
    """The object pickled in ``path`` (gzip-compressed when ``gzipped``), loaded safely."""
    opener = gzip.open if gzipped else open
    with opener(path, 'rb') as handle:
        return _Unpickler(handle).load()
