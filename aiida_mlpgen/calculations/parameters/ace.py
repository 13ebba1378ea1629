"""ACE fit parameters (SPEC.md, ACE): defaults, validation and pacemaker's input.yaml.

Keys::

    cutoff                                  global cutoff, Å (6.0)
    number_of_functions                     basis functions per element (700)
    min_relative_train_loss_change          stop when the relative train-loss change per iteration
    min_relative_validation_loss_change     and the validation one are both below these (5e-5, 1e-5)
    min_iterations                          the criteria are inactive before (200, at most max_iterations)
    max_iterations                          hard stop (2000)
    force_weight                            kappa, weight of forces in the loss (0.3)
    validation_fraction                     held out when the training set has no split (0.1)
    weighting                               uniform | energy (pacemaker's EnergyBasedWeightingPolicy)
    device                                  cpu | gpu (tensorpot on a GPU, one GPU requested)
    batch_size                              structures per batch (100)
    inner_cutoff                            ZBL core-repulsion inner cutoff, Å; auto = from the data's
                                            minimal distance (pacemaker's ``repulsion: auto``)
    ladder_step, ladder_type                ladder fitting (off, power_order)
    reference_energies                      auto (least squares per element) or {El: eV}
    seed                                    random seed (42)
    display_step                            iterations between validation evaluations (10)
    active_set                              compute the active set (.asi) for the extrapolation
                                            grade gamma with pace_activeset (false)
    evaluator                               tensorpot (TensorFlow, analytic gradients; default on CPU
                                            and GPU) | pyace (numerical gradients, ~30x slower). Where
                                            TensorFlow cannot be loaded on the machine that runs the
                                            fit, a CPU fit falls back to pyace with a warning, and the
                                            report names the evaluator that ran
    initial_potential_mode                  with an initial_potential: extend (upfit, pacemaker's ladder
                                            from it to number_of_functions) or continue (refit it as it is,
                                            e.g. after a walltime kill) (extend)
"""

from __future__ import annotations

from .checks import ParameterError, choice, merge, number, single_line

__all__ = ('ParameterError', 'normalize', 'pacemaker_input', 'stopping_rule')

DEFAULTS = {
    'cutoff': 6.0,
    'number_of_functions': 700,
    'min_relative_train_loss_change': 5e-5,
    'min_relative_validation_loss_change': 1e-5,
    'min_iterations': 200,
    'max_iterations': 2000,
    'force_weight': 0.3,
    'validation_fraction': 0.1,
    'weighting': 'uniform',
    'device': 'cpu',
    'batch_size': 100,
    'inner_cutoff': 'auto',
    'ladder_step': None,
    'ladder_type': 'power_order',
    'reference_energies': 'auto',
    'seed': 42,
    'display_step': 10,
    'active_set': False,
    'evaluator': 'tensorpot',
    'initial_potential_mode': 'extend',
}
WEIGHTINGS = ('uniform', 'energy')
DEVICES = ('cpu', 'gpu')
LADDER_TYPES = ('power_order', 'body_order')
#: pacemaker's energy-based weighting (distance to the convex hull), its documented defaults.
ENERGY_WEIGHTING = {
    'type': 'EnergyBasedWeightingPolicy',
    'DElow': 1.0,
    'DEup': 10.0,
    'DFup': 50.0,
    'DE': 1.0,
    'DF': 1.0,
    'wlow': 0.75,
    'energy': 'convex_hull',
    'reftype': 'all',
    'seed': 42,
}


