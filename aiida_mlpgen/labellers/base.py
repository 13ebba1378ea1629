"""The labeller interface and the entry-point lookup."""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points

import numpy as np

GROUP = 'mlpgen.labellers'


class LabellingError(ValueError):
    """Labeller settings that cannot label these structures consistently."""


@dataclasses.dataclass
class LabelResult:
    """One labelled structure, in eV, Å, eV/Å, eV/Å³ (tension positive)."""

    cell: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    energy: float
    forces: np.ndarray
    stress: np.ndarray | None
    step: int | None = None  # the MD step, for frames of an ab initio MD run


class Labeller:
    """One way of labelling structures. Subclasses set :attr:`name`, :attr:`DEFAULTS`,
    :attr:`PROTOCOLS`, :attr:`RESULT_OUTPUTS` and implement the methods below."""

    name = ''
    #: what the ``code`` input runs, for help strings and messages
    code_help = ''
    DEFAULTS: dict = {}
    PROTOCOLS: dict = {'fast': {}, 'moderate': {}, 'precise': {}}
    #: output link names of the process whose nodes :meth:`results` reads
    RESULT_OUTPUTS: tuple = ()
    #: does :meth:`md_inputs` exist (ab initio MD whose frames are labelled already)
    HAS_MD = False

    def settings(self, given: dict | None = None, protocol: str = 'moderate') -> dict:
        """The protocol's settings with ``given`` on top; unknown keys refused."""
        if protocol not in self.PROTOCOLS:
            raise LabellingError(f'unknown protocol {protocol!r}; known: {", ".join(self.PROTOCOLS)}')
        given = dict(given or {})
        unknown = set(given) - set(self.DEFAULTS)
        if unknown:
            raise LabellingError(
                f'{self.name}: unknown setting(s) {sorted(unknown)}; known: {", ".join(sorted(self.DEFAULTS))}'
            )
        return {**self.DEFAULTS, **self.PROTOCOLS[protocol], **given}

    def resolve(self, settings: dict, elements: set[str]) -> dict:
        """Check ``settings`` for structures of ``elements`` and fill what follows from them
        (cutoffs from the pseudopotentials, say); raise :class:`LabellingError`."""
        raise NotImplementedError

    def dft_settings(self, resolved: dict) -> dict:
        """The record kept in the training set: ``code``, ``cutoff_ev``, ``kspacing``,
        ``functional``, ``pseudopotentials`` (what applies)."""
        raise NotImplementedError

    def process_class(self):
        raise NotImplementedError

    def fixed_sampling(self, settings: dict, structure) -> dict:
        """``settings`` for a series of strained copies of ``structure`` (an equation of state)
        that must share one Brillouin-zone sampling; by default unchanged."""
        return dict(settings)

    def inputs(self, structure, code, resolved: dict, overrides: dict, options: dict) -> dict:
        """Inputs of :meth:`process_class` for one single-point calculation."""
        raise NotImplementedError

    def check_overrides(self, overrides: dict) -> None:
        """Refuse per-structure overrides that would change the physics of the setup."""
        if overrides:
            raise LabellingError(f'{self.name} takes no per-structure overrides')

    def md_inputs(self, structure, code, resolved: dict, md: dict, temperature: float, options: dict) -> dict:
        raise LabellingError(f'the {self.name} labeller runs no ab initio MD: use md source "potential"')

    def results(self, structure, outputs: dict, md: dict | None = None) -> list[LabelResult]:
        """The labelled frames from the output nodes named in :attr:`RESULT_OUTPUTS`
        (for an MD run: the kept steps, after equilibration, every ``interval``)."""
        raise NotImplementedError


def known_labellers() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_labeller(name: str) -> Labeller:
    """The labeller registered as ``name`` in the ``mlpgen.labellers`` entry points."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise LabellingError(f'no labeller {name!r}; known: {", ".join(known_labellers()) or "none"}')
    return found[0].load()()


def kept_steps(count: int, md: dict) -> list[int]:
    """The MD steps kept as training frames: after ``equilibration``, every ``interval``."""
    return list(range(int(md.get('equilibration', 0)), count, max(1, int(md.get('interval', 1)))))
