"""``NnpCalculation``: a Behler–Parrinello NNP trained by n2p2 or by our n2p2-compatible engine."""

from __future__ import annotations

import json
import shlex
from pathlib import PurePosixPath

import numpy as np
from aiida import orm

from aiida_mlpgen.data.potentials import NnpPotentialData
from aiida_mlpgen.data.training_set.formats import n2p2_data

from .base import MlpFitCalculation
from .parameters import nnp as nnp_parameters

#: n2p2's programs; a code whose executable is one of them runs real n2p2 (the others are
#: looked for in the same folder), any other executable is taken to be ``mlpgen-nnp``.
N2P2_PROGRAMS = ('nnp-scaling', 'nnp-prune', 'nnp-train')


class NnpCalculation(MlpFitCalculation):
    """Train an NNP: scaling → prune → scaling → train, n2p2's sequence and files.

    The training set becomes ``input.data`` (Å, eV) with each structure marked
    ``set=train`` or ``set=test`` (our validation set), and ``input.nn`` holds the symmetry
    functions, network and Kalman settings of the parameters, plus nnp-norm's normalisation
    (mean energy per atom, 1/σ_E, σ_F/σ_E of the training split) unless ``normalize`` is
    false. The code is ``mlpgen-nnp`` (our engine, subcommands) or n2p2's ``nnp-train``
    (``nnp-scaling`` and ``nnp-prune`` beside it); the preparation steps run before the
    training command, which runs under ``mpirun`` when ``withmpi`` is set (n2p2 only).
    """

    INPUT_FILE = 'input.nn'
    OUTPUT_FILE = 'nnp-train.out'
    PREPARE_OUTPUT = 'nnp-prepare.out'
    SPLIT_FILE = 'mlpgen-split.json'
    PARSER_NAME = 'mlpgen.n2p2'
    PARAMETERS = nnp_parameters
    TYPE_NAME = 'NNP'
    RETRIEVE = (
        'input.nn',
        'scaling.data',
        'learning-curve.out',
        'output-prune-range.nn',
        'weights.*.out',
        PREPARE_OUTPUT,
        SPLIT_FILE,
    )
    #: n2p2's per-epoch comparison files: the parser reads the optimum epoch's, then they go
    RETRIEVE_TEMPORARY = ('trainpoints.*.out', 'testpoints.*.out', 'trainforces.*.out', 'testforces.*.out')

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'restart_folder',
            valid_type=orm.FolderData,
            required=False,
            help='Continue a training: input.nn, scaling.data and weights.ZZZ.data of an earlier run (the '
            'preparation steps are skipped and training starts from these weights).',
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outputs['potential'].valid_type = NnpPotentialData

    @staticmethod
    def programs(code) -> dict:
        """Command prefixes of the scaling, prune and train steps for ``code``."""
        executable = PurePosixPath(str(code.get_executable()))
        if executable.name in N2P2_PROGRAMS:
            folder = executable.parent
            return {name.split('-')[1]: [str(folder / name)] for name in N2P2_PROGRAMS} | {'real_n2p2': True}
        return {
            'scaling': [str(executable), 'scaling'],
            'prune': [str(executable), 'prune'],
            'train': [str(executable), 'train'],
            'real_n2p2': False,
        }

    @classmethod
    def validate_inputs(cls, inputs, _):
        training_set, p, error = cls.normalized_parameters(inputs)
        if training_set is None or error:
            return error
        if p['fit_forces'] and not training_set.has_forces:
            return 'fit_forces is true but the training set has no forces (set fit_forces: false)'
        code = inputs.get('code')
        options = inputs.get('metadata', {}).get('options', {})
        if code is not None and options.get('withmpi') and not cls.programs(code)['real_n2p2']:
            procs = options.get('resources', {}).get('num_mpiprocs_per_machine', 1)
            if procs and procs > 1:
                return 'mlpgen-nnp is not MPI-parallel: use one MPI process (threads follow OMP_NUM_THREADS)'
        return None

    def prepare_for_submission(self, folder):
        training_set = self.inputs.training_set
        elements = list(training_set.elements)
        p = self.fit_parameters(elements)
        validation = self.validation_mask(training_set.get_frame_list(), p)
        packed = training_set.get_frames()
        split = np.where(validation, 2, 1).astype(np.int8)  # SPLIT_CODES: train 1, validation 2
        n2p2_data.write(packed.replace(split=split), folder.get_abs_path('input.data'))
        normalization = _normalization(packed, ~validation) if p['normalize'] else None
        restart = self.inputs.get('restart_folder')
        if restart is None:
            settings = nnp_parameters.input_nn(p, elements, normalization)
        else:  # the earlier run's settings, its pruned functions and normalisation; start from its weights
            settings = restart.get_object_content(self.INPUT_FILE)
            settings = _with_keyword(settings, 'epochs', str(p['epochs']))
            settings = _with_keyword(settings, 'use_old_weights_short', '')
            normalization = (
                json.loads(restart.get_object_content(self.SPLIT_FILE)).get('normalization')
                if self.SPLIT_FILE in restart.list_object_names()
                else normalization
            )
        with folder.open(self.INPUT_FILE, 'w') as handle:
            handle.write(settings)
        with folder.open(self.SPLIT_FILE, 'w') as handle:
            json.dump(
                {
                    'validation': np.flatnonzero(validation).tolist(),
                    'normalization': normalization,
                    'epochs': p['epochs'],
                },
                handle,
            )
        programs = self.programs(self.inputs.code)

        def step(words):
            line = ' '.join(shlex.quote(str(w)) for w in words)
            failure = f'echo "ERROR: step failed: {words[0]}" >> {self.PREPARE_OUTPUT}; exit 3;'
            return f'{line} >> {self.PREPARE_OUTPUT} 2>&1 || {{ {failure} }}'

        if restart is None:
            prepare = [
                '# n2p2 sequence: statistics, pruning of flat functions, statistics of the pruned set',
                step([*programs['scaling'], p['bins']]),
                step([*programs['prune'], 'range', repr(p['prune_threshold'])]),
                f'cp output-prune-range.nn {self.INPUT_FILE}',
                step([*programs['scaling'], p['bins']]),
            ]
            local_copy = []
        else:
            prepare = ['# continuing an earlier training: its scaling.data and weights are used']
            local_copy = [
                (restart.uuid, name, name)
                for name in restart.list_object_names()
                if name.startswith('weights.') or name == 'scaling.data'
            ]
        calcinfo = self._calcinfo(list(self.RETRIEVE), local_copy, exclude=['input.data'])
        calcinfo.retrieve_temporary_list = list(self.RETRIEVE_TEMPORARY)
        calcinfo.codes_info[0].cmdline_params = programs['train'][1:]
        calcinfo.prepend_text = '\n'.join(prepare)
        return calcinfo


