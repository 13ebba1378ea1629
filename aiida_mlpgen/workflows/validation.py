"""``ValidationWorkChain``: material properties predicted by a potential, next to DFT.

equation of state of the structure (and of every other phase) → equilibrium structure →
each further property as its own CalcJob (elastic, vacancy, interstitial, surface:hkl,
gsf:hkl:uvw, phonons, thermal_expansion) → values, a property | MLP | DFT | error table
and plots. The reference is a Dict of DFT values under the same keys, or — to test the
workflow, or to compare two potentials — another potential run through the same
properties with the ASE engine.
"""

from __future__ import annotations

import io
import tempfile

from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction

from aiida_mlpgen.calculations.functions.dft_reference import dft_reference_values, reference_tasks
from aiida_mlpgen.calculations.properties import (
    AsePropertiesCalculation,
    LammpsPropertiesCalculation,
    lammps_check,
    property_tasks,
)
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.engines.properties.registry import PROPERTIES, parse_request, request_label
from aiida_mlpgen.labellers import load_labeller
from aiida_mlpgen.report.validation import comparison_rows, report_text, write_plots

from .labelling import LabelWorkChain, check_labelling

ENGINES = {'lammps': LammpsPropertiesCalculation, 'ase': AsePropertiesCalculation}
#: CalcJob exit codes whose outputs are still used (relaxation not converged: noted in the report)
USABLE_FAILURES = (320,)


def requests(properties: list[str], settings: dict) -> list[tuple[str, str, dict]]:
    """``(label, property, settings)`` for each request; the equation of state always comes first."""
    out = {'eos': ('eos', 'eos', dict(settings.get('eos', {})))}
    for item in properties:
        name, given = parse_request(item)
        if name in ('eos', 'phases'):
            continue
        merged = {**settings.get(name, {}), **given}
        out[request_label(name, merged)] = (request_label(name, merged), name, merged)
    return list(out.values())


@calcfunction
def scale_structure(structure, scale):
    """The structure with its cell (and positions) scaled by ``scale`` — the EOS equilibrium."""
    atoms = structure.get_ase()
    atoms.set_cell(atoms.cell[:] * scale.value, scale_atoms=True)
    return orm.StructureData(ase=atoms)


@calcfunction
def collect_values(**properties):
    """All values in one Dict; ``phase_<name>`` equations of state become energy differences
    to the main structure (eV/atom)."""
    values = {}
    main = properties['eos'].get_dict()
    for label, node in properties.items():
        if label.startswith('phase_'):
            values[f'energy_difference_{label[6:]}'] = node['energy_per_atom'] - main['energy_per_atom']
        else:
            values.update(node.get_dict())
    return orm.Dict(values)


@calcfunction
def collect_curves(**curves):
    return orm.Dict({label: node.get_dict() for label, node in curves.items()})


@calcfunction
def validation_report(values, curves, reference, reference_curves, labels):
    """The comparison table (Dict), the text report and the plots."""
    rows = comparison_rows(values.get_dict(), reference.get_dict())
    text = report_text(labels['potential'], labels['engine'], rows, labels['reference'], labels.get('notes', []))
    plots = orm.FolderData()
    with tempfile.TemporaryDirectory() as directory:
        for path in write_plots(rows, curves.get_dict(), reference_curves.get_dict(), directory):
            plots.base.repository.put_object_from_file(str(path), path.name)
    return {
        'comparison': orm.Dict({'rows': rows}),
        'report': orm.SinglefileData(io.BytesIO(text.encode()), filename='validation.txt'),
        'plots': plots,
    }


