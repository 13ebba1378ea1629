"""A training set from structures, energies and forces already in the AiiDA database (EMT stands in for DFT)."""

import numpy as np
from aiida import load_profile, orm
from ase.build import bulk
from ase.calculators.emt import EMT

from aiida_mlpgen.calculations.functions.training_set import aiida_inputs, training_set_from_aiida

load_profile()
entries = []
for i, strain in enumerate(np.linspace(-0.02, 0.02, 5)):
    atoms = bulk('Cu', 'fcc', a=3.6 * (1 + strain), cubic=True).repeat(2)
    atoms.rattle(0.02, seed=i)
    atoms.calc = EMT()
    forces = orm.ArrayData()
    forces.set_array('forces', atoms.get_forces())
    entries.append(
        (orm.StructureData(ase=atoms).store(), orm.Float(atoms.get_potential_energy()).store(), forces.store())
    )
training_set = training_set_from_aiida(**aiida_inputs(entries))
print(training_set.pk, training_set.n_structures, training_set.elements)