def _normalization(frames, train_mask) -> tuple[float, float, float]:
    """nnp-norm: mean energy per atom, 1/σ(E per atom), σ(F)/σ(E per atom) over training structures."""
    index = np.flatnonzero(train_mask)
    per_atom = frames.energies[index] / frames.n_atoms[index]
    slices = frames.atom_slices()
    forces = np.concatenate([frames.forces[slice(*slices[i])].ravel() for i in index])
    sigma_e = float(np.std(per_atom, ddof=1)) if len(index) > 1 else 0.0
    sigma_f = float(np.sqrt(np.sum(forces**2) / max(len(forces) - 1, 1))) if np.isfinite(forces).all() else 0.0
    if not sigma_e > 0 or not sigma_f > 0:
        return None
    return float(per_atom.mean()), 1.0 / sigma_e, sigma_f / sigma_e


def _with_keyword(settings: str, keyword: str, value: str) -> str:
    """input.nn text with ``keyword`` set to ``value`` (replacing an earlier line)."""
    lines = [line for line in settings.splitlines() if line.split('#', 1)[0].split()[:1] != [keyword]]
    return '\n'.join([*lines, f'{keyword} {value}'.rstrip()]) + '\n'


def __getattr__(name):
    if name == 'N2p2Calculation':  # the name before issue 16: it runs n2p2 or our engine, both train an NNP
        import warnings

        warnings.warn('N2p2Calculation is now NnpCalculation', DeprecationWarning, stacklevel=2)
        return NnpCalculation
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
