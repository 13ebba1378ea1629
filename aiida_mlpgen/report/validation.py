"""The validation report: property | MLP | DFT | error table, and its plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .text import _table

#: unit of a value by key (exact, then prefix)
UNITS = {
    'lattice_parameter': 'Å',
    'lattice_parameter_c': 'Å',
    'volume_per_atom': 'Å³/atom',
    'energy_per_atom': 'eV/atom',
    'bulk_modulus': 'GPa',
    'bulk_modulus_elastic': 'GPa',
    'bulk_modulus_derivative': '-',
    'eos_scale': '-',
    'vacancy_formation_energy': 'eV',
    'interstitial_formation_energy': 'eV',
    'thermal_expansion_coefficient': '1/K',
}
PREFIX_UNITS = (
    ('C', 'GPa'),
    ('surface_energy_', 'J/m²'),
    ('usf_energy_', 'J/m²'),
    ('isf_energy_', 'J/m²'),
    ('phonon_', 'THz'),
    ('energy_difference_', 'eV/atom'),
    ('lattice_parameter_', 'Å'),
)
#: values that are bookkeeping, not physics: left out of the comparison
HIDDEN = ('eos_scale',)


def unit(key: str) -> str:
    if key in UNITS:
        return UNITS[key]
    for prefix, value in PREFIX_UNITS:
        if key.startswith(prefix):
            return value
    return '-'


def comparison_rows(values: dict, reference: dict) -> list[dict]:
    """One row per MLP value: the reference (DFT) value where given, absolute and relative error."""
    rows = []
    for key in sorted(values, key=_order):
        if key in HIDDEN:
            continue
        mlp, dft = float(values[key]), reference.get(key)
        row = {
            'property': key,
            'unit': unit(key),
            'mlp': mlp,
            'dft': None,
            'abs_error': None,
            'rel_error_percent': None,
        }
        if isinstance(dft, (int, float)):
            row.update(dft=float(dft), abs_error=mlp - float(dft))
            if abs(float(dft)) > 1e-12:
                row['rel_error_percent'] = 100.0 * (mlp - float(dft)) / abs(float(dft))
        rows.append(row)
    return rows


def _order(key: str):
    ranks = [
        'lattice_parameter',
        'volume_per_atom',
        'energy_per_atom',
        'bulk_modulus',
        'C',
        'vacancy',
        'interstitial',
        'surface',
        'usf',
        'isf',
        'energy_difference',
        'phonon',
        'thermal',
    ]
    rank = next((i for i, prefix in enumerate(ranks) if key.startswith(prefix)), len(ranks))
    return rank, key


def _fmt(value, digits=5):
    if value is None:
        return '-'
    return f'{value:.{digits}g}'


def table_text(rows: list[dict]) -> str:
    lines = [['property', 'unit', 'MLP', 'DFT', 'error', 'error %']]
    for row in rows:
        lines.append(
            [
                row['property'],
                row['unit'],
                _fmt(row['mlp']),
                _fmt(row['dft']),
                _fmt(row['abs_error'], 3),
                _fmt(row['rel_error_percent'], 3),
            ]
        )
    return '\n'.join(_table(lines)) + '\n'


def report_text(potential_label: str, engine: str, rows: list[dict], reference_label: str, notes: list[str]) -> str:
    out = [
        'aiida-mlpgen validation report',
        '=' * 40,
        '',
        f'potential: {potential_label}',
        f'engine: {engine}',
        f'reference: {reference_label}',
        '',
        table_text(rows),
    ]
    out += [f'note: {note}' for note in notes]
    return '\n'.join(out) + '\n'


def write_plots(rows: list[dict], curves: dict, reference_curves: dict, directory) -> list[Path]:
    """PNGs: E(V) MLP vs reference, relative errors, γ(s), phonon bands, a(T) — where data exist."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    directory = Path(directory)
    written = []

    def save(fig, name):
        path = directory / name
        fig.tight_layout()
        fig.savefig(path, dpi=130)
        plt.close(fig)
        written.append(path)

    if 'eos' in curves:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        _eos_curve(ax, curves['eos'], 'MLP', 'tab:blue', '-')
        if 'eos' in reference_curves:
            ref = reference_curves['eos']
            ax.plot(ref['volumes_per_atom'], ref['energies_per_atom'], 'o', color='black', mfc='none', label='DFT')
        ax.set_xlabel('volume (Å³/atom)')
        ax.set_ylabel('energy (eV/atom)')
        ax.set_title('Equation of state')
        ax.legend()
        save(fig, 'eos.png')
    compared = [row for row in rows if row['rel_error_percent'] is not None]
    if compared:
        fig, ax = plt.subplots(figsize=(7, 0.35 * len(compared) + 1.5))
        errors = [row['rel_error_percent'] for row in compared]
        colors = ['tab:red' if abs(e) > 10 else 'tab:orange' if abs(e) > 5 else 'tab:green' for e in errors]
        ax.barh(range(len(compared)), errors, color=colors)
        ax.set_yticks(range(len(compared)), [row['property'] for row in compared])
        ax.axvline(0, color='black', lw=0.8)
        ax.invert_yaxis()
        ax.set_xlabel('(MLP − DFT) / |DFT|  (%)')
        ax.set_title('Relative errors (green ≤ 5 %, orange ≤ 10 %, red > 10 %)')
        save(fig, 'relative_errors.png')
    for label, data in curves.items():
        if label.startswith('gsf'):
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.plot(data['shift'], data['gamma'], 'o-', label='MLP')
            if label in reference_curves:
                ax.plot(
                    reference_curves[label]['shift'], reference_curves[label]['gamma'], 'ks--', mfc='none', label='DFT'
                )
            ax.set_xlabel('shift (fraction of the direction vector)')
            ax.set_ylabel('γ (J/m²)')
            ax.set_title(f'Generalized stacking fault {data["label"]}')
            ax.legend()
            save(fig, f'{label}.png')
    if 'phonons' in curves:
        save(_phonon_figure(plt, curves['phonons'], reference_curves.get('phonons')), 'phonons.png')
    if 'thermal_expansion' in curves:
        data = curves['thermal_expansion']
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(data['temperatures'], data['lattice_parameters'], 'o-', label='MLP (NPT MD)')
        if 'thermal_expansion' in reference_curves:
            ref = reference_curves['thermal_expansion']
            ax.plot(ref['temperatures'], ref['lattice_parameters'], 'ks--', mfc='none', label='DFT')
        ax.set_xlabel('temperature (K)')
        ax.set_ylabel('lattice parameter (Å)')
        ax.set_title('Thermal expansion')
        ax.legend()
        save(fig, 'thermal_expansion.png')
    return written


