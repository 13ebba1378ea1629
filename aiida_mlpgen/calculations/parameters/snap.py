"""SNAP fit parameters (SPEC.md, SNAP): defaults, validation and the FitSNAP input file.

Keys (snake_case, dotted for nesting on the command line)::

    twojmax                      band limit 2J, even (6)
    rcutfac                      radial cutoff factor: pair cutoff = rcutfac * (radelem_i + radelem_j) (4.67637)
    rfac0, rmin0                 LAMMPS SNAP radial parameters (0.99363, 0.0)
    elements.<El>.radelem        relative radius (0.5)
    elements.<El>.wj             neighbour weight (1.0)
    elements.<El>.energy_shift   added to the energy per atom of El before fitting, eV (0.0)
    fit.energy / fit.forces / fit.stress   weight, or "off" to remove the term (1.0 / 0.01 / 1e-6)
    group_weights.<group>.energy|forces|stress   per-group weights replacing fit.* for that group
    solver                       SVD | LASSO | RIDGE | ELASTIC (SVD; RIDGE with chemflag, whose
                                 descriptors repeat by symmetry, so plain least squares is singular)
    solver_options.alpha         regularisation strength (1e-8; LASSO, RIDGE, ELASTIC)
    solver_options.l1_ratio      ELASTIC mixing, 0 = ridge .. 1 = lasso (0.5)
    quadratic                    quadratic SNAP (false)
    chemflag                     explicit multi-element SNAP (Cusentino et al. 2020): one descriptor per
                                 ordered element triple instead of one density weighted by wj (default:
                                 on for sets of several elements, unless quadratic; not with quadratic)
    bnormflag                    divide B_j1j2j by 2j+1 (default: as chemflag, as LAMMPS advises)
    wselfallflag                 with chemflag, the self contribution for every element channel (false)
    bzeroflag                    subtract the isolated-atom bispectrum; false fits a constant
                                 energy per element, so total DFT energies need no shift (false)
    zbl, zbl_inner, zbl_outer    ZBL repulsion, inner/outer cutoff in Å (false, 4.0, 4.8)
    validation_fraction          held out (stratified by group, ``seed``) when the training set has no
                                 split (0.0: SPEC.md's SNAP fits every structure; ACE and NNP hold 0.1 out)
    seed                         of that choice (42)

Structure weights of the training set multiply the energy, force and stress weights.
"""

from __future__ import annotations

from aiida_mlpgen.data.potentials.overlay import pair_lines
from aiida_mlpgen.data.potentials.snap import zbl_coeffs

from .checks import ParameterError, flag, merge, number, single_line

SOLVERS = ('SVD', 'LASSO', 'RIDGE', 'ELASTIC')
FIT_TERMS = ('energy', 'forces', 'stress')

DEFAULTS = {
    'twojmax': 6,
    'rcutfac': 4.67637,
    'rfac0': 0.99363,
    'rmin0': 0.0,
    'elements': {},
    'fit': {'energy': 1.0, 'forces': 0.01, 'stress': 1e-6},
    'group_weights': {},
    'solver': 'SVD',
    'solver_options': {'alpha': 1e-8, 'l1_ratio': 0.5},
    'quadratic': False,
    'chemflag': None,  # None: on with several elements (a plain SNAP density cannot tell them apart)
    'bnormflag': None,
    'wselfallflag': False,
    'bzeroflag': False,
    'zbl': False,
    'zbl_inner': 4.0,
    'zbl_outer': 4.8,
    'validation_fraction': 0.0,
    'seed': 42,
}
ELEMENT_DEFAULTS = {'radelem': 0.5, 'wj': 1.0, 'energy_shift': 0.0}


_merge = merge


def _weight(value, name):
    """A fit weight, or None for "off"."""
    if value is None or (isinstance(value, str) and value.strip().lower() == 'off') or value is False:
        return None
    return number(value, name, low=0.0)


