"""``OverlayPotentialData``: a fitted potential on top of a Δ-potential, as one potential.

LAMMPS runs both through ``pair_style hybrid/overlay``; ASE sums the parts' calculators.
The Δ-potential's files are stored with the prefix ``delta_``; the fitted part keeps its
names (n2p2's LAMMPS interface needs ``input.nn`` etc. in its directory).
"""

from __future__ import annotations

from aiida import orm

from .base import PotentialData, PotentialError

__all__ = ('OverlayPotentialData',)


class OverlayPotentialData(PotentialData):
    POTENTIAL_TYPE = 'overlay'
    DELTA_PREFIX = 'delta_'

    def __init__(self, fitted: PotentialData | None = None, delta: PotentialData | None = None, **kwargs):
        if fitted is None or delta is None:
            raise PotentialError('OverlayPotentialData needs the fitted potential and the Δ-potential')
        if list(fitted.elements) != list(delta.elements):
            raise PotentialError(f'Δ-potential elements {delta.elements} differ from {fitted.elements}')
        for part in (fitted, delta):
            if not part.is_stored:
                raise PotentialError('store both parts first: the overlay refers to them')
        delta_terms, delta_files, delta_packages = delta.overlay_parts(self.DELTA_PREFIX)
        fitted_terms, fitted_files, fitted_packages = fitted.overlay_parts('')
        clash = set(delta_files) & set(fitted_files)
        if clash:
            raise PotentialError(f'file names clash between the parts: {sorted(clash)}')
        super().__init__(**kwargs)
        packages = list(dict.fromkeys([*delta_packages, *fitted_packages]))
        self._set_potential(
            {**delta_files, **fitted_files},
            list(fitted.elements),
            max(fitted.cutoff, delta.cutoff),
            [*delta_terms, *fitted_terms],
            packages,
        )
        self.base.attributes.set('parts', {'fitted': fitted.uuid, 'delta': delta.uuid})

    @property
    def parts(self) -> dict[str, PotentialData]:
        return {k: orm.load_node(v) for k, v in self.base.attributes.get('parts').items()}

    def ase_spec(self, prefix: str = '') -> dict:
        """The sum of the parts' calculators (their files are stored here, Δ's with its prefix)."""
        parts = self.parts
        return {
            'kind': 'sum',
            'parts': [parts['fitted'].ase_spec(prefix), parts['delta'].ase_spec(prefix + self.DELTA_PREFIX)],
        }
