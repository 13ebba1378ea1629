"""The PNG plots of every fit (SPEC.md, outputs): parity, difference and error histograms.

For each of energies and forces: ``<Q>_DFT_vs_MLP.png`` (train black crosses, validation
red, least-squares line and its equation), ``<Q>_Difference_DFT_vs_MLP.png``,
``<Q>_Error_Distribution_TrainingSet.png`` and ``<Q>_Error_Distribution_ValidationSet.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

LABELS = {
    'energy': ('Energies', 'energy per atom', 'eV/atom', 1000.0, 'meV/atom'),
    'forces': ('Forces', 'force component', 'eV/Å', 1.0, 'eV/Å'),
}


def _figure():
    figure, axes = plt.subplots(figsize=(6.4, 5.2), dpi=120)
    axes.grid(True, alpha=0.3)
    return figure, axes


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def parity(values: dict, quantity: str, path: Path) -> Path:
    title, what, unit, _, _ = LABELS[quantity]
    reference, predicted = np.asarray(values['reference']), np.asarray(values['predicted'])
    validation = np.asarray(values['validation'], bool)
    figure, axes = _figure()
    axes.scatter(
        reference[~validation],
        predicted[~validation],
        marker='x',
        s=14,
        c='black',
        lw=0.8,
        label=f'training ({(~validation).sum()})',
    )
    if validation.any():
        axes.scatter(
            reference[validation],
            predicted[validation],
            marker='x',
            s=14,
            c='red',
            lw=0.8,
            label=f'validation ({validation.sum()})',
        )
    low, high = float(min(reference.min(), predicted.min())), float(max(reference.max(), predicted.max()))
    pad = 0.03 * (high - low or 1.0)
    axes.plot([low - pad, high + pad], [low - pad, high + pad], color='0.5', lw=1, ls='--', label='ideal y = x')
    slope, intercept = np.polyfit(reference, predicted, 1)
    axes.plot(
        [low - pad, high + pad],
        [slope * (low - pad) + intercept, slope * (high + pad) + intercept],
        color='tab:blue',
        lw=1.2,
        label=f'fit y = {slope:.4f}·x {intercept:+.4g}',
    )
    axes.set_xlim(low - pad, high + pad)
    axes.set_ylim(low - pad, high + pad)
    axes.set_aspect('equal')
    axes.set_xlabel(f'DFT {what} ({unit})')
    axes.set_ylabel(f'MLP {what} ({unit})')
    axes.set_title(f'{title}: MLP vs DFT')
    axes.legend(loc='upper left', fontsize=9)
    return _save(figure, path)


def difference(values: dict, quantity: str, path: Path) -> Path:
    title, what, unit, scale, scaled_unit = LABELS[quantity]
    reference = np.asarray(values['reference'])
    error = (np.asarray(values['predicted']) - reference) * scale
    validation = np.asarray(values['validation'], bool)
    figure, axes = _figure()
    axes.axhline(0, color='0.5', lw=1, ls='--')
    axes.scatter(reference[~validation], error[~validation], marker='x', s=14, c='black', lw=0.8, label='training')
    if validation.any():
        axes.scatter(reference[validation], error[validation], marker='x', s=14, c='red', lw=0.8, label='validation')
    axes.set_xlabel(f'DFT {what} ({unit})')
    axes.set_ylabel(f'MLP − DFT ({scaled_unit})')
    axes.set_title(f'{title}: difference MLP − DFT')
    axes.legend(loc='best', fontsize=9)
    return _save(figure, path)


def distribution(values: dict, quantity: str, validation_set: bool, path: Path) -> Path:
    title, what, _, scale, scaled_unit = LABELS[quantity]
    mask = np.asarray(values['validation'], bool)
    mask = mask if validation_set else ~mask
    error = (np.asarray(values['predicted']) - np.asarray(values['reference']))[mask] * scale
    name = 'validation set' if validation_set else 'training set'
    figure, axes = _figure()
    if error.size:
        bound = float(np.max(np.abs(error))) or 1.0
        axes.hist(
            error,
            bins=min(60, max(10, error.size // 5)),
            range=(-bound, bound),
            color='red' if validation_set else '0.2',
            alpha=0.85,
        )
        rmse = float(np.sqrt(np.mean(error**2)))
        axes.axvline(0, color='tab:blue', lw=1)
        axes.text(
            0.02,
            0.96,
            f'n = {error.size}\nRMSE = {rmse:.4g} {scaled_unit}\nMAE = {np.mean(np.abs(error)):.4g}',
            transform=axes.transAxes,
            va='top',
            fontsize=9,
            bbox={'facecolor': 'white', 'alpha': 0.8, 'edgecolor': '0.8'},
        )
    else:
        axes.text(0.5, 0.5, f'no {name} structures', ha='center', va='center', transform=axes.transAxes)
    axes.set_xlabel(f'MLP − DFT {what} ({scaled_unit})')
    axes.set_ylabel('count')
    axes.set_title(f'{title}: error distribution, {name}')
    return _save(figure, path)


def write_plots(predictions: dict, directory) -> list[Path]:
    """All plots for the quantities in ``predictions`` (energy, forces) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for quantity, (title, *_) in LABELS.items():
        values = predictions.get(quantity)
        if values is None or not len(values['reference']):
            continue
        written.append(parity(values, quantity, directory / f'{title}_DFT_vs_MLP.png'))
        written.append(difference(values, quantity, directory / f'{title}_Difference_DFT_vs_MLP.png'))
        written.append(distribution(values, quantity, False, directory / f'{title}_Error_Distribution_TrainingSet.png'))
        written.append(
            distribution(values, quantity, True, directory / f'{title}_Error_Distribution_ValidationSet.png')
        )
    return written


