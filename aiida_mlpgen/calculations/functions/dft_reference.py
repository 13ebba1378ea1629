"""DFT reference values for the validation, computed by a labeller with the training set's
setup: the labelled structures of a property's single-point tasks, analysed as the
potential's are."""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_mlpgen.engines.properties.registry import PROPERTIES
from aiida_mlpgen.engines.properties.tasks import TaskResult

#: properties a labeller can compute: all their tasks are single points of given structures
SINGLE_POINT_PROPERTIES = ('eos',)


def reference_tasks(structure, settings: dict) -> dict:
    """``{task name: StructureData}`` of the equation of state of ``structure``."""
    prop = PROPERTIES['eos']
    tasks = prop.tasks(structure.get_ase(), **prop.settings(settings.get('eos')))
    return {task.name: orm.StructureData(ase=task.atoms) for task in tasks}


@calcfunction
def dft_reference_values(training_set, structure: orm.StructureData, settings: orm.Dict) -> dict:
    """``values`` and ``curves`` of the equation of state from the labelled EOS structures
    (their ``source`` names the task), fitted as the potential's."""
    prop = PROPERTIES['eos']
    given = prop.settings(settings.get_dict().get('eos'))
    results = {}
    for frame in training_set.get_frame_list():
        name = frame.source.split(' ', 1)[0]
        volume = abs(float(np.linalg.det(frame.cell)))
        results[name] = TaskResult(energy=frame.energy, stress=frame.stress, forces=frame.forces, volume=volume)
    values, curves = prop.analyse(structure.get_ase(), results, **given)
    return {'values': orm.Dict(values), 'curves': orm.Dict({'eos': curves})}
