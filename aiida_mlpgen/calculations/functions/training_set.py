"""Training-set operations as calcfunctions, so the provenance graph records each one."""

from __future__ import annotations

import dataclasses

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_mlpgen.data.training_set import Frame, TrainingSetData, TrainingSetError
from aiida_mlpgen.data.training_set.frames import assign_folds, choose_validation

__all__ = (
    'kfold_training_sets',
    'merge_training_sets',
    'reweight_groups',
    'select_groups',
    'split_training_set',
    'train_on_all',
    'training_set_from_aiida',
)


def permitted(frames) -> dict:
    """energy_only / molecular as the (already checked, stored) sets these frames come from were."""
    return {
        'energy_only': any(f.forces is None for f in frames),
        'molecular': any(not any(f.pbc) for f in frames),
        'allow_extreme_values': True,
    }


def derived_training_set(parent: TrainingSetData, frames: list[Frame]) -> TrainingSetData:
    """A new set from ``frames`` of ``parent``: checks already passed there, duplicates kept as they were."""
    sources = parent.base.attributes.get(TrainingSetData.KEY_SOURCES, [])
    return TrainingSetData(
        frames, allow_duplicates=True, allow_inconsistent_dft=True, sources=sources, **permitted(frames)
    )


@calcfunction
def split_training_set(training_set: TrainingSetData, fraction: orm.Float, seed: orm.Int) -> TrainingSetData:
    """Tag a ``fraction`` of the unassigned structures of each group as validation, the rest as train.

    Structures that already carry a train/validation tag keep it. The choice is random
    with ``seed`` and stratified by group, so every group with enough structures is seen
    in both parts.
    """
    fraction_value = float(fraction.value)
    if not 0.0 <= fraction_value < 1.0:
        raise TrainingSetError(f'validation fraction must be in [0, 1), got {fraction_value}')
    frames = training_set.get_frame_list()
    unassigned = [f.split == 'unassigned' for f in frames]
    validation = set(choose_validation([f.group for f in frames], unassigned, fraction_value, seed.value).tolist())
    for index, frame in enumerate(frames):
        if unassigned[index]:
            frame.split = 'validation' if index in validation else 'train'
    return derived_training_set(training_set, frames)


@calcfunction
def train_on_all(training_set: TrainingSetData) -> TrainingSetData:
    """Every structure of ``training_set`` tagged train: the refit on training + validation
    structures once a hyperparameter search has chosen its parameters."""
    frames = training_set.get_frame_list()
    for frame in frames:
        frame.split = 'train'
    return derived_training_set(training_set, frames)


@calcfunction
def kfold_training_sets(training_set: TrainingSetData, folds: orm.Int, seed: orm.Int) -> dict:
    """``fold_0`` .. ``fold_<k-1>``: copies of ``training_set`` for k-fold cross-validation, copy i
    with the structures of fold i tagged validation and all others train. Folds are drawn per
    group (stratified) with ``seed``; every structure is held out exactly once."""
    k = int(folds.value)
    if k < 2:
        raise TrainingSetError(f'k-fold cross-validation needs at least 2 folds, got {k}')
    frames = training_set.get_frame_list()
    try:
        assignment = assign_folds([f.group for f in frames], k, seed.value)
    except ValueError as error:
        raise TrainingSetError(str(error)) from error
    return {
        f'fold_{fold}': derived_training_set(
            training_set,
            [
                dataclasses.replace(f, split='validation' if which == fold else 'train')
                for f, which in zip(frames, assignment, strict=True)
            ],
        )
        for fold in range(k)
    }


@calcfunction
def select_groups(training_set: TrainingSetData, groups: orm.List) -> TrainingSetData:
    """The structures of ``training_set`` whose group is in ``groups``."""
    wanted = set(groups.get_list())
    unknown = wanted - set(training_set.groups)
    if unknown:
        raise TrainingSetError(f'unknown group(s) {sorted(unknown)}; the set has {training_set.groups}')
    return derived_training_set(training_set, [f for f in training_set.get_frame_list() if f.group in wanted])


