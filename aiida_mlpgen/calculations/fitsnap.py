"""``FitsnapCalculation``: a SNAP fit by FitSNAP (fitsnap3), on any AiiDA computer."""

from __future__ import annotations

import json

import numpy as np
from aiida import orm

from aiida_mlpgen.common.design_check import CHECK_FILE
from aiida_mlpgen.common.fitsnap_runner import FITSNAP_DESCRIPTORS, FITSNAP_REUSE_FILE, FITSNAP_SAVE_MARKER
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set.formats.fitsnap_json import write_file

from .base import MlpFitCalculation
from .parameters import snap as snap_parameters


class FitsnapCalculation(MlpFitCalculation):
    """Fit a (quadratic) SNAP potential with FitSNAP.

    The training set is written as FitSNAP JSON files, one FitSNAP group per (group,
    split, weight, stress present) combination so that structure weights, the validation
    split and missing stresses map onto FitSNAP's group weights. The code runs
    ``<executable> fitsnap.in`` (``mlpgen-fitsnap`` here; real FitSNAP elsewhere, except
    the ELASTIC solver); MPI ranks come from ``metadata.options.resources``.
    """

    INPUT_FILE = 'fitsnap.in'
    OUTPUT_FILE = 'fitsnap.out'
    DATA_FOLDER = 'JSON'
    GROUPS_FILE = 'mlpgen_groups.json'
    POTENTIAL_PREFIX = 'mlpgen_pot'
    DATAFRAME_FILE = 'FitSNAP.df'
    METRICS_FILE = 'fitsnap_metrics.md'
    REFERENCE_PREFIX = 'reference_'
    PARSER_NAME = 'mlpgen.fitsnap'
    PARAMETERS = snap_parameters
    TYPE_NAME = 'SNAP'

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input(
            'delta_potential',
            valid_type=PotentialData,
            required=False,
            help="Δ-potential: subtracted before the fit (FitSNAP's [REFERENCE] section) and overlaid on the "
            'result (Δ-learning, repulsion); its elements must be those of the training set, in the same order.',
        )
        spec.input(
            'reference_potential',
            valid_type=PotentialData,
            required=False,
            help='Deprecated name of delta_potential ("reference potential" now means only the potential a '
            'validation compares with).',
        )
        spec.input(
            'save_descriptors',
            valid_type=orm.Bool,
            default=lambda: orm.Bool(False),
            help='Keep the design matrix in the remote folder, for later fits that change weights only.',
        )
        spec.input(
            'descriptors_folder',
            valid_type=orm.RemoteData,
            required=False,
            help='Remote folder of a fit that saved its descriptors with the same structures (in the '
            'same order; the split may differ, e.g. another k-fold fold) and descriptor parameters: '
            'only the weights (fit.*, group_weights) and the split may differ; the design matrix is '
            'reused and only the weighted least-squares problem is solved.',
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outputs['potential'].valid_type = orm.Data

    @classmethod
    def validate_inputs(cls, inputs, _):
        """Check the parameters against the training set before anything runs."""
        training_set, p, error = cls.normalized_parameters(inputs)
        if training_set is None or error:
            return error
        unknown = sorted(set(p['group_weights']) - set(training_set.groups))
        if unknown:
            return f'group_weights name group(s) {unknown} the training set lacks; its groups: {training_set.groups}'
        if not training_set.has_forces and p['fit']['forces'] is not None:
            return 'the training set has no forces (an energy-only set): set fit.forces=off'
        if 'reference_potential' in inputs and 'delta_potential' in inputs:
            return 'give delta_potential only (reference_potential is its deprecated name)'
        reference = delta_potential(inputs)
        if reference is not None and list(reference.elements) != list(training_set.elements):
            return f"Δ-potential elements {reference.elements} differ from the training set's {training_set.elements}"
        return None

    def prepare_for_submission(self, folder):
        training_set = self.inputs.training_set
        parameters = snap_parameters.normalize(
            self.inputs.parameters.get_dict() if 'parameters' in self.inputs else {}, training_set.elements
        )
        frames = training_set.get_frame_list()
        validation = self.validation_mask(frames, parameters)
        fit = parameters['fit']
        groups, table, keys, names = [], {}, {}, []  # names: each structure's FitSNAP group
        data = folder.get_subfolder(self.DATA_FOLDER, create=True)
        for index, frame in enumerate(frames):
            train = not validation[index]
            key = (frame.group, train, frame.weight, frame.stress is not None)
            if key not in keys:
                name = f'g{len(keys):03d}'
                keys[key] = name
                override = parameters['group_weights'].get(frame.group, {})
                weights = {
                    term: frame.weight * float(override.get(term, fit[term] or 0.0))
                    for term in snap_parameters.FIT_TERMS
                }
                if frame.stress is None:
                    weights['stress'] = 0.0
                groups.append({'name': name, 'train': train, **weights})
                table[name] = {
                    'group': frame.group,
                    'train': train,
                    'weight': frame.weight,
                    'has_stress': frame.stress is not None,
                }
            names.append(keys[key])
            write_file(data.abspath + f'/{keys[key]}/s{index:06d}.json', frame, stress_placeholder=True)
        reference_terms, local_copy_list = None, []
        if delta_potential(self.inputs) is not None:
            reference = delta_potential(self.inputs)
            reference_terms, files, _ = reference.overlay_parts(self.REFERENCE_PREFIX)
            local_copy_list = [(reference.uuid, name, self.REFERENCE_PREFIX + name) for name in reference.filenames]
            reference_terms = [
                {'style': t['style'], 'coeffs': [_resolve(c, files) for c in t['coeffs']]} for t in reference_terms
            ]
        with folder.open(self.INPUT_FILE, 'w') as handle:
            handle.write(
                snap_parameters.fitsnap_input(
                    parameters, groups, self.POTENTIAL_PREFIX, self.DATA_FOLDER, reference_terms
                )
            )
        with folder.open(self.GROUPS_FILE, 'w') as handle:
            json.dump(
                {
                    'groups': table,
                    'parameters': parameters,
                    'energy_shift_per_atom': _shift_per_atom(frames, parameters),
                },
                handle,
            )

        remote_links = []
        if self.inputs.save_descriptors.value:
            with folder.open(FITSNAP_SAVE_MARKER, 'w') as handle:
                handle.write('save the design matrix for weight-only refits\n')
        if 'descriptors_folder' in self.inputs:
            remote = self.inputs.descriptors_folder
            remote_links = [
                (remote.computer.uuid, f'{remote.get_remote_path()}/{name}', name) for name in FITSNAP_DESCRIPTORS
            ]
            weights = {
                g['name']: {'train': g['train'], 'Energy': g['energy'], 'Force': g['forces'], 'Stress': g['stress']}
                for g in groups
            }
            with folder.open(FITSNAP_REUSE_FILE, 'w') as handle:
                json.dump({'groups': weights, 'structures': names}, handle)
        retrieve = [
            self.GROUPS_FILE,
            self.METRICS_FILE,
            self.DATAFRAME_FILE,
            CHECK_FILE,
            f'{self.POTENTIAL_PREFIX}.snapcoeff',
            f'{self.POTENTIAL_PREFIX}.snapparam',
        ]
        # The data is in the TrainingSetData node already: do not store it twice.
        calcinfo = self._calcinfo(retrieve, local_copy_list, exclude=[self.DATA_FOLDER])
        calcinfo.remote_symlink_list = remote_links
        return calcinfo


def delta_potential(inputs):
    """The Δ-potential of a FitSNAP fit's inputs (``delta_potential``, or its deprecated name
    ``reference_potential``, with a warning), or None."""
    if inputs.get('reference_potential') is not None:
        import warnings

        message = 'FitsnapCalculation: reference_potential is now delta_potential'
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return inputs.get('reference_potential')
    return inputs.get('delta_potential')


def _resolve(coeff: str, files) -> str:
    """File placeholders to plain names: the files sit in the working directory."""
    for name in files:
        coeff = coeff.replace('{file:' + name + '}', name)
    return coeff


def _shift_per_atom(frames, parameters) -> list[float]:
    shifts = {e: v['energy_shift'] for e, v in parameters['elements'].items()}
    from ase.data import chemical_symbols

    return [float(np.mean([shifts[chemical_symbols[z]] for z in f.numbers])) for f in frames]
