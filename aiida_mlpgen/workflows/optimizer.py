"""Derivative-free hyperparameter search: nlopt's Powell methods driven ask/tell style.

nlopt calls the objective itself; an AiiDA WorkChain must instead submit each trial as a
process and resume later, possibly in another interpreter. nlopt is deterministic, so the
WorkChain keeps only the evaluated points: :meth:`ReplayOptimizer.ask` reruns nlopt from
the start, answers it from that record, and stops at the first point not yet evaluated —
the next trial. The first ``2n + 1`` points of BOBYQA/NEWUOA (the start and ± the initial
step along each axis) are known in advance and run concurrently.

Search variables are named like parameter keys (dotted, e.g. ``rcutfac``,
``elements.Mo.radelem``, ``fit.forces``); weights are searched on a log10 scale.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import nlopt
import numpy as np

ALGORITHMS = {'bobyqa': nlopt.LN_BOBYQA, 'newuoa': nlopt.LN_NEWUOA_BOUND}
#: Default bounds per kind of key: (low, high, log-scale).
DEFAULT_BOUNDS = {
    'rcutfac': (0.75, 1.3, False),  # relative to the start value
    'radelem': (0.3, 0.7, False),
    'wj': (0.3, 1.5, False),
    'fit': (1e-2, 1e2, True),  # relative to the start value
    'group_weights': (1e-2, 1e2, True),
    'cutoff': (0.75, 1.3, False),
    'number_of_functions': (0.25, 2.0, False),
    'nodes_per_layer': (0.5, 2.0, False),
}
RELATIVE = {'rcutfac', 'fit', 'group_weights', 'cutoff', 'number_of_functions', 'nodes_per_layer'}
INTEGER = {'number_of_functions', 'nodes_per_layer'}


class OptimizationError(ValueError):
    """An optimisation request that cannot run."""


@dataclasses.dataclass
class Variable:
    key: str  # dotted parameter key
    low: float
    high: float
    log: bool = False
    integer: bool = False

    def to_unit(self, value: float) -> float:
        """Parameter value -> search coordinate in [0, 1]."""
        lo, hi, v = (math.log10(x) for x in (self.low, self.high, value)) if self.log else (self.low, self.high, value)
        return (v - lo) / (hi - lo)

    def from_unit(self, u: float) -> float:
        lo, hi = (math.log10(self.low), math.log10(self.high)) if self.log else (self.low, self.high)
        value = lo + min(max(u, 0.0), 1.0) * (hi - lo)
        value = 10**value if self.log else value
        return float(round(value)) if self.integer else float(value)


def get_key(parameters: dict, key: str):
    node = parameters
    for part in key.split('.'):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def start_value(parameters: dict, key: str):
    """The value a search starts from; a list of equal values (NNP layer sizes) counts as one."""
    value = get_key(parameters, key)
    if isinstance(value, list) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def set_key(parameters: dict, key: str, value) -> dict:
    result = copy.deepcopy(parameters)
    node = result
    parts = key.split('.')
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return result


def expand_keys(keys: list[str], elements: list[str], groups: list[str]) -> list[str]:
    """SPEC's checkboxes as keys: ``radelem`` and ``wj`` mean every element's,
    ``group_weights`` every group's energy and force weight."""
    out = []
    for key in keys:
        if key in ('radelem', 'wj'):
            out += [f'elements.{e}.{key}' for e in elements]
        elif key == 'group_weights':
            out += [f'group_weights.{g}.{t}' for g in groups for t in ('energy', 'forces')]
        else:
            out.append(key)
    return out


def build_space(keys: list[str], normalized: dict, bounds: dict | None = None) -> list[Variable]:
    """Variables for ``keys`` around the normalized parameters (their start values)."""
    bounds = bounds or {}
    space = []
    for key in keys:
        start = start_value(normalized, key)
        kind = key.split('.')[-1] if key.split('.')[0] == 'elements' else key.split('.')[0]
        if kind not in DEFAULT_BOUNDS and key not in bounds:
            raise OptimizationError(f'{key!r} cannot be optimised; known: {sorted(DEFAULT_BOUNDS)} or give bounds')
        if not isinstance(start, int | float) or isinstance(start, bool):
            raise OptimizationError(f'{key!r} has no numeric start value ({start!r}); is the term switched off?')
        if key in bounds:
            given = bounds[key]
            try:
                low, high = (float(x) for x in given)
            except (TypeError, ValueError):
                raise OptimizationError(f'bounds of {key!r} must be [low, high], got {given!r}') from None
            log = DEFAULT_BOUNDS.get(kind, (0, 0, False))[2]
        else:
            low, high, log = DEFAULT_BOUNDS[kind]
            if kind in RELATIVE:
                low, high = low * start, high * start
        if not (low < high) or (log and low <= 0):
            raise OptimizationError(f'bounds of {key!r} must satisfy 0 < low < high (log scale) or low < high')
        if not low <= start <= high:
            raise OptimizationError(f'start value {start} of {key!r} is outside its bounds [{low}, {high}]')
        space.append(Variable(key, low, high, log, kind in INTEGER))
    return space


