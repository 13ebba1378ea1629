"""Protocols of the generator: named parameter sets per potential type, documented here.

- ``fast``: a minute-scale first look (small bases, few iterations/epochs);
- ``moderate``: the everyday fit (the benchmarks use it);
- ``precise``: SPEC.md's full settings (ACE 700 functions, 2000 iterations; SNAP 2J = 8;
  NNP 60 epochs, 25-25 network) — hours on a laptop, use a cluster.

Every protocol fits energies and forces (SNAP also stresses), holds out 10 % for
validation and uses seed 42. Overrides are merged on top (dotted keys nest).
"""

from __future__ import annotations

from aiida_mlpgen.calculations.parameters.checks import merge

PROTOCOLS = {
    'snap': {
        'fast': {'twojmax': 4, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 1e-4}},
        'moderate': {'twojmax': 6, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 1e-4}},
        'precise': {'twojmax': 8, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 1e-4},
                    'solver': 'RIDGE', 'solver_options': {'alpha': 1e-8}},
    },
    'ace': {
        'fast': {'cutoff': 5.0, 'number_of_functions': 30, 'force_weight': 0.02, 'min_iterations': 50,
                 'max_iterations': 100},
        'moderate': {'cutoff': 5.0, 'number_of_functions': 100, 'force_weight': 0.02, 'min_iterations': 150,
                     'max_iterations': 250},
        'precise': {'cutoff': 6.0, 'number_of_functions': 700, 'min_iterations': 200, 'max_iterations': 2000},
    },
    'nnp': {
        'fast': {'cutoff': 5.0, 'nodes_per_layer': 15, 'epochs': 10},
        'moderate': {'cutoff': 5.5, 'nodes_per_layer': 20, 'epochs': 30},
        'precise': {'cutoff': 6.0, 'nodes_per_layer': 25, 'epochs': 60},
    },
}


def protocol_parameters(potential_type: str, protocol: str = 'moderate', overrides: dict | None = None) -> dict:
    if potential_type not in PROTOCOLS:
        raise ValueError(f'unknown potential type {potential_type!r}; use one of {sorted(PROTOCOLS)}')
    if protocol not in PROTOCOLS[potential_type]:
        raise ValueError(f'unknown protocol {protocol!r}; use one of {sorted(PROTOCOLS[potential_type])}')
    return merge(PROTOCOLS[potential_type][protocol], overrides or {})
