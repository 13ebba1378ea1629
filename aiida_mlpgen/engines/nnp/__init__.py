"""An n2p2-compatible Behler–Parrinello neural-network potential engine.

Reads and writes n2p2's files (``input.nn``, ``input.data``, ``scaling.data``,
``weights.NNN.data``, ``learning-curve.out``) so that potentials trained here run unchanged
in LAMMPS's ``pair_style hdnnp`` and potentials trained by n2p2 evaluate here. Lengths and
energies are in the units of the files (n2p2 is unit-agnostic); ``cflength``/``cfenergy``
convert from Å/eV where a caller needs it.

Modules: :mod:`.settings` (input.nn), :mod:`.symfunctions` (definitions, n2p2 order),
:mod:`.sfsets` (Imbalzano/Gastegger grids), :mod:`.cutoff`, :mod:`.descriptors` (values and
derivatives), :mod:`.scaling` (scaling.data, histograms, pruning), :mod:`.network`
(weights files, the per-element networks), :mod:`.model` (energies, forces, stress),
:mod:`.kalman`, :mod:`.training`, :mod:`.calculator` (ASE), :mod:`.cli` (``mlpgen-nnp``).
"""