def normalize(parameters: dict, elements: list[str]) -> dict:
    """Complete ``parameters`` with defaults and check them for a set with ``elements``."""
    single_line(parameters)
    unknown = set(parameters) - set(DEFAULTS)
    if unknown:
        raise ParameterError(f'unknown SNAP parameter(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}')
    p = _merge(DEFAULTS, parameters)
    twojmax = p['twojmax']
    if isinstance(twojmax, bool) or not float(number(twojmax, 'twojmax', low=0, low_open=True)).is_integer():
        raise ParameterError(f'twojmax must be a positive even integer, got {twojmax!r}')
    if int(float(twojmax)) % 2:
        raise ParameterError(f'twojmax must be even (band limit 2J), got {twojmax!r}')
    p['twojmax'] = int(float(twojmax))
    p['rcutfac'] = number(p['rcutfac'], 'rcutfac', low=0, low_open=True)
    p['rfac0'] = number(p['rfac0'], 'rfac0', low=0, low_open=True)
    if p['rfac0'] > 1:
        raise ParameterError(f'rfac0 must be in (0, 1], got {p["rfac0"]}')
    p['rmin0'] = number(p['rmin0'], 'rmin0', low=0.0)

    extra = set(p['elements']) - set(elements)
    if extra:
        raise ParameterError(f'elements {sorted(extra)} are not in the training set (it has {elements})')
    per_element = {}
    for element in elements:
        given = p['elements'].get(element, {})
        unknown = set(given) - set(ELEMENT_DEFAULTS)
        if unknown:
            raise ParameterError(f'unknown option(s) {sorted(unknown)} for element {element}')
        values = {**ELEMENT_DEFAULTS, **given}
        per_element[element] = {
            'radelem': number(values['radelem'], f'elements.{element}.radelem', low=0, low_open=True),
            'wj': number(values['wj'], f'elements.{element}.wj', low=0, low_open=True),
            'energy_shift': number(values['energy_shift'], f'elements.{element}.energy_shift'),
        }
    p['elements'] = per_element
    p['validation_fraction'] = number(p['validation_fraction'], 'validation_fraction', low=0, high=1, high_open=True)
    p['seed'] = number(p['seed'], 'seed', low=0, integer=True)

    unknown = set(p['fit']) - set(FIT_TERMS)
    if unknown:
        raise ParameterError(f'unknown fit term(s) {sorted(unknown)}; use {FIT_TERMS}')
    p['fit'] = {term: _weight(p['fit'].get(term), f'fit.{term}') for term in FIT_TERMS}
    if all(p['fit'][term] is None for term in FIT_TERMS):
        raise ParameterError('all fit terms are off: switch on at least one of fit.energy, fit.forces, fit.stress')
    group_weights = {}
    for group, weights in p['group_weights'].items():
        unknown = set(weights) - set(FIT_TERMS)
        if unknown:
            raise ParameterError(f'unknown term(s) {sorted(unknown)} in group_weights.{group}')
        group_weights[group] = {t: number(w, f'group_weights.{group}.{t}', low=0.0) for t, w in weights.items()}
    p['group_weights'] = group_weights

    if p['chemflag'] is None:
        p['chemflag'] = len(elements) > 1 and not flag(p['quadratic'], 'quadratic')
    if flag(p['chemflag'], 'chemflag') and 'solver' not in parameters:
        p['solver'] = 'RIDGE'
    solver = str(p['solver']).upper()
    if solver not in SOLVERS:
        raise ParameterError(f'unknown solver {p["solver"]!r}; use one of {", ".join(SOLVERS)}')
    p['solver'] = solver
    options = p['solver_options']
    unknown = set(options) - {'alpha', 'l1_ratio'}
    if unknown:
        raise ParameterError(f'unknown solver option(s) {sorted(unknown)}')
    p['solver_options'] = {
        'alpha': number(options.get('alpha'), 'solver_options.alpha', low=0.0),
        'l1_ratio': number(options.get('l1_ratio'), 'solver_options.l1_ratio', low=0.0),
    }
    if p['solver_options']['l1_ratio'] > 1:
        raise ParameterError('solver_options.l1_ratio must be in [0, 1]')
    if p['bnormflag'] is None:
        p['bnormflag'] = p['chemflag']
    for key in ('quadratic', 'chemflag', 'bnormflag', 'wselfallflag', 'bzeroflag', 'zbl'):
        p[key] = flag(p[key], key)
    if p['chemflag'] and p['quadratic']:
        raise ParameterError(
            'explicit multi-element SNAP (chemflag) has no quadratic form in FitSNAP: '
            'set one of chemflag and quadratic to false'
        )
    p['zbl_inner'] = number(p['zbl_inner'], 'zbl_inner', low=0, low_open=True)
    p['zbl_outer'] = number(p['zbl_outer'], 'zbl_outer', low=0, low_open=True)
    if p['zbl'] and p['zbl_inner'] >= p['zbl_outer']:
        raise ParameterError(f'zbl_inner ({p["zbl_inner"]}) must be smaller than zbl_outer ({p["zbl_outer"]})')
    return p


