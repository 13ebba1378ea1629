"""Is a FitSNAP linear system solvable? Checked in the job, after the fit, on FitSNAP's
dataframe (``dump_dataframe``): the training rows with a positive weight, each multiplied by
its weight, must be at least as many as the coefficients and, unless the solver is
regularised, of full rank. ``mlpgen-fitsnap`` writes the answer to :data:`CHECK_FILE`; the
parser only reads it (an SVD of a design matrix has no place in the AiiDA daemon).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CHECK_FILE = 'mlpgen_design_check.json'
#: smallest / largest singular value below which the system counts as rank-deficient
RANK_TOLERANCE = 1e-14


def check_design(frame, regularised: bool) -> dict:
    """``{'rows', 'coefficients', 'condition_number', 'problem'}`` of FitSNAP's dataframe
    ``frame``; ``problem`` is None or a sentence for the report; the condition number is
    None when it was not needed (a regularised solver copes with rank deficiency)."""
    training = ~frame['Testing'].to_numpy(bool)
    weights = frame['weights'].to_numpy(float)[training]
    used = weights > 0
    columns = [c for c in frame.columns if isinstance(c, int | np.integer)]
    design = frame[columns].to_numpy(float)[training][used] * weights[used, None]
    result = {
        'rows': int(design.shape[0]),
        'coefficients': int(design.shape[1]),
        'condition_number': None,
        'problem': None,
    }
    if design.shape[0] < design.shape[1]:
        result['problem'] = f'{design.shape[0]} weighted training rows for {design.shape[1]} coefficients'
        return result
    if regularised:
        return result
    singular = np.linalg.svd(design, compute_uv=False)
    condition = float(singular[0] / max(singular[-1], 1e-300))
    result['condition_number'] = condition
    if singular[-1] <= singular[0] * RANK_TOLERANCE:
        result['problem'] = f'rank-deficient design matrix (condition number {condition:.3g})'
    return result


def regularised(settings: dict) -> bool:
    """Whether the FitSNAP input ``settings`` (sections of dicts) solve with a penalty."""
    solver = settings.get('SOLVER', {}).get('solver', 'SVD').upper()
    if solver == 'SVD':
        return False
    alpha = settings.get(solver, {}).get('alpha', '0')
    return float(alpha) > 0


def write_check(settings: dict, folder: Path = Path('.')) -> dict | None:
    """Check the dataframe FitSNAP wrote (``[EXTRAS] dataframe_file``) and write
    :data:`CHECK_FILE`; None when no dataframe was written."""
    import pandas as pd

    extras = settings.get('EXTRAS', {})
    path = Path(folder) / extras.get('dataframe_file', 'FitSNAP.df')
    if not path.exists():
        return None
    result = check_design(pd.read_pickle(path), regularised(settings))
    (Path(folder) / CHECK_FILE).write_text(json.dumps(result))
    return result