def learning_curve(curves: dict, path, ylabel: str = 'loss', best: int | None = None, title: str = 'Learning curve'):
    """``curves``: {label: (iterations, values)}; log scale; an arrow at ``best`` (iteration)."""
    figure, axes = _figure()
    colors = {'training': 'black', 'validation': 'red'}
    for label, (x, y) in curves.items():
        if len(x):
            axes.plot(
                x,
                y,
                marker='o' if len(x) < 40 else None,
                ms=3,
                lw=1.2,
                color=next((c for k, c in colors.items() if label.startswith(k)), None),
                label=label,
            )
    if best is not None:
        for label, (x, y) in curves.items():
            x, y = np.asarray(x), np.asarray(y)
            if len(x) and best in x and label.startswith('validation'):
                value = float(y[list(x).index(best)])
                axes.annotate(
                    f'best: {best}',
                    xy=(best, value),
                    xytext=(best, value * 3),
                    arrowprops={'arrowstyle': '->', 'color': 'tab:blue'},
                    ha='center',
                    color='tab:blue',
                )
    axes.set_yscale('log')
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel('iteration')
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(loc='upper right', fontsize=9)
    return _save(figure, Path(path))


def nnp_learning_curve(curve: dict, path, best: int | None = None):
    """n2p2 learning curve: RMSE of energies (meV/atom) and forces (eV/Å), training (black)
    and validation (red) per epoch, a black arrow at the optimum epoch ``best``."""
    panels = [('RMSEpa_E', 1000.0, 'energy RMSE (meV/atom)')]
    if 'RMSE_Ftrain_pu' in curve:
        panels.append(('RMSE_F', 1.0, 'force RMSE (eV/Å)'))
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    epochs = np.asarray(curve['epoch'], int)
    for ax, (prefix, scale, label) in zip(axes[0], panels, strict=True):
        for kind, color, name in (('train', 'black', 'training'), ('test', 'red', 'validation')):
            values = np.asarray(curve.get(f'{prefix}{kind}_pu', []), float) * scale
            if len(values) and np.isfinite(values).any():
                ax.plot(epochs, values, marker='o', ms=3, lw=1.2, color=color, label=name)
        if best is not None and best in epochs:
            tested = np.isfinite(curve.get(f'{prefix}test_pu', [np.nan])).all()
            key = f'{prefix}test_pu' if tested else f'{prefix}train_pu'
            value = float(np.asarray(curve[key])[list(epochs).index(best)]) * scale
            ax.annotate(
                f'optimum: epoch {best}',
                xy=(best, value),
                xytext=(best, value * 2.5),
                arrowprops={'arrowstyle': '->', 'color': 'black', 'lw': 1.5},
                ha='center',
            )
        ax.set_yscale('log')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel('epoch')
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which='both')
        ax.legend(loc='upper right', fontsize=9)
    figure.suptitle('NNP learning curve')
    figure.tight_layout()
    return _save(figure, Path(path))


def optimization_plot(trials, values, path, best: int | None = None, choices=None):
    """Objective per trial (failed trials left out), the running best, a star at row ``best``;
    with ``choices`` (a label per row: searches of a discrete outer choice) one colour per search."""
    figure, axes = _figure()
    trials, values = np.asarray(trials), np.asarray(values, float)
    ok = np.isfinite(values) & (values < 1e5)
    labels = np.asarray(choices if choices is not None else [''] * len(trials))
    palette = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for index, label in enumerate(dict.fromkeys(labels)):
        rows = labels == label
        color = 'black' if choices is None else palette[index % len(palette)]
        line = 'red' if choices is None else color
        axes.plot(
            trials[rows & ok], values[rows & ok], 'o', ms=5, color=color, label='trial' if choices is None else label
        )
        if (rows & ok).any():
            running = np.minimum.accumulate(np.where(ok[rows], values[rows], np.inf))
            axes.step(
                trials[rows],
                running,
                where='post',
                color=line,
                lw=1.5,
                label='best so far' if choices is None else None,
            )
    if best is not None and 0 <= best < len(trials) and ok[best]:
        where = f' ({labels[best]})' if choices is not None else ''
        axes.plot([trials[best]], [values[best]], '*', ms=16, color='red', label=f'best: trial {trials[best]}{where}')
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel('trial' if choices is None else 'trial (of each search)')
    axes.set_ylabel('objective (weighted validation error)')
    axes.set_title('Hyperparameter optimisation')
    axes.legend(loc='upper right', fontsize=9)
    if hasattr(path, 'write'):
        figure.savefig(path, format='png', dpi=120, bbox_inches='tight')
        plt.close(figure)
        return path
    return _save(figure, Path(path))
