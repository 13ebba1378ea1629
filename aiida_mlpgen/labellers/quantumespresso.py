"""Quantum ESPRESSO through aiida-quantumespresso's ``PwBaseWorkChain`` (scf with forces
and stress; its restart handlers), pseudopotentials from an aiida-pseudo family.

One setup for the whole set: one plane-wave cutoff (the highest the family recommends for
any element, unless ``ecutwfc`` is given), one k-point spacing (``kpoints_spacing``, Å⁻¹,
2π included, as aiida-quantumespresso's ``kpoints_distance``; at most 0.3 for metals),
cold smearing for every structure, one functional (all pseudopotentials must agree).
"""

from __future__ import annotations

import re

import numpy as np
from ase.units import GPa, Rydberg

from .base import Labeller, LabellingError, LabelResult, kept_steps

#: QE's time unit (Rydberg atomic units) in fs
RY_TIME_FS = 4.8378e-17 / 1e-15
#: elements whose elemental solids are metals: cold smearing is always on, and their
#: k-point spacing must be 0.3 Å⁻¹ or finer
METALS = set(
    'Li Be Na Mg Al K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Cs Ba '
    'La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi'.split()
)
METAL_MAX_KSPACING = 0.3
#: QE's four functional fields -> the usual name
FUNCTIONALS = {
    ('SLA', 'PW', 'PBE', 'PBE'): 'PBE',
    ('SLA', 'PW', 'PBX', 'PBC'): 'PBE',
    ('SLA', 'PW', 'PSX', 'PSC'): 'PBESOL',
    ('SLA', 'PW', 'PSE', 'PSC'): 'PBESOL',
    ('SLA', 'PZ', 'NOGX', 'NOGC'): 'LDA',
    ('SLA', 'PW', 'NOGX', 'NOGC'): 'LDA',
}
#: per-structure overrides may change only numerical controls of the SCF, never the physics
OVERRIDABLE = {'ELECTRONS': {'electron_maxstep', 'mixing_beta', 'mixing_mode', 'mixing_ndim', 'diagonalization'}}


