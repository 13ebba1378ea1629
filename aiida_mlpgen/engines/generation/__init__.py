"""Training structures from bulk crystals: strains, shear, rattles, defects, slabs (no AiiDA).

:func:`~.structures.generate` turns one bulk cell and a settings dictionary (see
:mod:`.settings`) into named, grouped P1 structures; the calcfunction
:func:`aiida_mlpgen.calculations.functions.generation.generate_structures` records it.
"""