def pair_cutoff(parameters: dict) -> float:
    """Largest pair cutoff of the SNAP descriptor, Å."""
    radii = [values['radelem'] for values in parameters['elements'].values()]
    return 2 * max(radii) * parameters['rcutfac']


def fitsnap_input(
    parameters: dict, groups: list[dict], potential: str, data_path: str = 'JSON', reference_terms=None
) -> str:
    """The FitSNAP input file for normalized ``parameters``.

    ``groups``: FitSNAP groups, each ``{'name', 'train' (bool), 'energy', 'forces', 'stress'}``
    with the weights to use (already multiplied by structure weights). ``reference_terms``:
    pair terms of a reference potential (see :mod:`aiida_mlpgen.data.potentials.overlay`),
    subtracted before the fit together with ZBL.
    """
    p = parameters
    elements = list(p['elements'])
    fit = p['fit']
    solver = p['solver']
    lines = [
        '[BISPECTRUM]',
        f'numTypes = {len(elements)}',
        f'twojmax = {" ".join([str(p["twojmax"])] * len(elements))}',
        f'rcutfac = {p["rcutfac"]!r}',
        f'rfac0 = {p["rfac0"]!r}',
        f'rmin0 = {p["rmin0"]!r}',
        'wj = ' + ' '.join(repr(p['elements'][e]['wj']) for e in elements),
        'radelem = ' + ' '.join(repr(p['elements'][e]['radelem']) for e in elements),
        'type = ' + ' '.join(elements),
        f'wselfallflag = {int(p["wselfallflag"])}',
        f'chemflag = {int(p["chemflag"])}',
        f'bnormflag = {int(p["bnormflag"])}',
        f'bzeroflag = {int(p["bzeroflag"])}',
        f'quadraticflag = {int(p["quadratic"])}',
        '',
        '[CALCULATOR]',
        'calculator = LAMMPSSNAP',
        f'energy = {int(fit["energy"] is not None)}',
        f'force = {int(fit["forces"] is not None)}',
        f'stress = {int(fit["stress"] is not None)}',
        '',
        '[ESHIFT]',
        *[f'{e} = {p["elements"][e]["energy_shift"]!r}' for e in elements],
        '',
        '[SOLVER]',
        f'solver = {solver}',
        'compute_testerrs = 1',
        'detailed_errors = 1',
        '',
    ]
    if solver in ('LASSO', 'RIDGE'):
        lines += [f'[{solver}]', f'alpha = {p["solver_options"]["alpha"]!r}', '']
    if solver == 'RIDGE':
        lines.insert(-1, 'local_solver = 0')
    if solver == 'ELASTIC':
        options = p['solver_options']
        lines += ['[ELASTIC]', f'alpha = {options["alpha"]!r}', f'l1_ratio = {options["l1_ratio"]!r}', '']
    lines += [
        '[SCRAPER]',
        'scraper = JSON',
        '',
        '[PATH]',
        f'dataPath = {data_path}',
        '',
        '[OUTFILE]',
        'metrics = fitsnap_metrics.md',
        f'potential = {potential}',
        '',
        '[REFERENCE]',
        'units = metal',
        'atom_style = atomic',
    ]
    terms = [{'style': f'zero {max(10.0, pair_cutoff(p) + 1.0)!r}', 'coeffs': ['* *']}]
    if p['zbl']:
        terms.append({'style': f'zbl {p["zbl_inner"]!r} {p["zbl_outer"]!r}', 'coeffs': zbl_coeffs(elements)})
    terms += reference_terms or []
    style, coeffs = pair_lines(terms)
    lines.append(f'pair_style = {style}')
    lines += [f'pair_coeff{k} = {coeff}' for k, coeff in enumerate(coeffs, 1)]
    lines += [
        '',
        '[GROUPS]',
        'group_sections = name training_size testing_size eweight fweight vweight',
        'group_types = str float float float float float',
        'smartweights = 0',
        'random_sampling = 0',
    ]
    for group in groups:
        size = '1.0 0.0' if group['train'] else '0.0 1.0'
        weights = ' '.join(repr(float(group[t])) for t in FIT_TERMS)
        lines.append(f'{group["name"]} = {size} {weights}')
    lines += ['', '[EXTRAS]', 'dump_dataframe = 1', '', '[MEMORY]', 'override = 0', '']
    return '\n'.join(lines)