def normalize(parameters: dict, elements: list[str]) -> dict:
    """Complete ``parameters`` with defaults and check them for a set with ``elements``."""
    single_line(parameters)
    unknown = set(parameters) - set(DEFAULTS)
    if unknown:
        raise ParameterError(f'unknown ACE parameter(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}')
    p = merge(DEFAULTS, parameters)  # the rule of every type: nested dictionaries key by key
    p['cutoff'] = number(p['cutoff'], 'cutoff', low=0, low_open=True)
    p['number_of_functions'] = number(p['number_of_functions'], 'number_of_functions', low=1, integer=True)
    for key in ('min_relative_train_loss_change', 'min_relative_validation_loss_change'):
        p[key] = number(p[key], key, low=0)
    p['min_iterations'] = number(p['min_iterations'], 'min_iterations', low=0, integer=True)
    p['max_iterations'] = number(p['max_iterations'], 'max_iterations', low=1, integer=True)
    if 'min_iterations' not in parameters:  # the default floor never exceeds a cap the user chose
        p['min_iterations'] = min(p['min_iterations'], p['max_iterations'])
    if p['min_iterations'] > p['max_iterations']:
        raise ParameterError(f'min_iterations ({p["min_iterations"]}) > max_iterations ({p["max_iterations"]})')
    p['force_weight'] = number(p['force_weight'], 'force_weight', low=0, high=1)
    p['validation_fraction'] = number(p['validation_fraction'], 'validation_fraction', low=0, high=1, high_open=True)
    p['weighting'] = choice(p['weighting'], 'weighting', WEIGHTINGS)
    p['device'] = choice(p['device'], 'device', DEVICES)
    p['batch_size'] = number(p['batch_size'], 'batch_size', low=1, integer=True)
    p['display_step'] = number(p['display_step'], 'display_step', low=1, integer=True)
    p['seed'] = number(p['seed'], 'seed', low=0, integer=True)
    p['evaluator'] = choice(p['evaluator'], 'evaluator', ('pyace', 'tensorpot'))
    if p['device'] == 'gpu' and p['evaluator'] != 'tensorpot':
        raise ParameterError('device gpu needs the tensorpot evaluator')
    if not isinstance(p['active_set'], bool):
        raise ParameterError(f'active_set must be true or false, got {p["active_set"]!r}')
    if p['inner_cutoff'] != 'auto':
        p['inner_cutoff'] = number(p['inner_cutoff'], 'inner_cutoff', low=0, low_open=True)
        if p['inner_cutoff'] >= p['cutoff']:
            raise ParameterError(f'inner_cutoff ({p["inner_cutoff"]}) must be below cutoff ({p["cutoff"]})')
    if p['ladder_step'] is not None:
        p['ladder_step'] = number(p['ladder_step'], 'ladder_step', low=1, integer=True)
    p['ladder_type'] = choice(p['ladder_type'], 'ladder_type', LADDER_TYPES)
    p['initial_potential_mode'] = choice(p['initial_potential_mode'], 'initial_potential_mode', ('extend', 'continue'))
    reference = p['reference_energies']
    if reference != 'auto':
        if not isinstance(reference, dict):
            raise ParameterError(f'reference_energies must be "auto" or {{element: eV}}, got {reference!r}')
        missing = set(elements) - set(reference)
        extra = set(reference) - set(elements)
        if missing or extra:
            raise ParameterError(f'reference_energies must name exactly the elements {elements}')
        p['reference_energies'] = {e: number(v, f'reference_energies.{e}') for e, v in reference.items()}
    return p


def pacemaker_input(p: dict, elements: list[str], train_file: str, test_file: str | None) -> dict:
    """pacemaker's input.yaml as a dictionary, for normalized parameters ``p``."""
    data = {'filename': train_file}
    if test_file:
        data['test_filename'] = test_file
    fit = {
        'loss': {'kappa': p['force_weight'], 'L1_coeffs': 1e-8, 'L2_coeffs': 1e-8},
        'optimizer': 'BFGS',
        'maxiter': p['max_iterations'],
        'repulsion': 'auto' if p['inner_cutoff'] == 'auto' else None,
    }
    if fit['repulsion'] is None:
        del fit['repulsion']
    if p['weighting'] == 'energy':
        fit['weighting'] = {**ENERGY_WEIGHTING, 'seed': p['seed']}
    if p['ladder_step'] is not None:
        fit['ladder_step'] = p['ladder_step']
        fit['ladder_type'] = p['ladder_type']
    bonds = {
        'radbase': 'SBessel',
        'radparameters': [5.25],
        'rcut': p['cutoff'],
        'dcut': 0.01,
        'NameOfCutoffFunction': 'cos',
    }
    if p['inner_cutoff'] != 'auto':
        bonds.update({'r_in': p['inner_cutoff'], 'delta_in': 0.5, 'core-repulsion': [0.0, 5.0]})
    return {
        'seed': p['seed'],
        'cutoff': p['cutoff'],
        'metadata': {'origin': 'aiida-mlpgen'},
        'potential': {
            'deltaSplineBins': 0.001,
            'elements': list(elements),
            'embeddings': {
                'ALL': {'npot': 'FinnisSinclairShiftedScaled', 'fs_parameters': [1, 1, 1, 0.5], 'ndensity': 2}
            },
            'bonds': {'ALL': bonds},
            'functions': {
                'number_of_functions_per_element': p['number_of_functions'],
                'UNARY': {'nradmax_by_orders': [15, 6, 4, 3, 2, 2], 'lmax_by_orders': [0, 3, 3, 2, 2, 1]},
                'BINARY': {'nradmax_by_orders': [15, 6, 3, 2, 2, 1], 'lmax_by_orders': [0, 3, 2, 1, 1, 0]},
                'TERNARY': {'nradmax_by_orders': [15, 3, 3, 2, 1], 'lmax_by_orders': [0, 2, 2, 1, 1]},
                'ALL': {'nradmax_by_orders': [15, 3, 2, 1, 1], 'lmax_by_orders': [0, 2, 2, 1, 1]},
            },
        },
        'data': data,
        'fit': fit,
        'backend': {
            'evaluator': p['evaluator'],
            'batch_size': p['batch_size'],
            'display_step': p['display_step'],
        },
    }


def stopping_rule(p: dict) -> dict:
    """What ``mlpgen-pacemaker`` enforces on top of pacemaker's ``maxiter`` (SPEC.md semantics)."""
    return {
        'min_iterations': p['min_iterations'],
        'max_iterations': p['max_iterations'],
        'min_relative_train_loss_change': p['min_relative_train_loss_change'],
        'min_relative_validation_loss_change': p['min_relative_validation_loss_change'],
        'active_set': p['active_set'],
        'device': p['device'],
    }
