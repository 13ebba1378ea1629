"""The potential types, one :class:`PotentialType` each: everything that differs between
SNAP, ACE and NNP — the fit CalcJob and its restart work chain, the code, the protocols,
the citations, the default search keys, how a refit keeps the chosen training length, how
the potential is validated — in one place that the CLI, the generator, the optimiser, the
embedded setup and the reports iterate over.

Types are registered under the entry-point group ``mlpgen.potential_types`` (this
package's ``snap``, ``ace``, ``nnp``); :func:`register` adds one at run time (a plugin of
a plugin, a test). Adding a type: one module with a ``PotentialType`` and its protocol
YAML, one entry point (docs/adding_a_type.md). This module imports neither AiiDA nor the
fitting codes: classes are named as ``module:Class`` and loaded when used.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path

ENTRY_POINT_GROUP = 'mlpgen.potential_types'
PROTOCOL_FOLDER = Path(__file__).parent / 'protocols'


def _no_refit_change(parameters: dict, potential_attributes: dict, last_iteration: int | None) -> dict:
    return parameters


def _no_protocol_change(merged: dict, overrides: dict) -> dict:
    return merged


def _no_search_change(normalized: dict, given: dict) -> dict:
    return normalized


@dataclasses.dataclass(frozen=True)
class PotentialType:
    """One potential type and how every layer treats it."""

    name: str  #: key of the type: ``mlpgen fit NAME``, ``potential_type`` inputs
    title: str  #: for people: 'SNAP'
    summary: str  #: one line for ``mlpgen fit --help``
    calculation: str  #: ``module:Class`` of the fit CalcJob (its PARAMETERS module validates)
    restart: str  #: ``module:Class`` of its BaseRestartWorkChain
    calculation_entry_point: str  #: ``mlpgen.fitsnap``: the CalcJob's aiida.calculations entry point
    code: str  #: code label on the embedded profile (``<code>@localhost``)
    executable: str  #: the program that code runs
    code_description: str
    citations: tuple[str, ...]
    protocol_file: Path
    validation_engine: str  #: 'lammps' or 'ase': how ``--validate`` evaluates the potential here
    parameter_help: str  #: ``-p`` help of ``mlpgen fit NAME``
    #: elements -> the keys ``--optimize`` searches when none are given
    search_keys: Callable[[list[str]], list[str]]
    #: (chosen parameters, attributes of the best trial's potential, its last training iteration
    #: or None) -> parameters of the refit on all structures (keep the training length chosen)
    refit_parameters: Callable[[dict, dict, int | None], dict] = _no_refit_change
    #: (protocol merged with overrides, overrides) -> final parameters
    complete_protocol: Callable[[dict, dict], dict] = _no_protocol_change
    #: (normalized parameters, parameters as given) -> the search's start point (e.g. let
    #: derived defaults follow the searched keys)
    prepare_search: Callable[[dict, dict], dict] = _no_search_change
    #: fits that differ only in weights or the split may reuse one design matrix (FitSNAP)
    shares_design_matrix: bool = False
    #: extra inputs of a plain fit offered by ``mlpgen fit NAME``: input name -> help (a node PK)
    extra_inputs: tuple[tuple[str, str], ...] = ()
    code_help: str = ''  #: ``--code`` help of ``mlpgen fit NAME`` beyond the default label
    #: ``module:Class`` of its potential node; ``Class.from_paths(paths, **options)`` imports
    #: existing files (``mlpgen potential import NAME``)
    potential_data: str = ''
    import_help: str = ''  #: what ``mlpgen potential import NAME`` takes, for its help
    #: the fit of ``mlpgen demo --type NAME`` on the shipped slice: a sentence and parameters
    demo_title: str = ''
    demo_parameters: dict = dataclasses.field(default_factory=dict)
    #: Δ-learning: the fit code takes the reference potential itself (FitSNAP's overlay);
    #: otherwise the generator fits the data minus Δ's energies and forces
    delta_in_fit: bool = False
    #: how active learning measures the uncertainty: 'grade' (the potential grades its own
    #: descriptors against its training set) or 'committee' (several fits, their spread)
    uncertainty: str = 'grade'
    #: parameters a fit needs for that measure (ACE: the active set)
    uncertainty_parameters: dict = dataclasses.field(default_factory=dict)
    #: frames above this uncertainty are worth labelling (grade: dimensionless; committee: eV/Å)
    uncertainty_threshold: float = 2.0

    @property
    def code_label(self) -> str:
        return f'{self.code}@localhost'

    def calculation_class(self):
        return _load(self.calculation)

    def restart_class(self):
        return _load(self.restart)

    def potential_class(self):
        return _load(self.potential_data)

    @property
    def parameters(self):
        """The parameter module of the CalcJob (``normalize``, ``ParameterError``)."""
        return self.calculation_class().PARAMETERS

    def protocols(self) -> dict:
        """The protocol file: ``default_protocol`` and ``protocols`` {name: {description,
        parameters, options}}."""
        return _read_protocols(self.protocol_file)


def _load(path: str):
    module, name = path.split(':')
    return getattr(importlib.import_module(module), name)


_PROTOCOL_CACHE: dict[Path, dict] = {}


def _read_protocols(path: Path) -> dict:
    if path not in _PROTOCOL_CACHE:
        import yaml

        content = yaml.safe_load(Path(path).read_text())
        if not isinstance(content, dict) or 'protocols' not in content or 'default_protocol' not in content:
            raise ValueError(f'{path}: a protocol file has default_protocol and protocols')
        _PROTOCOL_CACHE[path] = content
    return copy.deepcopy(_PROTOCOL_CACHE[path])


_REGISTRY: dict[str, PotentialType] = {}
_LOADED = False


def _load_entry_points() -> None:
    global _LOADED
    if _LOADED:
        return
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        potential_type = entry_point.load()
        _REGISTRY.setdefault(potential_type.name, potential_type)
    _LOADED = True


def register(potential_type: PotentialType) -> PotentialType:
    """Add a type at run time (entry points are the usual way)."""
    _load_entry_points()
    _REGISTRY[potential_type.name] = potential_type
    return potential_type


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def names() -> list[str]:
    _load_entry_points()
    return list(_REGISTRY)


def all_types() -> list[PotentialType]:
    _load_entry_points()
    return list(_REGISTRY.values())


def get(name: str) -> PotentialType:
    _load_entry_points()
    if name not in _REGISTRY:
        raise ValueError(f'unknown potential type {name!r}; use one of {sorted(_REGISTRY)}')
    return _REGISTRY[name]


def protocol_parameters(name: str, protocol: str | None = None, overrides: dict | None = None) -> dict:
    """The parameters of ``protocol`` (default: the type's default protocol) with ``overrides``
    merged on top (nested dictionaries merge key by key, for every type alike)."""
    from aiida_mlpgen.calculations.parameters.checks import merge

    potential_type = get(name)
    content = potential_type.protocols()
    protocol = protocol or content['default_protocol']
    if protocol not in content['protocols']:
        raise ValueError(f'unknown protocol {protocol!r}; use one of {sorted(content["protocols"])}')
    overrides = overrides or {}
    merged = merge(content['protocols'][protocol].get('parameters') or {}, overrides)
    return potential_type.complete_protocol(merged, overrides)


def protocol_options(name: str, protocol: str | None = None) -> dict:
    """``metadata.options`` of the fit under ``protocol`` (resources, walltime)."""
    content = get(name).protocols()
    protocol = protocol or content['default_protocol']
    protocol_parameters(name, protocol)  # the same errors for unknown names
    return content['protocols'][protocol].get('options') or {}


def protocol_description(name: str, protocol: str | None = None) -> str:
    content = get(name).protocols()
    protocol = protocol or content['default_protocol']
    protocol_parameters(name, protocol)
    return content['protocols'][protocol]['description']


def parameter_problem(name: str, parameters: dict, elements) -> str | None:
    """Why ``parameters`` of type ``name`` cannot fit a set of ``elements`` (None when they can)."""
    if name not in names():
        return f'potential_type must be one of {sorted(names())}, got {name!r}'
    calc = get(name).calculation_class()
    try:
        calc.PARAMETERS.normalize(parameters, list(elements))
    except calc.PARAMETERS.ParameterError as error:
        return f'invalid {name} parameters: {error}'
    return None
