"""``PacemakerCalculation``: an ACE fit by pacemaker (python-ace), on any AiiDA computer."""

from __future__ import annotations

import json

import numpy as np
import yaml
from aiida import orm
from ase.data import chemical_symbols

from aiida_mlpgen.common.pacemaker_runner import (
    PACEMAKER_REFERENCE_FILE,
    PACEMAKER_STOP_REPORT,
    PACEMAKER_STOPPING_FILE,
)
from aiida_mlpgen.data.potentials import AcePotentialData
from aiida_mlpgen.data.training_set.formats.ase_files import write_extxyz

from .base import MlpFitCalculation
from .parameters import ace as ace_parameters

#: Scheduler lines that ask for one GPU, per AiiDA scheduler plugin.
GPU_REQUESTS = {'core.slurm': '#SBATCH --gres=gpu:1', 'core.pbspro': '#PBS -l ngpus=1', 'core.sge': '#$ -l gpu=1'}


class PacemakerCalculation(MlpFitCalculation):
    """Fit an ACE potential with pacemaker.

    The training set becomes pacemaker's training and validation data (built into its
    pandas pickles on the machine that runs the fit), with ``energy_corrected`` = energy
    minus per-element reference energies (least squares, or given). The code runs
    ``<executable> input.yaml`` — ``mlpgen-pacemaker`` adds SPEC.md's stopping rule and writes
    ``output_potential.yace`` with the reference energies as ``E0``. ``device: gpu`` selects
    pacemaker's ``tensorpot`` evaluator; the job must then ask the scheduler for a GPU
    (:meth:`gpu_options`).
    """

    INPUT_FILE = 'input.yaml'
    OUTPUT_FILE = 'pacemaker.out'
    TRAIN_FILE = 'train.pckl.gzip'
    TEST_FILE = 'test.pckl.gzip'
    INITIAL_POTENTIAL = 'initial_potential.yaml'
    PARSER_NAME = 'mlpgen.pacemaker'
    PARAMETERS = ace_parameters
    TYPE_NAME = 'ACE'
    RETRIEVE = (
        'output_potential.yaml',
        'output_potential.yace',
        'output_potential.asi',
        'log.txt',
        'metrics.txt',
        'test_metrics.txt',
        'train_pred.pckl.gzip',
        'test_pred.pckl.gzip',
        PACEMAKER_STOP_REPORT,
        PACEMAKER_REFERENCE_FILE,
        'interim_potential_*.yaml',
    )

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'initial_potential',
            valid_type=AcePotentialData,
            required=False,
            help='Potential to refine or extend (upfit): the fit starts from its coefficients.',
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outputs['potential'].valid_type = AcePotentialData

    @classmethod
    def gpu_options(cls, computer: orm.Computer) -> dict:
        """``metadata.options`` entries that request one GPU on ``computer``'s scheduler."""
        line = GPU_REQUESTS.get(computer.scheduler_type)
        return {'custom_scheduler_commands': line} if line else {}

    @classmethod
    def validate_inputs(cls, inputs, _):
        training_set, p, error = cls.normalized_parameters(inputs)
        if training_set is None or error:
            return error
        if not training_set.has_forces:
            return 'pacemaker fits energies and forces: the training set has no forces'
        initial = inputs.get('initial_potential')
        if initial is not None and 'potential.yaml' not in initial.filenames:
            return 'initial_potential has no pacemaker .yaml (B-basis) to start from'
        if p['device'] == 'gpu':
            code = inputs.get('code')
            scheduler = code.computer.scheduler_type if code is not None else None
            line = GPU_REQUESTS.get(scheduler)
            commands = inputs.get('metadata', {}).get('options', {}).get('custom_scheduler_commands', '')
            if line and line not in commands:
                return (
                    f'device gpu on a {scheduler} computer needs "{line}" in metadata.options.'
                    'custom_scheduler_commands (PacemakerCalculation.gpu_options(computer) gives it)'
                )
        return None

    def prepare_for_submission(self, folder):
        training_set = self.inputs.training_set
        elements = list(training_set.elements)
        p = self.fit_parameters(elements)
        frames = training_set.get_frame_list()
        validation = self.validation_mask(frames, p)
        reference = reference_energies(frames, elements, p['reference_energies'], ~validation)
        # The structures travel as extended XYZ plus a JSON side file; mlpgen-pacemaker builds
        # pacemaker's pickles with the pandas of the machine that runs it (pickles written by
        # pandas 3 do not load under pandas 2, which tensorpotential needs).
        packed = training_set.get_frames()
        written = {}
        for pickle_name, mask in ((self.TRAIN_FILE, ~validation), (self.TEST_FILE, validation)):
            indices = np.flatnonzero(mask)
            if not len(indices):
                continue
            stem = pickle_name.split('.')[0]
            write_extxyz(packed.subset(indices), folder.get_abs_path(f'{stem}.xyz'))
            corrected = [
                frames[i].energy - sum(reference[chemical_symbols[z]] for z in frames[i].numbers) for i in indices
            ]
            with folder.open(f'{stem}.json', 'w') as handle:
                json.dump({'mlpgen_index': indices.tolist(), 'energy_corrected': corrected}, handle)
            written[pickle_name] = stem
        config = ace_parameters.pacemaker_input(
            p, elements, self.TRAIN_FILE, self.TEST_FILE if self.TEST_FILE in written else None
        )
        local_copy_list = []
        if 'initial_potential' in self.inputs:
            if p['initial_potential_mode'] == 'continue':  # pacemaker refits a potential read from a file
                config['potential'] = {'filename': self.INITIAL_POTENTIAL}
            else:
                config['potential']['initial_potential'] = self.INITIAL_POTENTIAL
            local_copy_list.append(
                (self.inputs.initial_potential.uuid, AcePotentialData.YAML_FILENAME, self.INITIAL_POTENTIAL)
            )
        with folder.open(self.INPUT_FILE, 'w') as handle:
            yaml.safe_dump(config, handle, sort_keys=False)
        with folder.open(PACEMAKER_STOPPING_FILE, 'w') as handle:
            json.dump({**ace_parameters.stopping_rule(p), 'display_step': p['display_step']}, handle)
        with folder.open(PACEMAKER_REFERENCE_FILE, 'w') as handle:
            json.dump({'elements': elements, 'energies': reference}, handle)

        exclude = [f'{stem}.{ext}' for stem in written.values() for ext in ('xyz', 'json')]
        return self._calcinfo(list(self.RETRIEVE), local_copy_list, exclude)


def reference_energies(frames, elements: list[str], given, train_mask) -> dict:
    """Per-element reference energies: ``given`` ({El: eV}), or the least-squares fit of the
    training energies to the composition (``auto``)."""
    if given != 'auto':
        return {e: float(given[e]) for e in elements}
    composition = np.array([[np.sum(f.numbers == chemical_symbols.index(e)) for e in elements] for f in frames])
    energies = np.array([f.energy for f in frames])
    mask = np.asarray(train_mask, bool)
    solution = np.linalg.lstsq(composition[mask].astype(float), energies[mask], rcond=None)[0]
    return {e: float(v) for e, v in zip(elements, solution, strict=True)}
