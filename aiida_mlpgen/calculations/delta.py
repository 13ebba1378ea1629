"""``DeltaSubtractionCalculation``: a training set minus a Δ-potential, computed in a job.

Δ-learning with *include potential* fits what the Δ-potential leaves: DFT minus Δ's
energies, forces and stresses. Evaluating Δ on every structure is real work (an ASE
calculator over thousands of atoms), so it runs as a job of ``mlpgen-properties`` — the
program of the ASE validation engine — on any computer, and the parser only subtracts.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiida.engine import CalcJob

from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.engines.properties.tasks import Task, dump_tasks

from .common import default_options, output_exit_codes, single_run


def task_name(index: int) -> str:
    return f's{index:06d}'


class DeltaSubtractionCalculation(CalcJob):
    """Energies, forces and stresses of every structure of ``training_set`` with the ASE
    calculator of ``delta_potential`` (``mlpgen-properties``, single points); output: the
    training set minus them, splits, groups and weights kept."""

    PARSER_NAME = 'mlpgen.delta_subtraction'
    OUTPUT_FILE = 'delta.out'
    TASKS_FILE = 'tasks.json'
    RESULTS_FILE = 'results.json'
    CALCULATOR_FILE = 'calculator.json'
    FILES_FOLDER = 'potential'

    @classmethod
    def define(cls, spec):
        super().define(spec)
        default_options(spec, cls.PARSER_NAME, cls.OUTPUT_FILE)
        spec.input('training_set', valid_type=TrainingSetData, help='The DFT data.')
        spec.input(
            'delta_potential',
            valid_type=PotentialData,
            help='The Δ-potential (any type with an ASE calculator: ZBL, EAM, SNAP, ACE, NNP, ...).',
        )
        spec.output(
            'training_set', valid_type=TrainingSetData, help='The data minus the Δ-potential: what the fit learns.'
        )
        output_exit_codes(spec)
        spec.exit_code(310, 'ERROR_NON_FINITE', message='The Δ-potential gives non-finite values for {structures}.')
        spec.inputs.validator = cls.validate_inputs

    @classmethod
    def validate_inputs(cls, inputs, _):
        training_set, potential = inputs.get('training_set'), inputs.get('delta_potential')
        if training_set is None or potential is None:
            return None
        unknown = set(training_set.elements) - set(potential.elements)
        if unknown:
            return f'the Δ-potential lacks element(s) {sorted(unknown)} of the training set ({potential.elements})'
        return None

    def prepare_for_submission(self, folder):
        directory = Path(folder.abspath)
        potential = self.inputs.delta_potential
        potential.write_files(directory / self.FILES_FOLDER)
        (directory / self.CALCULATOR_FILE).write_text(json.dumps(potential.ase_spec()))
        structures = self.inputs.training_set.to_ase()
        tasks = [Task(task_name(i), atoms, 'none', forces=True) for i, atoms in enumerate(structures)]
        (directory / self.TASKS_FILE).write_text(dump_tasks(tasks))
        arguments = [
            self.TASKS_FILE,
            '--calculator',
            self.CALCULATOR_FILE,
            '--files',
            self.FILES_FOLDER,
            '--out',
            self.RESULTS_FILE,
        ]
        # the structures are in the TrainingSetData node already
        return single_run(self, arguments, self.OUTPUT_FILE, [self.RESULTS_FILE], exclude=[self.TASKS_FILE])
