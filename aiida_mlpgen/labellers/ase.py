"""Any ASE calculator, by import path, as a labeller: for quick studies and tests.

Each structure runs as an ``AsePropertiesCalculation`` (the validation's ASE engine, the
program ``mlpgen-properties``) with the property ``single_point``: energy, forces and
stress in eV, eV/Å, eV/Å³ (tension positive), on any computer where aiida-mlpgen is.
"""

from __future__ import annotations

import numpy as np

from .base import Labeller, LabellingError, LabelResult


class AseLabeller(Labeller):
    name = 'ase'
    code_help = 'mlpgen-properties (aiida-mlpgen plugin mlpgen.properties.ase)'
    DEFAULTS = {'calculator': None, 'calculator_kwargs': {}}
    RESULT_OUTPUTS = ('properties',)

    def process_class(self):
        from aiida_mlpgen.calculations.properties import AsePropertiesCalculation

        return AsePropertiesCalculation

    def resolve(self, settings: dict, elements: set[str]) -> dict:
        from aiida_mlpgen.data.potentials.ase_calculator import PotentialError, import_calculator

        try:
            import_calculator(settings.get('calculator') or '')
        except PotentialError as error:
            raise LabellingError(f'the ase labeller: {error}') from None
        return {**settings, 'elements': sorted(elements)}

    def dft_settings(self, resolved: dict) -> dict:
        kwargs = resolved.get('calculator_kwargs') or {}
        text = ', '.join(f'{k}={v!r}' for k, v in sorted(kwargs.items()))
        return {'code': f'ASE {resolved["calculator"]}({text})'}

    def inputs(self, structure, code, resolved: dict, overrides: dict, options: dict) -> dict:
        from aiida import orm

        from aiida_mlpgen.data.potentials.ase_calculator import AseCalculatorPotentialData

        self.check_overrides(overrides)
        potential = AseCalculatorPotentialData(
            calculator=resolved['calculator'],
            elements=resolved['elements'],
            calculator_kwargs=resolved.get('calculator_kwargs') or {},
        )
        return {
            'code': code,
            'potential': potential,
            'structure': structure,
            'property': orm.Str('single_point'),
            'metadata': {'options': options},
        }

    def results(self, structure, outputs: dict, md: dict | None = None) -> list[LabelResult]:
        values = outputs['properties'].get_dict()
        atoms = structure.get_ase()
        return [
            LabelResult(
                cell=np.asarray(atoms.cell[:], float),
                positions=atoms.positions.copy(),
                numbers=atoms.numbers.copy(),
                energy=float(values['energy']),
                forces=np.asarray(values['forces'], float),
                stress=np.asarray(values['stress'], float),
            )
        ]
