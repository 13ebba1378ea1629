"""Calcfunctions of the first-principles path: structures from a bulk crystal, MD snapshots
from a stored potential, and the training set from the labellers' output nodes."""

from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_mlpgen.data.training_set.checks import TrainingSetError
from aiida_mlpgen.data.training_set.frames import Frame
from aiida_mlpgen.data.training_set.node import TrainingSetData
from aiida_mlpgen.engines.generation import settings as generation_settings
from aiida_mlpgen.engines.generation.structures import generate, too_close
from aiida_mlpgen.labellers import load_labeller
from aiida_mlpgen.labellers.base import kept_steps

#: key of the ``groups`` output / input: structure name -> group
GROUPS = 'groups'
#: output of :func:`generate_structures`: the input cell repeated by ``supercell`` (start of ab initio MD)
SUPERCELL = 'supercell'


@calcfunction
def generate_structures(structure: orm.StructureData, settings: orm.Dict, seed: orm.Int) -> dict:
    """Strained, sheared, rattled, defective and slab cells of ``structure`` (see
    :mod:`aiida_mlpgen.engines.generation.settings`), one output per structure plus
    ``groups`` ({name: group}) and ``supercell`` (where ab initio MD starts)."""
    made = generate(structure.get_ase(), settings.get_dict(), int(seed.value))
    out = {name: orm.StructureData(ase=atoms) for name, _, atoms in made}
    out[GROUPS] = orm.Dict({name: group for name, group, _ in made})
    out[SUPERCELL] = orm.StructureData(ase=structure.get_ase().repeat([int(n) for n in settings['supercell']]))
    return out


@calcfunction
def md_snapshots(structure: orm.StructureData, potential, md: orm.Dict, seed: orm.Int) -> dict:
    """Snapshots of Langevin MD with the potential's ASE calculator, per temperature:
    ``md_<T>K_<i>`` after ``equilibration`` steps, every ``interval`` steps, to be labelled."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    settings = md.get_dict()
    out, groups = {}, {}
    for temperature in settings['temperatures']:
        atoms = structure.get_ase()
        atoms.calc = potential.get_ase_calculator()
        rng = np.random.default_rng(int(seed.value) + int(temperature))
        MaxwellBoltzmannDistribution(atoms, temperature_K=float(temperature), rng=rng)
        dynamics = Langevin(
            atoms,
            float(settings['timestep_fs']) * units.fs,
            temperature_K=float(temperature),
            friction=0.02,
            rng=rng,
        )
        group = f'md_{int(temperature)}K'
        done = 0
        for index, step in enumerate(kept_steps(int(settings['steps']), settings)):
            if step > done:
                dynamics.run(step - done)
                done = step
            image = atoms.copy()
            image.calc = None
            image.wrap()
            problem = too_close(image, 0.5)
            if problem:
                raise generation_settings.GenerationError(
                    f'{group} step {step}: {problem}; the sampling potential failed at {temperature} K'
                )
            name = f'{group}_{index:02d}'
            out[name] = orm.StructureData(ase=image)
            groups[name] = group
    out[GROUPS] = orm.Dict(groups)
    return out


@calcfunction
def training_set_from_labels(labeller: orm.Str, dft_settings: orm.Dict, index: orm.Dict, **results) -> TrainingSetData:
    """The training set of the labelled structures, linked to every labeller output it reads.

    ``index`` maps a key ``k<i>`` to ``{"name", "group", "md"}``; ``results`` hold
    ``k<i>_structure`` and ``k<i>_<output>`` for each output the labeller reads.
    """
    worker = load_labeller(labeller.value)
    dft = dft_settings.get_dict()
    frames = []
    for key, entry in sorted(index.get_dict().items(), key=lambda item: int(item[0][1:])):
        structure = results[f'{key}_structure']
        outputs = {name: results[f'{key}_{name}'] for name in worker.RESULT_OUTPUTS}
        for result in worker.results(structure, outputs, entry.get('md')):
            source = f'{entry["name"]} ({labeller.value}'
            source += f', step {result.step})' if result.step is not None else ')'
            frames.append(
                Frame(
                    cell=np.asarray(result.cell, float),
                    numbers=np.asarray(result.numbers, np.int64),
                    positions=np.asarray(result.positions, float),
                    energy=float(result.energy),
                    forces=np.asarray(result.forces, float),
                    stress=None if result.stress is None else np.asarray(result.stress, float),
                    group=entry['group'],
                    source=source,
                    dft=dict(dft),
                )
            )
    if not frames:
        raise TrainingSetError('no structure was labelled: nothing to make a training set from')
    return TrainingSetData(frames, sources=[f'{labeller.value} labeller'])