class QuantumEspressoLabeller(Labeller):
    name = 'quantumespresso'
    code_help = 'pw.x (aiida-quantumespresso plugin quantumespresso.pw)'
    DEFAULTS = {
        'pseudo_family': None,
        'ecutwfc': None,  # Ry; default: the family's highest recommended cutoff
        'ecutrho': None,  # Ry; default: the family's (or 4 × ecutwfc)
        'kpoints_spacing': 0.2,  # Å⁻¹, 2π included
        'kpoints_mesh': None,  # one mesh for every structure instead (an equation of state)
        'smearing': 'cold',
        'degauss': 0.01,  # Ry
        'conv_thr_per_atom': 1e-9,  # Ry
        'mixing_beta': 0.4,
        'max_iterations': 3,  # of PwBaseWorkChain's restarts
    }
    PROTOCOLS = {
        'fast': {'kpoints_spacing': 0.3, 'conv_thr_per_atom': 4e-9},
        'moderate': {},
        'precise': {'kpoints_spacing': 0.15, 'conv_thr_per_atom': 2e-10, 'degauss': 0.005},
    }
    RESULT_OUTPUTS = ('output_trajectory',)
    HAS_MD = True

    def process_class(self):
        from aiida.plugins import WorkflowFactory

        return WorkflowFactory('quantumespresso.pw.base')

    def resolve(self, settings: dict, elements: set[str]) -> dict:
        from aiida import orm
        from aiida.common.exceptions import NotExistent

        resolved = dict(settings)
        name = settings.get('pseudo_family')
        if not name:
            raise LabellingError('quantumespresso needs pseudo_family (an aiida-pseudo family label)')
        try:
            family = orm.Group.collection.get(label=name)
        except NotExistent:
            raise LabellingError(f'no pseudopotential family {name!r} in this profile (aiida-pseudo list)') from None
        if not hasattr(family, 'get_pseudos'):
            raise LabellingError(f'group {name!r} is not a pseudopotential family')
        missing = sorted(set(elements) - set(family.elements))
        if missing:
            raise LabellingError(
                f'pseudopotential family {name!r} has no pseudopotential for {", ".join(missing)} '
                f'(it has {", ".join(sorted(family.elements))})'
            )
        pseudos = family.get_pseudos(elements=sorted(elements))
        if settings.get('ecutwfc') is None:
            if not hasattr(family, 'get_recommended_cutoffs'):
                raise LabellingError(f'family {name!r} recommends no cutoffs: give ecutwfc (and ecutrho), in Ry')
            try:
                wfc, rho = family.get_recommended_cutoffs(elements=tuple(sorted(elements)), unit='Ry')
            except (ValueError, KeyError) as error:
                raise LabellingError(f'family {name!r} has no recommended cutoffs ({error}): give ecutwfc') from None
            resolved['ecutwfc'] = float(wfc)
            resolved['ecutrho'] = float(settings['ecutrho'] or rho)
        resolved['ecutwfc'] = float(resolved['ecutwfc'])
        resolved['ecutrho'] = float(resolved['ecutrho'] or 4 * resolved['ecutwfc'])
        if resolved['ecutwfc'] <= 0 or resolved['ecutrho'] < resolved['ecutwfc']:
            raise LabellingError('ecutwfc must be positive and ecutrho >= ecutwfc (Ry)')
        spacing = float(settings['kpoints_spacing'])
        metals = sorted(set(elements) & METALS)
        if spacing <= 0:
            raise LabellingError('kpoints_spacing must be positive (Å⁻¹)')
        if metals and spacing > METAL_MAX_KSPACING:
            raise LabellingError(
                f'kpoints_spacing {spacing} Å⁻¹ is too coarse for a metal ({", ".join(metals)}): '
                f'use {METAL_MAX_KSPACING} Å⁻¹ or less'
            )
        functionals = {element: functional(pseudo) for element, pseudo in pseudos.items()}
        if len(set(functionals.values())) > 1:
            raise LabellingError(
                f'the pseudopotentials mix functionals: {functionals}; use one family of one functional'
            )
        resolved['functional'] = next(iter(functionals.values()))
        resolved['pseudopotentials'] = {element: pseudo.filename for element, pseudo in pseudos.items()}
        return resolved

    def fixed_sampling(self, settings: dict, structure) -> dict:
        """The mesh ``kpoints_spacing`` gives ``structure``, for all its strained copies."""
        from aiida import orm

        kpoints = orm.KpointsData()
        kpoints.set_cell_from_structure(structure)
        kpoints.set_kpoints_mesh_from_density(float(settings['kpoints_spacing']))
        return {**settings, 'kpoints_mesh': [int(n) for n in kpoints.get_kpoints_mesh()[0]]}

    def dft_settings(self, resolved: dict) -> dict:
        return {
            'code': 'Quantum ESPRESSO',
            'cutoff_ev': resolved['ecutwfc'] * Rydberg,
            'kspacing': float(resolved['kpoints_spacing']),
            'functional': resolved['functional'],
            'pseudopotentials': dict(resolved['pseudopotentials']),
        }

    def _parameters(self, structure, resolved: dict, calculation: str) -> dict:
        return {
            'CONTROL': {'calculation': calculation, 'tprnfor': True, 'tstress': True},
            'SYSTEM': {
                'ecutwfc': resolved['ecutwfc'],
                'ecutrho': resolved['ecutrho'],
                'occupations': 'smearing',
                'smearing': resolved['smearing'],
                'degauss': float(resolved['degauss']),
            },
            'ELECTRONS': {
                'conv_thr': float(resolved['conv_thr_per_atom']) * len(structure.sites),
                'mixing_beta': float(resolved['mixing_beta']),
            },
        }

    def check_overrides(self, overrides: dict) -> None:
        for namelist, values in overrides.items():
            allowed = OVERRIDABLE.get(namelist, set())
            refused = sorted(set(values) - allowed)
            if refused:
                raise LabellingError(
                    f'override {namelist}.{", ".join(refused)} would change the physics of one structure; '
                    f'only these may differ per structure: {sorted((k, sorted(v)) for k, v in OVERRIDABLE.items())}'
                )

    def _inputs(self, structure, code, resolved, parameters, options) -> dict:
        from aiida import orm

        family = orm.Group.collection.get(label=resolved['pseudo_family'])
        if getattr(code, 'with_mpi', None) is not None and 'withmpi' not in options:
            options = {**options, 'withmpi': code.with_mpi}  # the code decides (PwCalculation's default is MPI)
        return {
            'pw': {
                'code': code,
                'structure': structure,
                'parameters': orm.Dict(parameters),
                'pseudos': family.get_pseudos(structure=structure),
                'metadata': {'options': options},
            },
            'max_iterations': orm.Int(int(resolved['max_iterations'])),
            'clean_workdir': orm.Bool(True),
            **self._sampling(resolved),
        }

    @staticmethod
    def _sampling(resolved: dict) -> dict:
        from aiida import orm

        if resolved.get('kpoints_mesh'):
            kpoints = orm.KpointsData()
            kpoints.set_kpoints_mesh([int(n) for n in resolved['kpoints_mesh']])
            return {'kpoints': kpoints}
        return {'kpoints_distance': orm.Float(float(resolved['kpoints_spacing']))}

    def inputs(self, structure, code, resolved: dict, overrides: dict, options: dict) -> dict:
        parameters = self._parameters(structure, resolved, 'scf')
        for namelist, values in (overrides or {}).items():
            parameters.setdefault(namelist, {}).update(values)
        return self._inputs(structure, code, resolved, parameters, options)

    def md_inputs(self, structure, code, resolved: dict, md: dict, temperature: float, options: dict) -> dict:
        parameters = self._parameters(structure, resolved, 'md')
        parameters['SYSTEM']['nosym'] = True  # the random velocities break the crystal's symmetry
        parameters['CONTROL']['nstep'] = int(md['steps'])
        parameters['CONTROL']['dt'] = float(md['timestep_fs']) / RY_TIME_FS
        parameters['IONS'] = {'ion_temperature': 'svr', 'tempw': float(temperature), 'nraise': 10}
        return self._inputs(structure, code, resolved, parameters, options)

    def results(self, structure, outputs: dict, md: dict | None = None) -> list[LabelResult]:
        """Frames of ``output_trajectory``: eV and eV/Å as aiida-quantumespresso gives them;
        the stress from GPa, QE's sign (pressure positive) turned to tension positive."""
        trajectory = outputs['output_trajectory']
        names = set(trajectory.get_arraynames())
        for needed in ('energy', 'forces', 'positions', 'cells'):
            if needed not in names:
                raise LabellingError(f'TrajectoryData<{trajectory.pk}> has no {needed!r} array')
        energies = trajectory.get_array('energy')
        count = len(energies)
        steps = kept_steps(count, md) if md else [count - 1]
        numbers = np.array([_number(s) for s in trajectory.symbols])
        stress = trajectory.get_array('stress') if 'stress' in names else None
        out = []
        for step in steps:
            out.append(
                LabelResult(
                    cell=trajectory.get_array('cells')[step],
                    positions=trajectory.get_array('positions')[step],
                    numbers=numbers,
                    energy=float(energies[step]),
                    forces=trajectory.get_array('forces')[step],
                    stress=None if stress is None or len(stress) <= step else -stress[step] * GPa,
                    step=step if md else None,
                )
            )
        return out


def _number(symbol: str) -> int:
    from ase.data import atomic_numbers

    return atomic_numbers[re.sub(r'[^A-Za-z].*$', '', symbol)]


def functional(pseudo) -> str:
    """The exchange-correlation functional a UPF file states (``functional="..."``)."""
    text = pseudo.get_content() if hasattr(pseudo, 'get_content') else ''
    match = re.search(r'functional="\s*([^"]+?)\s*"', text) or re.search(
        r'^\s*(.+?)\s+Exchange-Correlation', text, re.M
    )
    if not match:
        match = re.search(r'Functional:\s*(.+)', text)
    if not match:
        return 'unknown'
    fields = tuple(match.group(1).upper().split()[:4])
    return FUNCTIONALS.get(fields, ' '.join(fields))


__all__ = ('QuantumEspressoLabeller',)
