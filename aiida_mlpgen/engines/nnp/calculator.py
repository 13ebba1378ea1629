"""ASE calculator for an n2p2 potential, with LAMMPS-style unit factors.

``cflength``/``cfenergy`` convert Å and eV into the potential's units (as ``pair_style
hdnnp`` takes them): positions × cflength go in, energies ÷ cfenergy come out.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from .model import Potential


class NnpCalculator(Calculator):
    implemented_properties = ['energy', 'free_energy', 'energies', 'forces', 'stress']

    def __init__(self, potential: Potential | str, cflength: float = 1.0, cfenergy: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.potential = potential if isinstance(potential, Potential) else Potential.load(potential)
        self.cflength, self.cfenergy = float(cflength), float(cfenergy)

    def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms
        want_stress = 'stress' in properties and a.cell.rank == 3 and a.pbc.all()
        result = self.potential.evaluate(
            a.numbers,
            a.positions * self.cflength,
            np.asarray(a.cell) * self.cflength,
            a.pbc,
            forces=True,
            stress=want_stress,
        )
        energy = result.energy / self.cfenergy
        self.results = {
            'energy': energy,
            'free_energy': energy,
            'energies': result.atomic_energies / self.cfenergy,
            'forces': result.forces * self.cflength / self.cfenergy,
        }
        if want_stress:
            full = result.stress * self.cflength**3 / self.cfenergy
            self.results['stress'] = full.flat[[0, 4, 8, 5, 2, 1]]
