"""``DeltaSubtractionParser``: mlpgen-properties' single points -> the training set minus Δ."""

from __future__ import annotations

import dataclasses

import numpy as np
from aiida.parsers import Parser

from aiida_mlpgen.calculations.delta import DeltaSubtractionCalculation as Calc
from aiida_mlpgen.calculations.delta import task_name
from aiida_mlpgen.calculations.functions.training_set import derived_training_set
from aiida_mlpgen.engines.properties.tasks import load_results


class DeltaSubtractionParser(Parser):
    def parse(self, **kwargs):
        try:
            retrieved = self.retrieved
        except Exception:  # noqa: BLE001 - aiida raises NotExistent
            return self.exit_codes.ERROR_NO_RETRIEVED_FOLDER
        if Calc.RESULTS_FILE not in retrieved.base.repository.list_object_names():
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=Calc.RESULTS_FILE)
        try:
            results = load_results(retrieved.base.repository.get_object_content(Calc.RESULTS_FILE))
        except (ValueError, KeyError, TypeError) as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=f'{Calc.RESULTS_FILE}: {error}')
        training_set = self.node.inputs.training_set
        frames, bad = [], []
        for index, frame in enumerate(training_set.get_frame_list()):
            result = results.get(task_name(index))
            if result is None or result.forces is None or result.forces.shape != (len(frame.numbers), 3):
                return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(
                    error=f'no energy and forces for structure {index} ({frame.label})'
                )
            energy = frame.energy - result.energy
            forces = None if frame.forces is None else frame.forces - result.forces
            stress = None if frame.stress is None else frame.stress - result.stress
            if (
                not np.isfinite(energy)
                or (forces is not None and not np.isfinite(forces).all())
                or (stress is not None and not np.isfinite(stress).all())
            ):
                bad.append(frame.label or str(index))
                continue
            frames.append(dataclasses.replace(frame, energy=float(energy), forces=forces, stress=stress))
        if bad:
            listed = ', '.join(bad[:5]) + (' ...' if len(bad) > 5 else '')
            return self.exit_codes.ERROR_NON_FINITE.format(structures=listed)
        self.out('training_set', derived_training_set(training_set, frames))
        return None
