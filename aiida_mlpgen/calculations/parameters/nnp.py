"""NNP fit parameters (SPEC.md, NNP): defaults, validation and n2p2's input.nn.

Keys::

    epochs                          training epochs (20)
    cutoff                          symmetry-function cutoff, Å (6.0); a custom row's r_cutoff overrides it
    validation_fraction             held out when the training set has no split (0.1)
    seed                            random seed of the split, the weights and the update order (42)
    fit_forces                      train on forces too (true)
    force_weight                    weight of force updates (1.0, n2p2's recommendation with normalised data)
    nodes_per_layer                 neurons of each of the two hidden layers: N or [N1, N2] (20)
    energy_update_fraction          energy updates per epoch / training structures (1.0)
    force_update_fraction           force updates per epoch / training force components (0.03)
    bins                            histogram bins of the symmetry-function statistics (200)
    prune_threshold                 functions whose range (max - min) is below are removed (0.01)
    weighted_symmetry_functions     element-weighted radial (12) and narrow angular (13) types (false)
    symmetry_functions              custom rows replacing the default set, each
                                    {kind: radial|narrow_angular|wide_angular, mode: centered|shifted,
                                     r_low, r_cutoff, n_points, zeta: [..] (angular only, each >= 1)}
    activation                      hidden-layer activation: p softplus (n2p2's recommendation) | t tanh (p)
    normalize                       train on normalised energies/forces, as n2p2's nnp-norm (true)
    kalman                          n2p2 Kalman keywords without the kalman_ prefix, e.g. {epsilon: 0.01}
"""

from __future__ import annotations

import re

from aiida_mlpgen.engines.nnp import sfsets

from .checks import ParameterError, choice, flag, merge, number, single_line

__all__ = ('ParameterError', 'input_nn', 'normalize')

DEFAULTS = {
    'epochs': 20,
    'cutoff': 6.0,
    'validation_fraction': 0.1,
    'seed': 42,
    'fit_forces': True,
    'force_weight': 1.0,
    'nodes_per_layer': 20,
    'energy_update_fraction': 1.0,
    'force_update_fraction': 0.03,
    'bins': 200,
    'prune_threshold': 0.01,
    'weighted_symmetry_functions': False,
    'symmetry_functions': None,
    'activation': 'p',
    'normalize': True,
    'kalman': {},
}
KALMAN = {
    'type': 0,
    'epsilon': 0.01,
    'q0': 0.01,
    'qtau': 2.302,
    'qmin': 1e-6,
    'eta': 0.01,
    'etatau': 2.302,
    'etamax': 1.0,
    'lambda_short': 0.96,
    'nue_short': 0.995,
}
ROW_KEYS = {'kind', 'mode', 'r_low', 'r_cutoff', 'n_points', 'zeta', 'rule'}


def normalize(parameters: dict, elements: list[str]) -> dict:
    single_line(parameters)
    unknown = set(parameters) - set(DEFAULTS)
    if unknown:
        raise ParameterError(f'unknown NNP parameter(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}')
    p = merge(DEFAULTS, parameters)  # the rule of every type: nested dictionaries key by key
    p['epochs'] = number(p['epochs'], 'epochs', low=1, integer=True)  # 0 would store an untrained network
    p['cutoff'] = number(p['cutoff'], 'cutoff', low=0, low_open=True)
    p['validation_fraction'] = number(p['validation_fraction'], 'validation_fraction', low=0, high=1, high_open=True)
    p['seed'] = number(p['seed'], 'seed', low=0, integer=True)
    p['fit_forces'] = flag(p['fit_forces'], 'fit_forces')
    p['force_weight'] = number(p['force_weight'], 'force_weight', low=0, low_open=True)
    nodes = p['nodes_per_layer']
    nodes = list(nodes) if isinstance(nodes, list | tuple) else [nodes, nodes]
    if len(nodes) != 2:
        raise ParameterError(f'nodes_per_layer: two hidden layers, give N or [N1, N2], got {p["nodes_per_layer"]!r}')
    p['nodes_per_layer'] = [number(n, 'nodes_per_layer', low=1, integer=True) for n in nodes]
    p['energy_update_fraction'] = number(p['energy_update_fraction'], 'energy_update_fraction', low=0, high=1)
    p['force_update_fraction'] = number(p['force_update_fraction'], 'force_update_fraction', low=0, high=1)
    p['bins'] = number(p['bins'], 'bins', low=1, integer=True)
    p['prune_threshold'] = number(p['prune_threshold'], 'prune_threshold', low=0)
    p['weighted_symmetry_functions'] = flag(p['weighted_symmetry_functions'], 'weighted_symmetry_functions')
    p['activation'] = choice(p['activation'], 'activation', ('p', 't'))
    p['normalize'] = flag(p['normalize'], 'normalize')
    if not isinstance(p['kalman'], dict):
        raise ParameterError(f'kalman must be a dictionary of n2p2 kalman_* keywords, got {p["kalman"]!r}')
    bad = set(p['kalman']) - set(KALMAN)
    if bad:
        raise ParameterError(f'unknown kalman keyword(s) {sorted(bad)}; known: {sorted(KALMAN)}')
    p['kalman'] = {**KALMAN, **{k: number(v, f'kalman.{k}') for k, v in p['kalman'].items()}}
    if p['kalman']['type'] not in (0, 1):
        raise ParameterError('kalman.type must be 0 (standard) or 1 (fading memory)')
    if p['energy_update_fraction'] == 0 and (not p['fit_forces'] or p['force_update_fraction'] == 0):
        raise ParameterError('no updates: energy_update_fraction is 0 and forces are not fitted')
    p['symmetry_functions'] = _rows(p['symmetry_functions'], p['cutoff'])
    return p


