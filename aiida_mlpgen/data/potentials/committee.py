"""``CommitteePotentialData``: several potentials of one type whose mean is the potential and
whose spread is its uncertainty (NNP committees of the active-learning loop).

Each member's files are stored under ``member_<i>/``; the ASE calculator averages the
members' energies, forces and stresses (:class:`~aiida_mlpgen.engines.active.calculators.Committee`).
LAMMPS cannot average pair styles, so a committee runs in the ASE engine; each member
remains a potential of its own for LAMMPS.
"""

from __future__ import annotations

from aiida import orm

from .base import PotentialData, PotentialError

__all__ = ('CommitteePotentialData',)


class CommitteePotentialData(PotentialData):
    POTENTIAL_TYPE = 'committee'
    RUNS_IN_LAMMPS = False
    UNCERTAINTY = "spread of the members' forces per atom, eV/Å (root mean square deviation from their mean)"

    def __init__(self, members: list[PotentialData] | None = None, **kwargs):
        members = list(members or [])
        if len(members) < 2:
            raise PotentialError(f'a committee needs at least 2 members, got {len(members)}')
        elements = list(members[0].elements)
        for member in members:
            if list(member.elements) != elements:
                raise PotentialError(f'committee members differ in elements: {member.elements} vs {elements}')
            if not member.is_stored:
                raise PotentialError('store the members first: the committee refers to them')
        super().__init__(**kwargs)
        files = {
            f'member_{i}/{name}': member.get_file_content(name)
            for i, member in enumerate(members)
            for name in member.filenames
        }
        terms = [{'style': 'none', 'coeffs': []}]
        self._set_potential(files, elements, max(m.cutoff for m in members), terms, [])
        self.base.attributes.set('members', [m.uuid for m in members])
        self.base.attributes.set('member_type', members[0].base.attributes.get(self.KEY_POTENTIAL_TYPE))

    @property
    def members(self) -> list[PotentialData]:
        return [orm.load_node(uuid) for uuid in self.base.attributes.get('members')]

    def lammps_lines(self, directory=None) -> list[str]:
        raise PotentialError('LAMMPS cannot average a committee: run it in the ASE engine, or each member in LAMMPS')

    def ase_spec(self, prefix: str = '') -> dict:
        return {
            'kind': 'committee',
            'members': [
                {'folder': f'{prefix}member_{i}', 'spec': member.ase_spec()} for i, member in enumerate(self.members)
            ],
        }

    def get_exploration_calculator(self):
        """The first member: it drives the exploration MD at a third of the committee's cost; the
        committee (mean and spread) is evaluated on the frames kept."""
        return self.members[0].get_exploration_calculator()

    def get_uncertainty_calculator(self, training_atoms, **kwargs):
        return self.get_ase_calculator(**kwargs)  # the committee always reports its spread
