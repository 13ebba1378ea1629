"""What to generate from a bulk crystal: the protocols and the check of given settings.

Strains are linear (cell × (1 + ε)); shear strains are engineering shears γ of one
off-diagonal pair; rattle amplitudes are the standard deviation of the Gaussian
displacement of each Cartesian coordinate (Å). Defects and slabs are made in the
``supercell`` of the input cell (repetitions along a, b, c).
"""

from __future__ import annotations

import copy

#: one key per kind of structure; ``md`` is run by the workflow, not by :func:`generate`
DEFAULTS = {
    'ground_state': True,
    'isotropic_strains': [-0.04, -0.02, 0.02, 0.04],
    'uniaxial_strains': [-0.03, 0.03],
    'shear_strains': [0.02, 0.04],
    'rattle': {'count': 6, 'amplitude': 0.05, 'max_strain': 0.02},
    'vacancies': {'count': 1},
    'interstitials': {'count': 0},
    'slabs': {'miller': [], 'layers': 4, 'vacuum': 8.0},
    'supercell': [1, 1, 1],
    'min_distance_factor': 0.5,
    'md': {'temperatures': [], 'steps': 40, 'interval': 10, 'equilibration': 10, 'timestep_fs': 2.0, 'source': 'dft'},
}

PROTOCOLS = {
    'fast': {
        'isotropic_strains': [-0.03, 0.03],
        'uniaxial_strains': [0.03],
        'shear_strains': [0.03],
        'rattle': {'count': 3},
    },
    'moderate': {'md': {'temperatures': [300, 900]}},
    'precise': {
        'isotropic_strains': [-0.06, -0.04, -0.02, -0.01, 0.01, 0.02, 0.04, 0.06],
        'uniaxial_strains': [-0.04, -0.02, 0.02, 0.04],
        'shear_strains': [0.01, 0.02, 0.04, 0.06],
        'rattle': {'count': 12, 'amplitude': 0.08},
        'vacancies': {'count': 2},
        'interstitials': {'count': 1},
        'md': {'temperatures': [300, 900, 1500], 'steps': 80},
    },
}

MD_SOURCES = ('dft', 'potential')


class GenerationError(ValueError):
    """Generation settings that cannot give sensible structures."""


def merged(protocol: str = 'moderate', overrides: dict | None = None) -> dict:
    """The protocol's settings with ``overrides`` merged in (one level deep), checked."""
    if protocol not in PROTOCOLS:
        raise GenerationError(f'unknown generation protocol {protocol!r}; known: {", ".join(PROTOCOLS)}')
    settings = copy.deepcopy(DEFAULTS)
    for layer in (PROTOCOLS[protocol], overrides or {}):
        for key, value in layer.items():
            if key not in DEFAULTS:
                raise GenerationError(f'unknown generation setting {key!r}; known: {", ".join(DEFAULTS)}')
            if isinstance(DEFAULTS[key], dict):
                if not isinstance(value, dict):
                    raise GenerationError(f'{key} takes a dictionary, e.g. {DEFAULTS[key]}')
                unknown = set(value) - set(DEFAULTS[key])
                if unknown:
                    raise GenerationError(f'{key}: unknown key(s) {sorted(unknown)}; known: {sorted(DEFAULTS[key])}')
                settings[key].update(value)
            else:
                settings[key] = value
    check(settings)
    return settings


def check(settings: dict) -> None:
    """Refuse settings that cannot be right whatever the structure."""
    for key in ('isotropic_strains', 'uniaxial_strains', 'shear_strains'):
        for value in settings[key]:
            if not isinstance(value, int | float) or not -0.3 < value < 0.3 or value == 0:
                raise GenerationError(f'{key}: {value!r} is not a strain between -0.3 and 0.3 (nonzero)')
    rattle = settings['rattle']
    if int(rattle['count']) < 0 or not 0 <= float(rattle['amplitude']):
        raise GenerationError('rattle: count must be >= 0 and amplitude (Å) >= 0')
    for key in ('vacancies', 'interstitials'):
        if int(settings[key]['count']) < 0:
            raise GenerationError(f'{key}: count must be >= 0')
    supercell = settings['supercell']
    if len(supercell) != 3 or any(int(n) < 1 for n in supercell):
        raise GenerationError(f'supercell must be three positive integers, not {supercell!r}')
    slabs = settings['slabs']
    for miller in slabs['miller']:
        if len(miller) != 3 or not any(miller):
            raise GenerationError(f'slabs: {miller!r} are not Miller indices (three integers, not all zero)')
    if int(slabs['layers']) < 1 or float(slabs['vacuum']) <= 0:
        raise GenerationError('slabs: layers >= 1 and vacuum (Å) > 0')
    md = settings['md']
    if md['source'] not in MD_SOURCES:
        raise GenerationError(f'md: source must be one of {MD_SOURCES}, not {md["source"]!r}')
    if any(float(t) <= 0 for t in md['temperatures']):
        raise GenerationError('md: temperatures must be positive (K)')
    if int(md['steps']) < 1 or int(md['interval']) < 1 or int(md['equilibration']) < 0:
        raise GenerationError('md: steps and interval >= 1, equilibration >= 0')
    if not 0 < float(settings['min_distance_factor']) < 1:
        raise GenerationError('min_distance_factor must lie between 0 and 1')
