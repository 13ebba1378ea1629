"""The fit CalcJob of each potential type."""

from __future__ import annotations

#: potential type -> (module, CalcJob class name)
FIT_TYPES = {
    'snap': ('aiida_mlpgen.calculations.fitsnap', 'FitsnapCalculation'),
    'ace': ('aiida_mlpgen.calculations.pacemaker', 'PacemakerCalculation'),
    'nnp': ('aiida_mlpgen.calculations.n2p2', 'N2p2Calculation'),
}
#: embedded-profile code label per type
DEFAULT_CODES = {'snap': 'fitsnap@localhost', 'ace': 'pacemaker@localhost', 'nnp': 'nnp@localhost'}


def fit_class(potential_type: str):
    import importlib

    if potential_type not in FIT_TYPES:
        raise ValueError(f'unknown potential type {potential_type!r}; use one of {sorted(FIT_TYPES)}')
    module, name = FIT_TYPES[potential_type]
    return getattr(importlib.import_module(module), name)
