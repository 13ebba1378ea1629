"""Error metrics of predictions against DFT references, per split and per group.

Inputs are flat arrays: reference, predicted, the split of each value (True = validation)
and its group. Output: ``{split: {'overall': stats, 'groups': {group: stats}}}`` with
``stats = {n, rmse, mae, max_abs, r2}``; a split without values is left out.
"""

from __future__ import annotations

import numpy as np

#: Quantities, their units in metrics and report.
QUANTITIES = {'energy': 'eV/atom', 'forces': 'eV/Å', 'stress': 'GPa'}


def stats(reference: np.ndarray, predicted: np.ndarray) -> dict:
    error = np.asarray(predicted, float) - np.asarray(reference, float)
    n = int(error.size)
    variance = float(np.var(reference)) if n > 1 else 0.0
    return {
        'n': n,
        'rmse': float(np.sqrt(np.mean(error**2))),
        'mae': float(np.mean(np.abs(error))),
        'max_abs': float(np.max(np.abs(error))),
        'r2': float(1 - np.mean(error**2) / variance) if variance > 0 else None,
    }


def split_metrics(reference, predicted, validation, groups) -> dict:
    reference, predicted = np.asarray(reference, float), np.asarray(predicted, float)
    validation, groups = np.asarray(validation, bool), np.asarray(groups)
    result = {}
    for name, mask in (('train', ~validation), ('validation', validation)):
        if not mask.any():
            continue
        result[name] = {
            'overall': stats(reference[mask], predicted[mask]),
            'groups': {
                str(g): stats(reference[mask & (groups == g)], predicted[mask & (groups == g)])
                for g in np.unique(groups[mask])
            },
        }
    return result


def compute_metrics(predictions: dict) -> dict:
    """Metrics of every quantity present in ``predictions``.

    ``predictions[q]`` holds arrays ``reference``, ``predicted``, ``validation``, ``group``.
    """
    return {
        quantity: split_metrics(values['reference'], values['predicted'], values['validation'], values['group'])
        for quantity, values in predictions.items()
        if quantity in QUANTITIES and len(values['reference'])
    }