def _eos_curve(ax, data, label, color, style):
    from aiida_mlpgen.engines.properties.eos import birch_murnaghan, fit_birch_murnaghan

    volumes, energies = np.array(data['volumes_per_atom']), np.array(data['energies_per_atom'])
    fit = fit_birch_murnaghan(volumes, energies, volumes.mean())
    grid = np.linspace(volumes.min(), volumes.max(), 200)
    from ase.units import GPa

    ax.plot(
        grid,
        birch_murnaghan(grid, fit.e0, fit.v0, fit.bulk_modulus * GPa, fit.bulk_modulus_derivative),
        style,
        color=color,
        label=f'{label} (Birch–Murnaghan)',
    )
    ax.plot(volumes, energies, 'x', color=color)


def _phonon_figure(plt, data, reference):
    fig, (bands, dos) = plt.subplots(1, 2, figsize=(8, 4.5), sharey=True, gridspec_kw={'width_ratios': [3, 1]})
    bands.plot(data['distances'], data['frequencies'], color='tab:blue', lw=1)
    if reference:
        bands.plot(reference['distances'], reference['frequencies'], 'k--', lw=0.8)
    for tick in data['ticks']:
        bands.axvline(tick, color='grey', lw=0.5)
    bands.set_xticks(data['ticks'], [label.replace('G', 'Γ') for label in data['tick_labels']])
    bands.set_xlim(data['distances'][0], data['distances'][-1])
    bands.set_ylabel('frequency (THz)')
    bands.set_title('Phonon dispersion (MLP solid' + (', DFT dashed)' if reference else ')'))
    dos.plot(data['dos'], data['dos_frequencies'], color='tab:blue')
    dos.set_xlabel('DOS')
    return fig
