"""Surface energies of relaxed slabs: γ = (E_slab − N·ε_bulk) / 2A."""

from __future__ import annotations

from ase.build import surface

from .tasks import Task

DEFAULTS = {'miller': [1, 0, 0], 'layers': 7, 'vacuum': 10.0}
#: eV/Å² -> J/m²
EV_PER_A2_TO_J_PER_M2 = 16.021766208


def miller_label(miller) -> str:
    """``(1, 0, 0)`` -> ``100``, ``(1, -1, 0)`` -> ``1-10``."""
    return ''.join(str(int(i)) for i in miller)


def tasks(atoms, miller, layers, vacuum):
    if len(miller) != 3 or not any(miller):
        raise ValueError(f'Miller indices must be three integers, not all zero: {miller}')
    slab = surface(atoms, tuple(int(i) for i in miller), int(layers), vacuum=float(vacuum), periodic=True)
    return [Task('bulk', atoms.copy()), Task('slab', slab, 'positions')]


def analyse(atoms, results, miller, layers, vacuum):
    slab = tasks(atoms, miller, layers, vacuum)[1].atoms
    per_atom = results['bulk'].energy / len(atoms)
    gamma = (results['slab'].energy - len(slab) * per_atom) / (2.0 * slab.cell.area(2)) * EV_PER_A2_TO_J_PER_M2
    return {f'surface_energy_{miller_label(miller)}': float(gamma)}, {}