def apply(parameters: dict, space: list[Variable], unit_point) -> dict:
    for variable, u in zip(space, unit_point, strict=True):
        value = variable.from_unit(float(u))
        if variable.integer:
            value = int(value)
        current = get_key(parameters, variable.key)
        if isinstance(current, list):
            value = [value] * len(current)
        parameters = set_key(parameters, variable.key, value)
    return parameters


class ReplayOptimizer:
    """nlopt BOBYQA/NEWUOA on the unit cube, asked one point at a time by replay."""

    def __init__(
        self, start: list[float], algorithm: str = 'bobyqa', budget: int = 30, rhobeg: float = 0.15, xtol: float = 1e-3
    ):
        if algorithm not in ALGORITHMS:
            raise OptimizationError(f'unknown algorithm {algorithm!r}; use one of {sorted(ALGORITHMS)}')
        if budget < 2 * len(start) + 2:
            raise OptimizationError(
                f'a budget of {budget} is too small for {len(start)} variables: NEWUOA/BOBYQA '
                f'need at least 2n+2 = {2 * len(start) + 2} evaluations'
            )
        self.start = [float(x) for x in start]
        self.algorithm, self.budget, self.rhobeg, self.xtol = algorithm, int(budget), float(rhobeg), float(xtol)

    def initial_design(self) -> list[list[float]]:
        """The start and ± rhobeg along each axis: the points both methods evaluate first
        (those inside the cube; the methods shift the others themselves)."""
        points = [list(self.start)]
        for sign in (1.0, -1.0):
            for i in range(len(self.start)):
                point = list(self.start)
                point[i] += sign * self.rhobeg
                if 0.0 <= point[i] <= 1.0:
                    points.append(point)
        return points

    def ask(self, evaluated: list[tuple[list[float], float]]) -> tuple[list[float] | None, list[float]]:
        """(next point to evaluate or None when finished, best point so far)."""
        record = [(np.asarray(x, float), float(f)) for x, f in evaluated]
        asked = []
        solver = nlopt.opt(ALGORITHMS[self.algorithm], len(self.start))

        def objective(x, grad):
            for point, value in record:
                if np.allclose(point, x, rtol=0.0, atol=1e-12):
                    return value
            # a new point: remember it and stop nlopt here (raising through nlopt is not safe)
            asked.append([float(v) for v in x])
            solver.force_stop()
            return 0.0

        solver.set_lower_bounds([0.0] * len(self.start))
        solver.set_upper_bounds([1.0] * len(self.start))
        solver.set_initial_step(self.rhobeg)
        solver.set_maxeval(self.budget)
        solver.set_xtol_abs(self.xtol)
        solver.set_min_objective(objective)
        try:
            solver.optimize(list(self.start))
        except nlopt.ForcedStop:
            pass
        if asked and len(record) < self.budget:
            return asked[0], best(evaluated)
        return None, best(evaluated)


def best(evaluated) -> list[float]:
    finite = [(x, f) for x, f in evaluated if math.isfinite(f)]
    return list(min(finite, key=lambda item: item[1])[0]) if finite else []


def objective_value(metrics: dict, weights: dict, metric: str = 'rmse', reference: dict | None = None) -> float:
    """Weighted validation error from a metrics Dict: Σ_q w_q · error_q (/ reference_q when given).

    Energies in meV/atom, forces in eV/Å; ``reference`` turns it into the issue's score
    Σ error/error_published.
    """
    total = 0.0
    for quantity, weight in weights.items():
        if not weight:
            continue
        block = metrics.get(quantity, {}).get('validation', {}).get('overall') or metrics[quantity]['train']['overall']
        value = block[metric] * (1000.0 if quantity == 'energy' else 1.0)
        if reference:
            value /= reference[quantity]
        total += weight * value
    return float(total) if math.isfinite(total) else float('inf')
