"""Material properties from any ASE calculator — one implementation of the physics that the
validation workflow runs with ASE or reproduces in LAMMPS.

:mod:`.eos` (Birch–Murnaghan E(V)), :mod:`.elastic` (Cij by finite strain–stress),
:mod:`.defects` (vacancy formation), :mod:`.surfaces` (relaxed slab surface energies).
Energies eV, lengths Å, moduli GPa, surface energies J/m².
"""
