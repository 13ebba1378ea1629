"""The properties the validation workflow knows: name -> defaults, tasks, analysis.

``'surface:100'`` names a property with its main argument (here Miller indices), so a
command line can ask for ``eos,elastic,vacancy,surface:100,surface:110``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from . import defects, elastic, eos, gsf, phonons, single_point, surfaces, thermal
from .tasks import run_tasks


@dataclasses.dataclass(frozen=True)
class Property:
    name: str
    defaults: dict
    tasks: Callable
    analyse: Callable
    engines: tuple = ('lammps', 'ase')
    argument: str | None = None  # what ``name:ARG`` sets

    def settings(self, given: dict | None = None) -> dict:
        given = dict(given or {})
        unknown = set(given) - set(self.defaults)
        if unknown:
            raise ValueError(f'{self.name}: unknown setting(s) {sorted(unknown)}; known: {sorted(self.defaults)}')
        return {**self.defaults, **given}


PROPERTIES = {
    p.name: p
    for p in (
        Property('eos', eos.DEFAULTS, eos.tasks, eos.analyse),
        Property('elastic', elastic.DEFAULTS, elastic.tasks, elastic.analyse),
        Property('vacancy', defects.VACANCY_DEFAULTS, defects.vacancy_tasks, defects.vacancy_analyse),
        Property(
            'interstitial', defects.INTERSTITIAL_DEFAULTS, defects.interstitial_tasks, defects.interstitial_analyse
        ),
        Property('surface', surfaces.DEFAULTS, surfaces.tasks, surfaces.analyse, argument='miller'),
        Property('gsf', gsf.DEFAULTS, gsf.tasks, gsf.analyse, argument='plane'),
        Property('phonons', phonons.DEFAULTS, phonons.tasks, phonons.analyse),
        Property('thermal_expansion', thermal.DEFAULTS, thermal.tasks, thermal.analyse, engines=('lammps',)),
        Property('single_point', single_point.DEFAULTS, single_point.tasks, single_point.analyse, engines=('ase',)),
    )
}
#: computed by the workflow from the equations of state of several structures
WORKFLOW_PROPERTIES = ('phases',)


def parse_indices(text: str) -> list[int]:
    """``100`` -> [1, 0, 0]; ``1-10`` -> [1, -1, 0]; ``1,1,10`` -> [1, 1, 10]."""
    if ',' in text:
        return [int(x) for x in text.split(',')]
    out, sign = [], 1
    for char in text:
        if char == '-':
            sign = -1
            continue
        if not char.isdigit():
            raise ValueError(f'bad indices {text!r}')
        out.append(sign * int(char))
        sign = 1
    if len(out) != 3:
        raise ValueError(f'bad indices {text!r}: need three')
    return out


def parse_request(item: str) -> tuple[str, dict]:
    """``'surface:110'`` -> ('surface', {'miller': [1, 1, 0]}); ``'gsf:110:1-11'`` sets plane and direction."""
    name, *arguments = item.strip().split(':')
    if name in WORKFLOW_PROPERTIES and not arguments:
        return name, {}
    if name not in PROPERTIES:
        raise ValueError(f'unknown property {name!r}; known: {", ".join([*PROPERTIES, *WORKFLOW_PROPERTIES])}')
    prop = PROPERTIES[name]
    if not arguments:
        return name, {}
    if prop.argument is None or len(arguments) > (2 if name == 'gsf' else 1):
        raise ValueError(f'property {item!r}: {name} takes no argument like that')
    settings = {prop.argument: parse_indices(arguments[0])}
    if len(arguments) == 2:
        settings['direction'] = parse_indices(arguments[1])
    return name, settings


def request_label(name: str, settings: dict) -> str:
    """A name for the sub-process: ``surface_100``, ``gsf_110_1-11``, ``eos``."""
    parts = [name]
    for key in ('miller', 'plane', 'direction'):
        if key in settings:
            parts.append(surfaces.miller_label(settings[key]))
    return '_'.join(parts).replace('-', 'm')


def compute(name: str, atoms, calculator, settings: dict | None = None) -> tuple[dict, dict]:
    """Values and curves of one property with an ASE calculator (in this process)."""
    prop = PROPERTIES[name]
    settings = prop.settings(settings)
    results = run_tasks(prop.tasks(atoms, **settings), calculator)
    return prop.analyse(atoms, results, **settings)
