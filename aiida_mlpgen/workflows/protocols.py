"""Protocols of the generator: named parameter sets per potential type, documented here.

- ``fast``: a minute-scale first look (small bases, few iterations/epochs);
- ``moderate``: the everyday fit (the benchmarks use it);
- ``precise``: SPEC.md's full settings (ACE 700 functions, 2000 iterations; SNAP 2J = 8;
  NNP 60 epochs, 25-25 network) — hours on a laptop, use a cluster.

:data:`DESCRIPTIONS` says what each protocol is for and what it costs (ACE: measured on
the mlearn sets with ``benchmarks/ace_mlearn.py``, 2 CPU cores, tensorpot evaluator).
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

DESCRIPTIONS = {
    'snap': {
        'fast': 'SNAP 2J=4: seconds to a minute; a first look.',
        'moderate': 'SNAP 2J=6: the everyday fit, about a minute for an mlearn set on 2 cores.',
        'precise': 'SNAP 2J=8 with RIDGE: minutes; more descriptors, regularised.',
    },
    'ace': {
        'fast': ('ACE 30 functions, 5 Å, 50-100 iterations, force weight 0.02: about 2 min per mlearn set on 2 '
                 'cores; a first look (held-out energy MAE 0.9-7.7 meV/atom, force MAE 0.018-0.123 eV/Å).'),
        'moderate': ('ACE 100 functions, 5 Å, 150-250 iterations, force weight 0.02: 7-11 min per mlearn set '
                     '(~200 structures, 10-14k atoms) on 2 cores; held-out energy MAE 0.6-4.8 meV/atom, force MAE '
                     '0.012-0.085 eV/Å (benchmarks/README.md).'),
        'precise': ('ACE 700 functions, 6 Å, 200-2000 iterations (SPEC.md): about 42 s per iteration on an mlearn '
                    'set on 2 cores, about a day; use a GPU (-p device=gpu) or a cluster.'),
    },
    'nnp': {
        'fast': 'NNP 15-15, 5 Å, 10 epochs: minutes; a first look.',
        'moderate': 'NNP 20-20, 5.5 Å, 30 epochs: the everyday fit.',
        'precise': 'NNP 25-25, 6 Å, 60 epochs (SPEC.md): hours on a laptop, use a cluster.',
    },
}


def protocol_description(potential_type: str, protocol: str) -> str:
    """What ``protocol`` of ``potential_type`` is for and what it costs."""
    protocol_parameters(potential_type, protocol)  # the same errors for unknown names
    return DESCRIPTIONS[potential_type][protocol]


def protocol_parameters(potential_type: str, protocol: str = 'moderate', overrides: dict | None = None) -> dict:
    if potential_type not in PROTOCOLS:
        raise ValueError(f'unknown potential type {potential_type!r}; use one of {sorted(PROTOCOLS)}')
    if protocol not in PROTOCOLS[potential_type]:
        raise ValueError(f'unknown protocol {protocol!r}; use one of {sorted(PROTOCOLS[potential_type])}')
    merged = merge(PROTOCOLS[potential_type][protocol], overrides or {})
    overrides = overrides or {}
    if 'max_iterations' in overrides and 'min_iterations' not in overrides and 'min_iterations' in merged:
        merged['min_iterations'] = min(merged['min_iterations'], merged['max_iterations'])  # a lower cap wins
    return merged
