"""``GenerateTrainingSetWorkChain``: SPEC.md's step 1 inside AiiDA — from bulk crystals to a
labelled ``TrainingSetData`` whose provenance reaches every DFT calculation.

generate structures (calcfunction, seeded) → MD snapshots with a stored potential (optional,
calcfunction) → label everything with one DFT setup, ab initio MD included
(``LabelWorkChain``) → merge into an existing set (``extend``, optional).
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain, if_

from aiida_mlpgen.calculations.functions.generation import GROUPS, SUPERCELL, generate_structures, md_snapshots
from aiida_mlpgen.calculations.functions.training_set import merge_training_sets
from aiida_mlpgen.data.potentials import PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.data.training_set.frames import atoms_hash
from aiida_mlpgen.engines.generation import settings as generation
from aiida_mlpgen.engines.generation.structures import generate

from .labelling import LabelWorkChain, check_labelling


def _settings(inputs) -> dict:
    """The generation settings; the protocol's ab initio MD is dropped for a labeller that runs
    none (MD asked for in ``generation`` is kept, and the labeller refuses it)."""
    from aiida_mlpgen.labellers import LabellingError, load_labeller

    protocol = inputs['protocol'].value if 'protocol' in inputs else 'moderate'
    given = inputs['generation'].get_dict() if 'generation' in inputs else {}
    settings = generation.merged(protocol, given)
    labeller = inputs.get('labelling', {}).get('labeller')
    if settings['md']['source'] == 'dft' and 'md' not in given and labeller is not None:
        try:
            if not load_labeller(labeller.value).HAS_MD:
                settings['md']['temperatures'] = []
        except LabellingError:
            pass  # reported by the labelling check
    return settings


class GenerateTrainingSetWorkChain(WorkChain):
    """Training structures from bulk crystals, labelled by a DFT code: a TrainingSetData."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace(
            'structures', valid_type=orm.StructureData, dynamic=True, help='The bulk crystals to start from.'
        )
        spec.input(
            'protocol',
            valid_type=orm.Str,
            default=lambda: orm.Str('moderate'),
            help='Generation protocol: fast, moderate or precise (which distortions, how many).',
        )
        spec.input(
            'generation',
            valid_type=orm.Dict,
            required=False,
            help='Overrides of the generation protocol: isotropic_strains, uniaxial_strains, shear_strains, '
            'rattle, vacancies, interstitials, slabs, supercell, md, min_distance_factor.',
        )
        spec.input('seed', valid_type=orm.Int, default=lambda: orm.Int(0), help='Seed of rattles, defects and MD.')
        spec.input(
            'md_potential',
            valid_type=PotentialData,
            required=False,
            help='For md source "potential": the potential whose MD snapshots are labelled.',
        )
        spec.input(
            'extend',
            valid_type=TrainingSetData,
            required=False,
            help='An existing set the new structures are merged into (same DFT settings).',
        )
        spec.expose_inputs(
            LabelWorkChain, namespace='labelling', exclude=('structures', 'groups', 'aimd_structures', 'aimd')
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.generate,
            if_(cls.should_sample_md)(cls.sample_md),
            cls.label,
            cls.results,
        )
        spec.output('training_set', valid_type=TrainingSetData, help='The labelled set (merged with extend).')
        spec.output('failed', valid_type=orm.List, help='Structures whose labelling failed, left out.')
        spec.exit_code(401, 'ERROR_LABELLING_FAILED', message='The labelling failed: {detail}.')

    @classmethod
    def validate_inputs(cls, inputs, _):
        try:
            settings = _settings(inputs)
            seed = inputs['seed'].value if 'seed' in inputs else 0
            names = set()
            many = len(inputs['structures']) > 1
            for label, structure in inputs['structures'].items():
                made = generate(structure.get_ase(), settings, seed)
                names |= {f'{label}_{name}' if many else name for name, _, _ in made}
        except generation.GenerationError as error:
            return f'generation: {error}'
        if not inputs['structures']:
            return 'give at least one bulk structure'
        md = settings['md']
        labelling = inputs.get('labelling', {})
        if 'labeller' in labelling:
            aimd = orm.Dict(md) if md['temperatures'] and md['source'] == 'dft' else None
            bulk = inputs['structures']
            problem = check_labelling(labelling, bulk, bulk if aimd else None, aimd, names)
            if problem:
                return f'labelling: {problem}'
        if md['temperatures'] and md['source'] == 'potential':
            if 'md_potential' not in inputs:
                return 'md source "potential" needs md_potential (a stored potential to sample with)'
            elements = {k.symbol for s in inputs['structures'].values() for k in s.kinds}
            missing = elements - set(inputs['md_potential'].elements)
            if missing:
                return f'md_potential has no parameters for {sorted(missing)}'
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        code,
        structures,
        labeller: str = 'quantumespresso',
        protocol: str = 'moderate',
        labeller_settings: dict | None = None,
        generation_overrides: dict | None = None,
        max_concurrent: int = 4,
        options: dict | None = None,
        seed: int = 0,
    ):
        """A builder: the generation protocol ``protocol`` with ``generation_overrides``, and the
        labeller's protocol of the same name with ``labeller_settings`` on top."""
        from aiida_mlpgen.labellers import load_labeller

        if not isinstance(structures, dict):
            structures = {f'bulk_{i}': s for i, s in enumerate(structures)}
        worker = load_labeller(labeller)
        builder = cls.get_builder()
        builder.structures = structures
        builder.protocol = orm.Str(protocol)
        if generation_overrides:
            builder.generation = orm.Dict(generation_overrides)
        builder.seed = orm.Int(seed)
        builder.labelling.labeller = orm.Str(labeller)
        builder.labelling.code = code
        builder.labelling.settings = orm.Dict(worker.settings(labeller_settings, protocol))
        builder.labelling.max_concurrent = orm.Int(max_concurrent)
        if options:
            builder.labelling.options = orm.Dict(options)
        return builder

    def generate(self):
        settings = _settings(self.inputs)
        self.ctx.settings = settings
        structures, groups, bulk, supercells = {}, {}, {}, {}
        many = len(self.inputs.structures) > 1
        for label, structure in sorted(self.inputs.structures.items()):
            made = generate_structures(structure, orm.Dict(settings), self.inputs.seed)
            prefix = f'{label}_' if many else ''
            for name, group in made[GROUPS].get_dict().items():
                structures[prefix + name] = made[name]
                groups[prefix + name] = group
            bulk[label] = structure
            supercells[label] = made[SUPERCELL]
        if 'extend' in self.inputs:  # what the set holds already is not computed again
            known = set(self.inputs.extend.get_frames().structure_hashes(include_labels=False))
            again = sorted(name for name, node in structures.items() if atoms_hash(node.get_ase()) in known)
            for name in again:
                del structures[name], groups[name]
            if again:
                self.report(f'not labelled, already in the set to extend: {", ".join(again)}')
        self.ctx.structures, self.ctx.groups, self.ctx.bulk = structures, groups, bulk
        self.ctx.supercells = supercells
        self.report(f'generated {len(structures)} structures in groups {sorted(set(groups.values()))}')

    def should_sample_md(self) -> bool:
        md = self.ctx.settings['md']
        return bool(md['temperatures']) and md['source'] == 'potential'

    def sample_md(self):
        md = orm.Dict(self.ctx.settings['md'])
        many = len(self.ctx.bulk) > 1
        for label, structure in sorted(self.ctx.bulk.items()):
            made = md_snapshots(structure, self.inputs.md_potential, md, self.inputs.seed)
            prefix = f'{label}_' if many else ''
            for name, group in made[GROUPS].get_dict().items():
                self.ctx.structures[prefix + name] = made[name]
                self.ctx.groups[prefix + name] = group

    def label(self):
        inputs = self.exposed_inputs(LabelWorkChain, namespace='labelling')
        inputs['structures'] = self.ctx.structures
        inputs['groups'] = orm.Dict(self.ctx.groups)
        md = self.ctx.settings['md']
        if md['temperatures'] and md['source'] == 'dft':
            inputs['aimd_structures'] = self.ctx.supercells
            inputs['aimd'] = orm.Dict(md)
        inputs['metadata'] = {'call_link_label': 'labelling'}
        return ToContext(labelling=self.submit(LabelWorkChain, **inputs))

    def results(self):
        child = self.ctx.labelling
        if 'failed' in child.outputs:
            self.out('failed', child.outputs.failed)
        if not child.is_finished_ok:
            return self.exit_codes.ERROR_LABELLING_FAILED.format(
                detail=f'LabelWorkChain<{child.pk}> [{child.exit_status}] {child.exit_message}'
            )
        training_set = child.outputs.training_set
        if 'extend' in self.inputs:
            training_set = merge_training_sets(existing=self.inputs.extend, new=training_set)
        self.out('training_set', training_set)
        self.report(f'{type(training_set).__name__}<{training_set.pk}>: {training_set.n_structures} structures')
        return None
