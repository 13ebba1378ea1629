"""The structures of a training set, made from one bulk crystal with ASE.

:func:`generate` returns ``(name, group, atoms)`` triples; every structure is a full
periodic P1 cell. A structure with two atoms closer than ``min_distance_factor`` × the
sum of their covalent radii is refused with the generator and setting that made it.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import surface
from ase.data import covalent_radii
from ase.geometry import get_distances
from ase.neighborlist import neighbor_list

from .settings import GenerationError


def generate(atoms: Atoms, settings: dict, seed: int = 0) -> list[tuple[str, str, Atoms]]:
    """Every structure ``settings`` asks for (see :mod:`.settings`), seeded."""
    if len(atoms) == 0:
        raise GenerationError('the bulk structure has no atoms')
    if not all(atoms.pbc):
        raise GenerationError('the bulk structure must be periodic in all three directions')
    rng = np.random.default_rng(seed)
    base = atoms.copy()
    base.calc = None
    out: list[tuple[str, str, Atoms]] = []
    if settings['ground_state']:
        out.append(('ground_state', 'ground_state', base.copy()))
    for index, eps in enumerate(settings['isotropic_strains']):
        out.append((f'strain_{index:02d}', 'strain', strained(base, np.eye(3) * eps)))
    for index, eps in enumerate(settings['uniaxial_strains']):
        for axis in range(3):
            matrix = np.zeros((3, 3))
            matrix[axis, axis] = eps
            out.append((f'uniaxial_{index:02d}_{"abc"[axis]}', 'uniaxial', strained(base, matrix)))
    for index, gamma in enumerate(settings['shear_strains']):
        for pair in ((0, 1), (0, 2), (1, 2)):
            matrix = np.zeros((3, 3))
            matrix[pair] = matrix[pair[::-1]] = gamma / 2
            out.append((f'shear_{index:02d}_{"xyz"[pair[0]]}{"xyz"[pair[1]]}', 'shear', strained(base, matrix)))
    rattle = settings['rattle']
    for index in range(int(rattle['count'])):
        out.append((f'rattle_{index:02d}', 'rattle', rattled(base, rattle['amplitude'], rattle['max_strain'], rng)))
    supercell = base.repeat([int(n) for n in settings['supercell']])
    for index in range(int(settings['vacancies']['count'])):
        out.append((f'vacancy_{index:02d}', 'vacancy', with_vacancy(supercell, rng)))
    for index in range(int(settings['interstitials']['count'])):
        out.append((f'interstitial_{index:02d}', 'interstitial', with_interstitial(supercell, rng)))
    slabs = settings['slabs']
    for miller in slabs['miller']:
        tag = ''.join(str(int(i)) for i in miller).replace('-', 'm')
        out.append((f'slab_{tag}', f'slab_{tag}', slab(base, miller, slabs['layers'], slabs['vacuum'])))
    for name, _, image in out:
        problem = too_close(image, settings['min_distance_factor'])
        if problem:
            raise GenerationError(f'{name}: {problem}; the generation settings are too aggressive for this crystal')
    return out


def strained(atoms: Atoms, strain: np.ndarray) -> Atoms:
    """``atoms`` with the cell deformed by (1 + ε), fractional positions kept."""
    image = atoms.copy()
    image.set_cell(atoms.cell[:] @ (np.eye(3) + strain), scale_atoms=True)
    return image


def rattled(atoms: Atoms, amplitude: float, max_strain: float, rng) -> Atoms:
    """A random symmetric strain up to ``max_strain`` and Gaussian displacements (σ = amplitude, Å)."""
    random = rng.uniform(-max_strain, max_strain, (3, 3))
    image = strained(atoms, (random + random.T) / 2)
    image.positions += rng.normal(0.0, amplitude, image.positions.shape)
    image.wrap()
    return image


def with_vacancy(atoms: Atoms, rng) -> Atoms:
    image = atoms.copy()
    if len(image) < 2:
        raise GenerationError('a vacancy needs at least two atoms in the supercell: enlarge supercell')
    del image[int(rng.integers(len(image)))]
    return image


def with_interstitial(atoms: Atoms, rng, samples: int = 2000) -> Atoms:
    """One extra atom (of a randomly chosen species of the crystal) at the emptiest of
    ``samples`` random points of the cell (largest distance to the nearest atom)."""
    points = rng.random((samples, 3)) @ atoms.cell[:]
    _, distances = get_distances(points, atoms.positions, cell=atoms.cell, pbc=True)
    image = atoms.copy()
    image.append(int(rng.choice(atoms.numbers)))
    image.positions[-1] = points[int(np.argmax(distances.min(axis=1)))]
    return image


def slab(atoms: Atoms, miller, layers: int, vacuum: float) -> Atoms:
    """A slab of ``layers`` layers with ``vacuum`` Å on each side, periodic in all directions."""
    image = surface(atoms, tuple(int(i) for i in miller), int(layers), vacuum=float(vacuum))
    image.pbc = True
    image.wrap()
    return image


def too_close(atoms: Atoms, factor: float) -> str | None:
    """A message when two atoms (periodic images included) are closer than ``factor`` ×
    the sum of their covalent radii."""
    radii = covalent_radii[atoms.numbers]
    cutoff = 2 * float(radii.max()) * factor
    first, second, distance = neighbor_list('ijd', atoms, cutoff, self_interaction=False)
    if len(distance) == 0:
        return None
    limits = factor * (radii[first] + radii[second])
    bad = np.flatnonzero(distance < limits)
    if len(bad) == 0:
        return None
    worst = bad[np.argmin(distance[bad] / limits[bad])]
    i, j = int(first[worst]), int(second[worst])
    return (
        f'atoms {i} and {j} are {distance[worst]:.2f} Å apart (limit {limits[worst]:.2f} Å = '
        f'{factor} × the sum of covalent radii)'
    )
