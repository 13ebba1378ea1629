"""ASE calculators that say how unsure they are: ``results['uncertainty']`` per atom and
``results['max_uncertainty']`` per structure, beside energy, forces and stress.

- :class:`WithGrades`: any calculator plus a per-atom grade function (SNAP: the extrapolation
  grade of its bispectrum rows against the training set's active set, :mod:`.grade`).
- :class:`Committee`: the mean of several calculators (the potential), and the spread of
  their forces per atom, eV/Å (the uncertainty); ``results['energy_std']`` per atom, eV.
ACE needs neither: pyace's own grade (``gamma``) is copied into the same keys.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

PROPERTIES = ['energy', 'free_energy', 'forces', 'stress']


class _Graded(Calculator):
    """``base`` for energy, forces and stress; :meth:`_uncertainty` after it for the grade."""

    implemented_properties = [*PROPERTIES, 'uncertainty', 'max_uncertainty']

    def __init__(self, base, **kwargs):
        super().__init__(**kwargs)
        self.base = base

    def _uncertainty(self, atoms) -> np.ndarray:
        raise NotImplementedError

    def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        image = self.atoms.copy()
        image.calc = self.base
        self.results = {'energy': image.get_potential_energy(), 'forces': image.get_forces()}
        self.results['free_energy'] = self.results['energy']
        if 'stress' in properties and all(self.atoms.pbc):
            self.results['stress'] = image.get_stress()
        self.results['uncertainty'] = np.asarray(self._uncertainty(self.atoms), float)
        self.results['max_uncertainty'] = float(self.results['uncertainty'].max())


class WithGrades(_Graded):
    """``base`` for energy, forces and stress; ``grades(atoms)`` for the uncertainty."""

    def __init__(self, base, grades, **kwargs):
        super().__init__(base, **kwargs)
        self.grades = grades

    def _uncertainty(self, atoms):
        return self.grades(atoms)


class WithGamma(_Graded):
    """pyace's calculator with an active set: its ``gamma`` (of the evaluation just done) as the uncertainty."""

    def _uncertainty(self, atoms):
        return np.array(self.base.results['gamma'], float)


class Committee(Calculator):
    """The mean of ``members``; the uncertainty of an atom is the root mean square deviation
    of its force vector across the members (eV/Å)."""

    implemented_properties = [*PROPERTIES, 'uncertainty', 'max_uncertainty', 'energy_std']

    def __init__(self, members, **kwargs):
        super().__init__(**kwargs)
        if len(members) < 2:
            raise ValueError(f'a committee needs at least 2 members, got {len(members)}')
        self.members = list(members)

    def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        energies, forces, stresses = [], [], []
        want_stress = 'stress' in properties and all(self.atoms.pbc)
        for member in self.members:
            image = self.atoms.copy()
            image.calc = member
            energies.append(image.get_potential_energy())
            forces.append(image.get_forces())
            if want_stress:
                stresses.append(image.get_stress())
        energies, forces = np.array(energies), np.array(forces)
        mean_forces = forces.mean(axis=0)
        spread = np.sqrt(((forces - mean_forces) ** 2).sum(axis=2).mean(axis=0))
        self.results = {
            'energy': float(energies.mean()),
            'free_energy': float(energies.mean()),
            'forces': mean_forces,
            'energy_std': float(energies.std() / len(self.atoms)),
            'uncertainty': spread,
            'max_uncertainty': float(spread.max()),
        }
        if want_stress:
            self.results['stress'] = np.mean(stresses, axis=0)
