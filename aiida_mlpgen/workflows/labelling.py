"""``LabelWorkChain``: label many structures with one consistent DFT setup, concurrently.

Each structure runs as the labeller's process (``PwBaseWorkChain`` for Quantum ESPRESSO,
with its restart handlers); at most ``max_concurrent`` run at a time. Ab initio MD runs
(``aimd``) go through the same queue; their kept frames are labelled already. A structure
that still fails is left out of the set and listed in ``failed`` and the report; nothing
is dropped silently. The result links every labeller output it reads.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain, while_

from aiida_mlpgen.calculations.functions.generation import training_set_from_labels
from aiida_mlpgen.calculations.progress import ShowsProgress, publish
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.engines.generation.settings import DEFAULTS as GENERATION_DEFAULTS
from aiida_mlpgen.labellers import LabellingError, load_labeller

DEFAULT_OPTIONS = {'resources': {'num_machines': 1}}


def _elements(structures) -> set[str]:
    return {kind.symbol for structure in structures for kind in structure.kinds}


def check_labelling(inputs, structures, aimd_structures, aimd, names=None) -> str | None:
    """Why these labelling inputs cannot work (None when they can): labeller, settings against
    the structures' elements, overrides (of ``names``, default the structures'), ab initio MD."""
    structures = dict(structures or {})
    aimd_structures = dict(aimd_structures or {})
    if not structures and not aimd_structures:
        return 'nothing to label: give structures (or aimd_structures with aimd)'
    if aimd_structures and aimd is None:
        return 'aimd_structures need aimd settings (temperatures, steps, ...)'
    try:
        labeller = load_labeller(inputs['labeller'].value)
        settings = labeller.settings(inputs['settings'].get_dict() if 'settings' in inputs else {})
        labeller.resolve(settings, _elements([*structures.values(), *aimd_structures.values()]))
        overrides = inputs['overrides'].get_dict() if 'overrides' in inputs else {}
        unknown = set(overrides) - set(structures if names is None else names)
        if unknown:
            return f'overrides for unknown structure(s) {sorted(unknown)}'
        for values in overrides.values():
            labeller.check_overrides(values)
        if aimd_structures:
            if not labeller.HAS_MD:
                return f'the {labeller.name} labeller runs no ab initio MD: sample MD with a potential instead'
            aimd = {**GENERATION_DEFAULTS['md'], **aimd.get_dict()}
            if not aimd['temperatures']:
                return 'aimd: no temperatures given'
    except LabellingError as error:
        return str(error)
    if 'max_concurrent' in inputs and inputs['max_concurrent'].value < 1:
        return 'max_concurrent must be at least 1'
    return None


class LabelWorkChain(ShowsProgress, WorkChain):
    """Energies, forces and stresses of structures from one labeller with one setup."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace(
            'structures', valid_type=orm.StructureData, dynamic=True, required=False, help='Structures to label.'
        )
        spec.input(
            'groups', valid_type=orm.Dict, required=False, help='{structure name: group}; missing names: "default".'
        )
        spec.input('labeller', valid_type=orm.Str, help='Entry point in mlpgen.labellers: quantumespresso, ase, ...')
        spec.input('code', valid_type=orm.AbstractCode, help="The labeller's code (pw.x, mlpgen-properties, ...).")
        spec.input(
            'settings',
            valid_type=orm.Dict,
            default=lambda: orm.Dict({}),
            help='Labeller settings (quantumespresso: pseudo_family, ecutwfc, kpoints_spacing, ...); '
            'the labeller protocol "moderate" fills what is not given.',
        )
        spec.input(
            'overrides',
            valid_type=orm.Dict,
            required=False,
            help='{structure name: {...}}: numerical controls that may differ per structure (e.g. '
            '{"ELECTRONS": {"mixing_beta": 0.2}}); the physics (cutoff, k-points, smearing) may not.',
        )
        spec.input_namespace(
            'aimd_structures',
            valid_type=orm.StructureData,
            dynamic=True,
            required=False,
            help='Structures to run ab initio MD from, at each temperature of aimd.',
        )
        spec.input(
            'aimd',
            valid_type=orm.Dict,
            required=False,
            help='temperatures (K), steps, interval, equilibration, timestep_fs of the ab initio MD runs.',
        )
        spec.input(
            'max_concurrent', valid_type=orm.Int, default=lambda: orm.Int(4), help='Labelling processes at once.'
        )
        spec.input('options', valid_type=orm.Dict, required=False, help="metadata.options of the labeller's jobs.")
        spec.inputs.validator = cls.validate_inputs
        spec.outline(cls.setup, while_(cls.has_work)(cls.submit_batch), cls.results)
        spec.output('training_set', valid_type=TrainingSetData, help='The labelled structures.')
        spec.output('failed', valid_type=orm.List, help='Structures left out: name, group, pk, exit status, message.')
        spec.exit_code(401, 'ERROR_NOTHING_LABELLED', message='No structure could be labelled: {detail}.')

    @classmethod
    def validate_inputs(cls, inputs, ctx):
        if 'structures' not in ctx:  # exposed without structures: the caller checks (check_labelling)
            return None
        return check_labelling(inputs, inputs.get('structures'), inputs.get('aimd_structures'), inputs.get('aimd'))

    def setup(self):
        labeller = load_labeller(self.inputs.labeller.value)
        settings = labeller.settings(self.inputs.settings.get_dict())
        structures = dict(self.inputs.get('structures') or {})
        aimd_structures = dict(self.inputs.get('aimd_structures') or {})
        self.ctx.resolved = labeller.resolve(settings, _elements([*structures.values(), *aimd_structures.values()]))
        groups = self.inputs.groups.get_dict() if 'groups' in self.inputs else {}
        queue = []  # ab initio MD first: the longest runs start in the first batch
        if aimd_structures:
            aimd = {**GENERATION_DEFAULTS['md'], **self.inputs.aimd.get_dict()}
            for name in sorted(aimd_structures):
                for temperature in aimd['temperatures']:
                    queue.append(
                        {
                            'name': f'aimd_{name}_{int(temperature)}K',
                            'group': f'md_{int(temperature)}K',
                            'md': {**aimd, 'temperature': float(temperature)},
                            'from': name,
                        }
                    )
        queue += [{'name': name, 'group': groups.get(name, 'default'), 'md': None} for name in sorted(structures)]
        self.ctx.queue = queue
        self.ctx.done = []  # submitted entries; results reads their processes once all ended
        self.report(
            f'{len(queue)} labelling processes with {labeller.name}, at most {self.inputs.max_concurrent.value} at once'
        )

    def has_work(self) -> bool:
        return bool(self.ctx.queue)

    def submit_batch(self):
        from aiida.engine import ToContext

        labeller = load_labeller(self.inputs.labeller.value)
        options = {**DEFAULT_OPTIONS, **(self.inputs.options.get_dict() if 'options' in self.inputs else {})}
        overrides = self.inputs.overrides.get_dict() if 'overrides' in self.inputs else {}
        batch = self.ctx.queue[: self.inputs.max_concurrent.value]
        self.ctx.queue = self.ctx.queue[len(batch) :]
        finished, total = len(self.ctx.done), len(self.ctx.done) + len(batch) + len(self.ctx.queue)
        publish(self.node, f'{finished}/{total} labelled, {len(batch)} running', finished, total)
        running = {}
        for entry in batch:
            if entry['md']:
                structure = self.inputs.aimd_structures[entry['from']]
                inputs = labeller.md_inputs(
                    structure, self.inputs.code, self.ctx.resolved, entry['md'], entry['md']['temperature'], options
                )
            else:
                structure = self.inputs.structures[entry['name']]
                inputs = labeller.inputs(
                    structure, self.inputs.code, self.ctx.resolved, overrides.get(entry['name'], {}), options
                )
            inputs.setdefault('metadata', {})['call_link_label'] = f'label_{entry["name"]}'
            node = self.submit(labeller.process_class(), **inputs)
            entry['pk'] = node.pk
            entry['structure_pk'] = structure.pk
            running[f'job_{node.pk}'] = node
        self.ctx.done = [*self.ctx.done, *batch]
        return ToContext(**running)

    def results(self):
        labeller = load_labeller(self.inputs.labeller.value)
        index, results, failed = {}, {}, []
        for entry in self.ctx.done:
            node = orm.load_node(entry['pk'])
            outputs = {name: node.outputs[name] for name in labeller.RESULT_OUTPUTS if name in node.outputs}
            if not node.is_finished_ok or len(outputs) < len(labeller.RESULT_OUTPUTS):
                failed.append(
                    {
                        'name': entry['name'],
                        'group': entry['group'],
                        'pk': node.pk,
                        'exit_status': node.exit_status,
                        'message': node.exit_message or f'process {node.process_state.value}',
                    }
                )
                failure = f'{node.process_label}<{node.pk}> [{node.exit_status}] {node.exit_message}'
                self.report(f'left out {entry["name"]}: {failure}')
                continue
            key = f'k{len(index)}'
            index[key] = {'name': entry['name'], 'group': entry['group'], 'md': entry['md']}
            results[f'{key}_structure'] = orm.load_node(entry['structure_pk'])
            for name, value in outputs.items():
                results[f'{key}_{name}'] = value
        self.out('failed', orm.List(failed).store())
        total = len(self.ctx.done)
        publish(self.node, f'{total}/{total} done' + (f', {len(failed)} failed' if failed else ''), total, total)
        if not index:
            return self.exit_codes.ERROR_NOTHING_LABELLED.format(
                detail='; '.join(f'{f["name"]}: {f["message"]}' for f in failed)
            )
        training_set = training_set_from_labels(
            self.inputs.labeller,
            orm.Dict(labeller.dft_settings(self.ctx.resolved)),
            orm.Dict(index),
            **results,
        )
        self.out('training_set', training_set)
        if failed:
            self.report(
                f'{len(failed)} of {len(self.ctx.done)} labelling processes failed and are left out (output failed)'
            )
        return None
