"""The per-round picture of an active-learning run: how the set grew, how sure the potential
became, how its validation error moved, and whether its MD stayed sane."""

from __future__ import annotations

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def rounds_plot(rows: list[dict], threshold: float, target: float | None, path):
    """Two panels over the rounds: the uncertain fraction of explored frames (bars, with MD
    runs that blew up marked) beside the training-set size; the fits' validation RMSE."""
    rounds = np.array([r['round'] for r in rows])
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 7.0), dpi=120, sharex=True)
    fraction = np.array([r.get('uncertain_fraction') or 0.0 for r in rows]) * 100
    top.bar(rounds, fraction, color='tab:red', alpha=0.7, label=f'frames above {threshold:g}')
    if target is not None:
        top.axhline(target * 100, color='tab:red', ls='--', lw=1, label=f'target {target:.0%}')
    for r, row in zip(rounds, rows, strict=True):
        if row.get('blown_up_runs'):
            top.annotate(f'{row["blown_up_runs"]} MD blew up', (r, fraction[r == rounds][0]), ha='center', va='bottom')
    top.set_ylabel('uncertain frames (%)')
    top.set_ylim(0, 105)
    size = top.twinx()
    size.plot(rounds, [r['structures'] for r in rows], 'ko-', label='training structures')
    size.set_ylabel('training structures')
    size.set_ylim(bottom=0)
    handles = top.get_legend_handles_labels()[0] + size.get_legend_handles_labels()[0]
    labels = top.get_legend_handles_labels()[1] + size.get_legend_handles_labels()[1]
    top.legend(handles, labels, loc='upper right', fontsize=9)
    top.set_title('Active learning, round by round')
    top.grid(True, alpha=0.3)
    energy = [r.get('energy_rmse') for r in rows]
    force = [r.get('force_rmse') for r in rows]
    if any(v is not None for v in energy):
        bottom.plot(rounds, [np.nan if v is None else v for v in energy], 's-', color='tab:blue', label='energy')
    bottom.set_ylabel('energy RMSE (meV/atom)', color='tab:blue')
    forces = bottom.twinx()
    if any(v is not None for v in force):
        forces.plot(rounds, [np.nan if v is None else v for v in force], 'o-', color='tab:green', label='forces')
    forces.set_ylabel('force RMSE (eV/Å)', color='tab:green')
    bottom.set_xlabel('round')
    bottom.set_title("the round's fit: validation error", fontsize=10)
    bottom.grid(True, alpha=0.3)
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, format='png', dpi=120)
    plt.close(figure)
    return path
