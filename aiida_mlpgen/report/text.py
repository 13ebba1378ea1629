"""The text report of a fit, like a job's main output file."""

from __future__ import annotations

from .metrics import QUANTITIES


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        '  '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return lines


def _fmt(value) -> str:
    return '-' if value is None else f'{value:.4g}'


def deviation_tables(metrics: dict) -> list[str]:
    """One table per quantity and split (overall and per group), as lines."""
    out = []
    for quantity, unit in QUANTITIES.items():
        if quantity not in metrics:
            continue
        for split, data in metrics[quantity].items():
            rows = [[f'{quantity} [{unit}], {split}', 'n', 'RMSE', 'MAE', 'max', 'R2']]
            overall = data['overall']
            rows.append(['ALL', str(overall['n']), *(_fmt(overall[k]) for k in ('rmse', 'mae', 'max_abs', 'r2'))])
            for group, s in data['groups'].items():
                rows.append([f'  {group}', str(s['n']), *(_fmt(s[k]) for k in ('rmse', 'mae', 'max_abs', 'r2'))])
            out += _table(rows) + ['']
    return out


def report(potential_type: str, metrics: dict, potential_lines: list[str], location: str, header: dict) -> str:
    """The report text: settings, deviation tables (train / validation, per group), LAMMPS lines."""
    out = [f'aiida-mlpgen {potential_type.upper()} fit report', '=' * 40, '']
    out += [f'{key}: {value}' for key, value in header.items()] + ['']
    out.append('Deviations MLP - DFT (RMSE, MAE, max |error|; energies per atom)')
    out.append('')
    out += deviation_tables(metrics)
    out += ['Potential files: ' + location, 'LAMMPS lines (include potential.mod, written by `mlpgen report`):']
    out += [f'    {line}' for line in potential_lines]
    out += ['', 'Please cite:'] + [f'  - {c}' for c in _citations(potential_type)]
    out += [
        '',
        'Extrapolation warning: the potential is reliable only inside the range of structures '
        'and energies the training set covers.',
    ]
    out += _uncertainty(potential_type)
    return '\n'.join(out) + '\n'


def _uncertainty(potential_type: str) -> list[str]:
    """How to see where the potential extrapolates (its type's measure of uncertainty)."""
    from aiida_mlpgen import potential_types

    if potential_type not in potential_types.names():
        return []
    if potential_types.get(potential_type).uncertainty == 'committee':
        measure = (
            'fit a committee (several fits with other seeds; `mlpgen learn` does) and read the spread of '
            "its members' forces"
        )
    else:
        measure = (
            "`potential.get_ase_calculator(uncertainty=True)` gives each atom's extrapolation grade "
            '(above 1: outside the training set)'
        )
    return [f'To see where it extrapolates: {measure}; `mlpgen learn` labels such structures and refits.']


def _citations(potential_type: str) -> tuple[str, ...]:
    from aiida_mlpgen import potential_types

    return potential_types.get(potential_type).citations if potential_type in potential_types.names() else ()
