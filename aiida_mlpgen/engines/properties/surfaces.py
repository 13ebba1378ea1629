"""Surface energies of relaxed slabs: γ = (E_slab − N·ε_bulk) / 2A."""

from __future__ import annotations

from ase.build import surface

from .defects import relax_positions

#: eV/Å² -> J/m²
EV_PER_A2_TO_J_PER_M2 = 16.021766208


def surface_energy(bulk, calculator, miller=(1, 0, 0), layers: int = 7, vacuum: float = 8.0,
                   fmax: float = 1e-3) -> float:
    """γ (J/m²) of the ``miller`` facet of the conventional ``bulk`` cell."""
    reference = bulk.copy()
    reference.calc = calculator
    per_atom = reference.get_potential_energy() / len(reference)
    slab = surface(bulk, tuple(int(i) for i in miller), layers, vacuum=vacuum, periodic=True)
    slab.calc = calculator
    relax_positions(slab, fmax)
    area = slab.cell.area(2)
    return float((slab.get_potential_energy() - len(slab) * per_atom) / (2.0 * area) * EV_PER_A2_TO_J_PER_M2)