def _rows(rows, cutoff: float) -> list[dict]:
    if rows is None:
        r_low = min(row['r_low'] for row in sfsets.default_rows(cutoff))
        if cutoff <= r_low:
            raise ParameterError(
                f'cutoff {cutoff} Å: the default symmetry functions start at r_low {r_low} Å; '
                'give a cutoff above it (5-6 Å is usual)'
            )
        return sfsets.default_rows(cutoff)
    if not isinstance(rows, list) or not rows:
        raise ParameterError('symmetry_functions must be a non-empty list of rows (or omitted for the default set)')
    checked = []
    for index, row in enumerate(rows):
        where = f'symmetry_functions[{index}]'
        if not isinstance(row, dict):
            raise ParameterError(f'{where} must be a dictionary, got {row!r}')
        unknown = set(row) - ROW_KEYS
        if unknown:
            raise ParameterError(f'{where}: unknown key(s) {sorted(unknown)}; known: {sorted(ROW_KEYS)}')
        kind = choice(row.get('kind', 'radial'), f'{where}.kind', sfsets.KINDS)
        mode = choice(row.get('mode', 'shifted' if kind == 'radial' else 'centered'), f'{where}.mode', sfsets.MODES)
        rule = choice(
            row.get('rule') or ('imbalzano' if kind == 'radial' else 'gastegger'), f'{where}.rule', sfsets.RULES
        )
        r_cutoff = number(row.get('r_cutoff', cutoff), f'{where}.r_cutoff', low=0, low_open=True)
        r_low = number(row.get('r_low', 1.0), f'{where}.r_low', low=0, high=r_cutoff, high_open=True)
        n_points = number(row.get('n_points', 4), f'{where}.n_points', low=2, integer=True)
        out = {'kind': kind, 'mode': mode, 'rule': rule, 'r_low': r_low, 'r_cutoff': r_cutoff, 'n_points': n_points}
        if kind != 'radial':
            zeta = row.get('zeta', [1])
            zeta = zeta if isinstance(zeta, list | tuple) else [zeta]
            if not zeta:
                raise ParameterError(f'{where}.zeta: give at least one value')
            out['zeta'] = [number(z, f'{where}.zeta', low=1) for z in zeta]
        elif row.get('zeta'):
            raise ParameterError(f'{where}: zeta applies to angular rows only')
        try:
            sfsets.radial_grid(rule, mode, n_points, r_cutoff, r_low)
        except ValueError as error:
            raise ParameterError(f'{where}: {error}') from error
        checked.append(out)
    return checked


def input_nn(p: dict, elements: list[str], normalization: tuple[float, float, float] | None) -> str:
    """n2p2's input.nn for normalized parameters ``p``; ``normalization`` = (mean energy per
    atom, conv_energy, conv_length) as nnp-norm computes them, or None."""
    hidden = p['nodes_per_layer']
    k = p['kalman']
    lines = [
        '# written by aiida-mlpgen (NnpCalculation)',
        f'number_of_elements {len(elements)}',
        f'elements {" ".join(elements)}',
    ]
    if normalization is not None:
        mean, conv_energy, conv_length = normalization
        lines += [f'mean_energy {mean!r}', f'conv_energy {conv_energy!r}', f'conv_length {conv_length!r}']
    lines += [
        'cutoff_type 6 0.0',
        'scale_symmetry_functions_sigma',
        'scale_min_short 0.0',
        'scale_max_short 1.0',
        'global_hidden_layers_short 2',
        f'global_nodes_short {hidden[0]} {hidden[1]}',
        f'global_activation_short {p["activation"]} {p["activation"]} l',
        f'random_seed {p["seed"]}',
        f'epochs {p["epochs"]}',
        'updater_type 1',
        'parallel_mode 0',
        'jacobian_mode 1',
        'update_strategy 0',
        'selection_mode 2',
        'task_batch_size_energy 1',
        'task_batch_size_force 1',
        'test_fraction 0.0',
        f'force_weight {p["force_weight"]!r}',
        f'short_energy_fraction {p["energy_update_fraction"]!r}',
        f'short_force_fraction {p["force_update_fraction"]!r}',
        'short_energy_error_threshold 0.0',
        'short_force_error_threshold 1.0',
        'rmse_threshold_trials 3',
        'weights_min -1.0',
        'weights_max 1.0',
        'write_trainpoints 1',  # every epoch: the parser reads the chosen epoch's predictions
        'write_trainforces 1',
        'write_weights_epoch 1',
        f'kalman_type {int(k["type"])}',
        f'kalman_epsilon {k["epsilon"]!r}',
        f'kalman_q0 {k["q0"]!r}',
        f'kalman_qtau {k["qtau"]!r}',
        f'kalman_qmin {k["qmin"]!r}',
    ]
    if int(k['type']) == 0:
        lines += [f'kalman_eta {k["eta"]!r}', f'kalman_etatau {k["etatau"]!r}', f'kalman_etamax {k["etamax"]!r}']
    else:
        lines += [f'kalman_lambda_short {k["lambda_short"]!r}', f'kalman_nue_short {k["nue_short"]!r}']
    if p['fit_forces']:
        lines.append('use_short_forces')
    functions = sfsets.functions(p['symmetry_functions'], elements, p['weighted_symmetry_functions'])
    lines += [sf.to_line() for sf in functions]
    text = '\n'.join(lines) + '\n'
    if re.search(r'[^\x20-\x7e\n]', text):  # only printable ASCII reaches the code
        raise ParameterError('input.nn would contain non-printable characters')
    return text
