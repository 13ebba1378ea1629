"""``AseCalculatorPotentialData``: an ASE calculator by import path, as a potential.

For references and tests of the validation workflow (ASE's EMT as "potential" and
"reference"), or any model that exists only as an ASE calculator. It runs in the ASE
engine only: LAMMPS cannot load it, and asking for its LAMMPS lines says so.
"""

from __future__ import annotations

import importlib
import json

from .base import PotentialData, PotentialError

__all__ = ('AseCalculatorPotentialData',)


def import_calculator(calculator: str):
    """The class ``'module:Class'`` names; :class:`PotentialError` when it cannot be imported."""
    module, _, name = calculator.partition(':')
    if not module or not name:
        raise PotentialError(f"an ASE calculator is named 'module:Class', not {calculator!r}")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise PotentialError(f'cannot import the ASE calculator {calculator}: {error}') from error
    if not callable(factory):
        raise PotentialError(f'{calculator} is not a calculator class')
    return factory


class AseCalculatorPotentialData(PotentialData):
    POTENTIAL_TYPE = 'ase'
    REQUIRES_FILES = False
    RUNS_IN_LAMMPS = False

    def __init__(
        self,
        calculator: str | None = None,
        elements: list[str] | None = None,
        cutoff: float = 0.0,
        calculator_kwargs: dict | None = None,
        **kwargs,
    ):
        """``calculator`` is ``'module:Class'``, e.g. ``'ase.calculators.emt:EMT'``."""
        if not calculator or ':' not in calculator or not elements:
            raise PotentialError("AseCalculatorPotentialData needs calculator='module:Class' and elements")
        import_calculator(calculator)
        calculator_kwargs = dict(calculator_kwargs or {})
        json.dumps(calculator_kwargs)  # must be storable
        super().__init__(**kwargs)
        self._set_potential({}, list(elements), float(cutoff), [{'style': 'none', 'coeffs': []}], [])
        self.base.attributes.set('calculator', calculator)
        self.base.attributes.set('calculator_kwargs', calculator_kwargs)

    def lammps_lines(self, directory=None) -> list[str]:
        raise PotentialError(
            f'{self.base.attributes.get("calculator")} is an ASE calculator: LAMMPS cannot run it (use the ASE engine)'
        )

    def ase_spec(self, prefix: str = '') -> dict:
        return {
            'kind': 'ase',
            'calculator': self.base.attributes.get('calculator'),
            'kwargs': self.base.attributes.get('calculator_kwargs'),
        }
