"""Parsers of the property CalcJobs: task results -> the property's values (shared analysis)."""

from __future__ import annotations

import math

from aiida import orm
from aiida.parsers import Parser

from aiida_mlpgen.calculations.properties import TASKS_FILE, AsePropertiesCalculation
from aiida_mlpgen.engines.properties import lammps_input
from aiida_mlpgen.engines.properties.registry import PROPERTIES
from aiida_mlpgen.engines.properties.tasks import load_results, load_tasks


def _clean(value):
    """JSON-friendly copy (numpy scalars to float) for Dict nodes."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, 'item'):
        return value.item()
    return value


def _finite(value) -> bool:
    """Every number in ``value`` (a number or nested lists, e.g. forces) is finite."""
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return math.isfinite(value)


class PropertiesParser(Parser):
    """Subclasses implement :meth:`read_results` (task name -> TaskResult) or return an exit code."""

    def parse(self, **kwargs):
        try:
            retrieved = self.retrieved
        except Exception:  # noqa: BLE001 - aiida raises NotExistent
            return self.exit_codes.ERROR_NO_RETRIEVED_FOLDER
        names = retrieved.base.repository.list_object_names()
        if TASKS_FILE not in names:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=TASKS_FILE)
        tasks = load_tasks(retrieved.base.repository.get_object_content(TASKS_FILE))
        results = self.read_results(retrieved, names, tasks)
        if not isinstance(results, dict):
            return results
        name = self.node.inputs.property.value
        prop = PROPERTIES[name]
        settings = prop.settings(self.node.inputs.settings.get_dict() if 'settings' in self.node.inputs else None)
        try:
            values, curves = prop.analyse(self.node.inputs.structure.get_ase(), results, **settings)
        except (ValueError, RuntimeError, KeyError) as error:
            return self.exit_codes.ERROR_ANALYSIS.format(error=str(error))
        bad = [key for key, value in values.items() if not _finite(value)]
        if bad:
            return self.exit_codes.ERROR_ANALYSIS.format(error=f'non-finite values for {bad}')
        self.out('properties', orm.Dict(_clean(values)))
        self.out('curves', orm.Dict(_clean(curves)))
        unconverged = [task_name for task_name, result in results.items() if not result.converged]
        if unconverged:
            return self.exit_codes.ERROR_NOT_CONVERGED.format(tasks=', '.join(unconverged))
        return None

    def read_results(self, retrieved, names, tasks):
        raise NotImplementedError


class LammpsPropertiesParser(PropertiesParser):
    def read_results(self, retrieved, names, tasks):
        if lammps_input.LOG_NAME not in names:
            return self.exit_codes.ERROR_OUTPUT_MISSING.format(files=lammps_input.LOG_NAME)
        log = retrieved.base.repository.get_object_content(lammps_input.LOG_NAME)
        for line in log.splitlines():
            if line.startswith('ERROR'):
                if 'Unrecognized pair style' in line:
                    packages = self.node.inputs.potential.base.attributes.get('lammps_packages') or ['?']
                    return self.exit_codes.ERROR_MISSING_PAIR_STYLE.format(error=line, packages=', '.join(packages))
                return self.exit_codes.ERROR_CODE_FAILED.format(error=line)
        try:
            return lammps_input.read_results(tasks, log, retrieved.base.repository.get_object_content)
        except (ValueError, OSError, FileNotFoundError) as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=str(error))


class AsePropertiesParser(PropertiesParser):
    def read_results(self, retrieved, names, tasks):
        target = AsePropertiesCalculation.RESULTS_FILE
        if target not in names:
            output = AsePropertiesCalculation.OUTPUT_FILE
            tail = ''
            if output in names:
                tail = ' '.join(retrieved.base.repository.get_object_content(output).splitlines()[-3:])
            return self.exit_codes.ERROR_CODE_FAILED.format(error=f'no {target}; output ends: {tail or "(empty)"}')
        try:
            results = load_results(retrieved.base.repository.get_object_content(target))
        except (ValueError, KeyError) as error:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=str(error))
        missing = [task.name for task in tasks if task.name not in results]
        if missing:
            return self.exit_codes.ERROR_OUTPUT_UNREADABLE.format(error=f'no results for {missing}')
        return results