class ValidationWorkChain(WorkChain):
    """Compute material properties with a potential (LAMMPS or ASE) and compare them with DFT."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('potential', valid_type=PotentialData, help='The potential to validate (any type, Δ overlays too).')
        spec.input(
            'structure',
            valid_type=orm.StructureData,
            help='The bulk crystal (conventional cell for cubic crystals: lattice_parameter is its a).',
        )
        spec.input_namespace(
            'phases',
            valid_type=orm.StructureData,
            dynamic=True,
            required=False,
            help='Other phases; "phases" in properties gives energy_difference_<name> (eV/atom).',
        )
        spec.input(
            'properties',
            valid_type=orm.List,
            default=lambda: orm.List(['eos', 'elastic']),
            help='Requests: eos, elastic, vacancy, interstitial, surface:100, gsf:110:1-11, phonons, '
            'phases, thermal_expansion (LAMMPS only).',
        )
        spec.input(
            'settings',
            valid_type=orm.Dict,
            required=False,
            help='Settings per property name, e.g. {"vacancy": {"supercell": [4, 4, 4]}}.',
        )
        spec.input('engine', valid_type=orm.Str, default=lambda: orm.Str('lammps'), help='lammps or ase.')
        spec.input(
            'code', valid_type=orm.AbstractCode, help='LAMMPS (engine lammps) or mlpgen-properties (engine ase).'
        )
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of every CalcJob.')
        spec.input(
            'reference',
            valid_type=orm.Dict,
            required=False,
            help='DFT values under the same keys as the outputs; "curves" may hold {"eos": '
            '{"volumes_per_atom": [...], "energies_per_atom": [...]}} for the plots.',
        )
        spec.input(
            'reference_potential',
            valid_type=PotentialData,
            required=False,
            help='Instead of DFT values: a potential whose properties (ASE engine) are the reference.',
        )
        spec.input(
            'reference_code',
            valid_type=orm.AbstractCode,
            required=False,
            help='mlpgen-properties code for reference_potential (default: code, when engine is ase).',
        )
        spec.expose_inputs(
            LabelWorkChain,
            namespace='dft_reference',
            exclude=('structures', 'groups', 'aimd_structures', 'aimd'),
            namespace_options={
                'required': False,
                'populate_defaults': False,
                'help': 'Instead of given DFT values: compute them with this labeller and setup (e.g. the '
                "training set's): the equation of state (lattice parameter, bulk modulus, energy).",
            },
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(cls.run_equations_of_state, cls.run_properties, cls.results)
        spec.output('values', valid_type=orm.Dict, help="The potential's values under stable keys.")
        spec.output('curves', valid_type=orm.Dict, help='Data behind the plots, per property.')
        spec.output('equilibrium_structure', valid_type=orm.StructureData, help='The structure at the EOS minimum.')
        spec.output(
            'comparison', valid_type=orm.Dict, help='Rows: property, unit, mlp, dft, abs_error, rel_error_percent.'
        )
        spec.output('report', valid_type=orm.SinglefileData, help='The table as text.')
        spec.output('plots', valid_type=orm.FolderData, help='eos.png, relative_errors.png and per-property PNGs.')
        spec.exit_code(401, 'ERROR_EOS_FAILED', message='The equation of state failed: {detail}.')
        spec.exit_code(
            402, 'ERROR_PROPERTIES_FAILED', message='Some properties failed (the rest is reported): {detail}.'
        )
        spec.exit_code(403, 'ERROR_REFERENCE_FAILED', message="The reference potential's validation failed: {detail}.")

    @classmethod
    def validate_inputs(cls, inputs, _):
        engine = inputs['engine'].value if 'engine' in inputs else 'lammps'
        if engine not in ENGINES:
            return f'engine must be lammps or ase, not {engine!r}'
        settings = inputs['settings'].get_dict() if 'settings' in inputs else {}
        unknown = set(settings) - set(PROPERTIES)
        if unknown:
            return f'settings for unknown properties {sorted(unknown)}'
        try:
            wanted = requests(list(inputs['properties']), settings)
        except ValueError as error:
            return str(error)
        if 'phases' in list(inputs['properties']) and not inputs.get('phases'):
            return '"phases" asks for energy differences: give the other phases in the phases namespace'
        structure, potential = inputs['structure'], inputs.get('potential')
        if not all(structure.pbc):
            return 'the structure must be periodic in all three directions (a bulk crystal)'
        if potential is None:  # exposed in the generator, before the fit made the potential
            return None
        unknown = set(structure.get_kind_names()) - set(potential.elements)
        for phase in (inputs.get('phases') or {}).values():
            unknown |= set(phase.get_kind_names()) - set(potential.elements)
        if unknown:
            return f'element(s) {sorted(unknown)} not in the potential ({potential.elements})'
        for label, name, given in wanted:
            if engine not in PROPERTIES[name].engines:
                return f'{name} needs the {" or ".join(PROPERTIES[name].engines)} engine'
            try:
                property_tasks(structure, name, given)
            except (ValueError, TypeError) as error:
                return f'{label}: {error}'
        if engine == 'lammps':
            error = lammps_check(potential, inputs.get('code'))
            if error:
                return error
        given = [key for key in ('reference', 'reference_potential', 'dft_reference') if inputs.get(key)]
        if len(given) > 1:
            return f'give one reference, not both {given[0]} and {given[1]}'
        if inputs.get('dft_reference'):
            problem = check_labelling(inputs['dft_reference'], {'structure': structure}, None, None)
            if problem:
                return f'dft_reference: {problem}'
        if 'reference_potential' in inputs and 'reference_code' not in inputs and engine != 'ase':
            return 'reference_potential runs with the ASE engine: give reference_code (mlpgen-properties)'
        return None

    def _settings(self) -> dict:
        return self.inputs.settings.get_dict() if 'settings' in self.inputs else {}

    def _launch(self, label: str, name: str, structure, settings: dict):
        inputs = {
            'code': self.inputs.code,
            'potential': self.inputs.potential,
            'structure': structure,
            'property': orm.Str(name),
            'metadata': {'call_link_label': label},
        }
        if settings:
            inputs['settings'] = orm.Dict(settings)
        if 'options' in self.inputs:
            inputs['metadata']['options'] = self.inputs.options.get_dict()
        return self.submit(ENGINES[self.inputs.engine.value], **inputs)

    def run_equations_of_state(self):
        eos_settings = self._settings().get('eos', {})
        running = {'eos': self._launch('eos', 'eos', self.inputs.structure, eos_settings)}
        for name, phase in (self.inputs.get('phases') or {}).items():
            running[f'phase_{name}'] = self._launch(f'eos_phase_{name}', 'eos', phase, eos_settings)
        if 'reference_potential' in self.inputs:
            inputs = {
                key: self.inputs[key]
                for key in ('structure', 'properties', 'settings', 'phases', 'options')
                if key in self.inputs
            }
            inputs.update(
                potential=self.inputs.reference_potential,
                engine=orm.Str('ase'),
                code=self.inputs.get('reference_code', self.inputs.code),
                metadata={'call_link_label': 'reference'},
            )
            running['reference'] = self.submit(ValidationWorkChain, **inputs)
        if self.inputs.get('dft_reference'):
            inputs = self.exposed_inputs(LabelWorkChain, namespace='dft_reference')
            structures = reference_tasks(self.inputs.structure, self._settings())
            labeller = load_labeller(inputs['labeller'].value)
            given = labeller.settings(inputs['settings'].get_dict() if 'settings' in inputs else {})
            inputs.update(
                settings=orm.Dict(labeller.fixed_sampling(given, self.inputs.structure)),
                structures=structures,
                groups=orm.Dict({name: 'eos' for name in structures}),
                metadata={'call_link_label': 'dft_reference'},
            )
            running['dft_reference'] = self.submit(LabelWorkChain, **inputs)
        return ToContext(**running)

    def run_properties(self):
        eos = self.ctx.eos
        if not (eos.is_finished_ok or eos.exit_status in USABLE_FAILURES):
            return self.exit_codes.ERROR_EOS_FAILED.format(detail=f'{eos.pk} [{eos.exit_status}] {eos.exit_message}')
        self.ctx.equilibrium = scale_structure(self.inputs.structure, orm.Float(eos.outputs.properties['eos_scale']))
        running = {}
        for label, name, given in requests(list(self.inputs.properties), self._settings()):
            if label != 'eos':
                running[label] = self._launch(label, name, self.ctx.equilibrium, given)
        self.ctx.labels = ['eos', *running, *[k for k in self.ctx if k.startswith('phase_')]]
        return ToContext(**running)

    def results(self):
        values, curves, failed, notes = {}, {}, [], []
        for label in self.ctx.labels:
            node = self.ctx[label]
            if node.is_finished_ok or node.exit_status in USABLE_FAILURES:
                values[label] = node.outputs.properties
                curves[label] = node.outputs.curves
                if not node.is_finished_ok:
                    notes.append(f'{label}: {node.exit_message}')
            else:
                failed.append(f'{label}<{node.pk}> [{node.exit_status}] {node.exit_message}')
        self.out('equilibrium_structure', self.ctx.equilibrium)
        self.out('values', collect_values(**values))
        self.out('curves', collect_curves(**{k: v for k, v in curves.items() if not k.startswith('phase_')}))
        reference, reference_curves, reference_label = orm.Dict({}), orm.Dict({}), 'none'
        if 'reference' in self.inputs:
            given = self.inputs.reference.get_dict()
            reference = orm.Dict({k: v for k, v in given.items() if k != 'curves'})
            reference_curves = orm.Dict(given.get('curves', {}))
            reference_label = f'DFT values (Dict<{self.inputs.reference.pk}>)'
        elif 'reference_potential' in self.inputs:
            child = self.ctx.reference
            if not child.is_finished_ok:
                return self.exit_codes.ERROR_REFERENCE_FAILED.format(
                    detail=f'{child.pk} [{child.exit_status}] {child.exit_message}'
                )
            reference, reference_curves = child.outputs['values'], child.outputs['curves']
            potential = self.inputs.reference_potential
            reference_label = f'{type(potential).__name__}<{potential.pk}> with the ASE engine'
        elif self.inputs.get('dft_reference'):
            child = self.ctx.dft_reference
            if not child.is_finished_ok:
                return self.exit_codes.ERROR_REFERENCE_FAILED.format(
                    detail=f'{child.pk} [{child.exit_status}] {child.exit_message}'
                )
            computed = dft_reference_values(
                child.outputs.training_set, self.inputs.structure, orm.Dict(self._settings())
            )
            reference, reference_curves = computed['values'], computed['curves']
            labeller = self.inputs.dft_reference.labeller.value
            reference_label = f'DFT by the {labeller} labeller (LabelWorkChain<{child.pk}>, equation of state)'
            failed_reference = child.outputs.failed.get_list()
            if failed_reference:
                notes.append(f'DFT reference: {len(failed_reference)} EOS point(s) failed and were left out')
        potential = self.inputs.potential
        labels = {
            'potential': f'{type(potential).__name__}<{potential.pk}>',
            'engine': self.inputs.engine.value,
            'reference': reference_label,
            'notes': notes + [f'failed: {f}' for f in failed],
        }
        outputs = validation_report(
            self.outputs['values'], self.outputs['curves'], reference, reference_curves, orm.Dict(labels)
        )
        for name, node in outputs.items():
            self.out(name, node)
        if failed:
            return self.exit_codes.ERROR_PROPERTIES_FAILED.format(detail='; '.join(failed))
        return None