@calcfunction
def merge_training_sets(**training_sets) -> TrainingSetData:
    """One set holding all structures of the given sets (checked again: duplicates, DFT settings)."""
    if not training_sets:
        raise TrainingSetError('merge needs at least one training set')
    frames = []
    for key in sorted(training_sets):
        frames.extend(training_sets[key].get_frame_list())
    sources = [s for key in sorted(training_sets) for s in training_sets[key].base.attributes.get('sources', [])]
    return TrainingSetData(frames, sources=sources, **permitted(frames))


@calcfunction
def reweight_groups(training_set: TrainingSetData, weights: orm.Dict) -> TrainingSetData:
    """Set the weight of every structure of each named group (``{group: weight}``)."""
    mapping = weights.get_dict()
    unknown = set(mapping) - set(training_set.groups)
    if unknown:
        raise TrainingSetError(f'unknown group(s) {sorted(unknown)}; the set has {training_set.groups}')
    frames = training_set.get_frame_list()
    for frame in frames:
        if frame.group in mapping:
            frame.weight = float(mapping[frame.group])
    return derived_training_set(training_set, frames)


@calcfunction
def training_set_from_aiida(**entries) -> TrainingSetData:
    """A training set from DFT results already in the database, linked into the provenance.

    Inputs are namespaced by structure: ``structure_<k>`` (StructureData), ``energy_<k>``
    (Float, eV), ``forces_<k>`` (ArrayData with array ``forces``, eV/Å) and optionally
    ``stress_<k>`` (ArrayData with array ``stress``, 3x3, eV/Å³, tension positive) and
    ``group_<k>`` (Str). Build the inputs with :func:`aiida_inputs`.
    """
    keys = sorted({name.split('_', 1)[1] for name in entries if name.startswith('structure_')})
    if not keys:
        raise TrainingSetError('no structure_<k> input given')
    frames = []
    for key in keys:
        structure = entries[f'structure_{key}']
        where = f'StructureData<{structure.pk}>'
        atoms = structure.get_ase()
        energy = entries.get(f'energy_{key}')
        forces = entries.get(f'forces_{key}')
        stress = entries.get(f'stress_{key}')
        group = entries.get(f'group_{key}')
        frames.append(
            Frame.from_atoms(
                atoms,
                energy=None if energy is None else float(energy.value),
                forces=None if forces is None else _array(forces, 'forces', where),
                stress=None if stress is None else _array(stress, 'stress', where),
                group=group.value if group is not None else 'default',
                source=where,
            )
        )
    return TrainingSetData(frames)


def _array(node: orm.ArrayData, name: str, where: str) -> np.ndarray:
    if name not in node.get_arraynames():
        raise TrainingSetError(f'{where}: ArrayData<{node.pk}> has no array named {name!r}')
    return node.get_array(name)


def aiida_inputs(entries) -> dict:
    """Inputs for :func:`training_set_from_aiida` from ``(structure, energy, forces[, stress[, group]])`` tuples.

    ``energy`` may be a Float node or a number, ``forces``/``stress`` ArrayData nodes or
    arrays; plain values become new nodes, stored nodes are linked as they are.
    """
    inputs = {}
    for index, entry in enumerate(entries):
        structure, energy, forces, *rest = entry
        stress = rest[0] if rest else None
        group = rest[1] if len(rest) > 1 else None
        inputs[f'structure_{index}'] = structure
        inputs[f'energy_{index}'] = energy if isinstance(energy, orm.Float) else orm.Float(float(energy))
        inputs[f'forces_{index}'] = _array_node(forces, 'forces')
        if stress is not None:
            inputs[f'stress_{index}'] = _array_node(stress, 'stress')
        if group is not None:
            inputs[f'group_{index}'] = group if isinstance(group, orm.Str) else orm.Str(str(group))
    return inputs


def _array_node(value, name: str) -> orm.ArrayData:
    if isinstance(value, orm.ArrayData):
        return value
    node = orm.ArrayData()
    node.set_array(name, np.asarray(value, dtype=float))
    return node
