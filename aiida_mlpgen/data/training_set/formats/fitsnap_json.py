"""FitSNAP JSON trees: one folder per group, one configuration per file.

Each file: a comment line, then ``{"Dataset": {"Data": [{...}], "<Quantity>Style": unit}}``.
FitSNAP's stress is in bar with the pressure sign (positive = compressive); lattice rows
are the cell vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aiida_mlpgen.common.units import UnitError, fitsnap_style_factor, stress_to

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from ._common import malformed, natural_key, symbols_to_numbers

STYLES = {
    'PositionsStyle': 'angstrom',
    'LatticeStyle': 'angstrom',
    'EnergyStyle': 'electronvolt',
    'ForcesStyle': 'electronvoltperangstrom',
    'StressStyle': 'bar',
    'AtomTypeStyle': 'chemicalsymbol',
}


def read(path: Path, group: str | None = None, **_) -> list[Frame]:
    path = Path(path)
    if path.is_file():
        files = [path]
        root = path.parent.parent
    else:
        files = sorted(path.rglob('*.json'), key=lambda p: (p.parent.as_posix(), natural_key(p)))
        root = path
    if not files:
        raise TrainingSetError(f'{path}: no FitSNAP JSON file (*.json) found')
    frames, styles_seen = [], {}
    for file in files:
        file_group = group or (file.parent.relative_to(root).as_posix() if file.parent != root else root.name)
        frames.extend(_read_file(file, file_group, styles_seen))
    return frames


def _read_file(file: Path, group: str, styles_seen: dict) -> list[Frame]:
    text = file.read_text(errors='replace')
    body = text[text.index('\n') + 1 :] if text.lstrip().startswith('#') and '\n' in text else text
    try:
        dataset = json.loads(body)['Dataset']
        records = dataset['Data']
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise malformed(file, error) from error
    for key, default in STYLES.items():
        style = str(dataset.get(key, default)).lower()
        if styles_seen.setdefault(key, (style, file))[0] != style:
            first_style, first_file = styles_seen[key]
            raise TrainingSetError(f'{file}: mixed units, {key} is {style!r} here but {first_style!r} in {first_file}')
    if styles_seen['AtomTypeStyle'][0] != 'chemicalsymbol':
        raise TrainingSetError(f'{file}: AtomTypeStyle must be chemicalsymbol')
    try:
        factors = {key: fitsnap_style_factor(key, styles_seen[key][0]) for key in STYLES if key != 'AtomTypeStyle'}
    except UnitError as error:
        raise TrainingSetError(f'{file}: {error}') from error
    frames = []
    for index, record in enumerate(records):
        where = f'{file}#{index}' if len(records) > 1 else str(file)
        try:
            numbers = symbols_to_numbers(record['AtomTypes'], where)
            stress = record.get('Stress')
            frames.append(
                Frame(
                    cell=np.asarray(record['Lattice'], float) * factors['LatticeStyle'],
                    numbers=numbers,
                    positions=np.asarray(record['Positions'], float) * factors['PositionsStyle'],
                    energy=None if record.get('Energy') is None else float(record['Energy']) * factors['EnergyStyle'],
                    forces=None
                    if record.get('Forces') is None
                    else np.asarray(record['Forces'], float) * factors['ForcesStyle'],
                    stress=None if stress is None else np.asarray(stress, float) * factors['StressStyle'],
                    group=group,
                    source=where,
                )
            )
        except KeyError as error:
            raise TrainingSetError(f'{where}: missing key {error} in FitSNAP JSON record') from error
        except (TypeError, ValueError) as error:
            raise malformed(where, error) from error
    return frames


def write(frames: Frames, directory: Path) -> list[Path]:
    """Write ``directory/<group>/<group>_<i>.json``; stress as bar, pressure sign."""
    directory = Path(directory)
    written = []
    counters: dict = {}
    for frame in frames.to_frames():
        counters[frame.group] = counters.get(frame.group, 0) + 1
        target = directory / _safe(frame.group) / f'{_safe(frame.group)}_{counters[frame.group]}.json'
        written.append(write_file(target, frame))
    return written


def write_file(target: Path, frame: Frame, stress_placeholder: bool = False) -> Path:
    """One FitSNAP JSON file for ``frame``. Without a stress, ``stress_placeholder`` writes
    zeros (FitSNAP reads a stress from every file; give such files a zero stress weight)."""
    record = {
        'Positions': frame.positions.tolist(),
        'Lattice': frame.cell.tolist(),
        'AtomTypes': [_symbol(z) for z in frame.numbers],
        'NumAtoms': len(frame.numbers),
        'Energy': frame.energy,
    }
    if frame.forces is not None:
        record['Forces'] = frame.forces.tolist()
    if frame.stress is not None:
        record['Stress'] = stress_to(frame.stress, 'bar', 'pressure').tolist()
    elif stress_placeholder:
        record['Stress'] = [[0.0] * 3 for _ in range(3)]
    dataset = {'Data': [record], 'Label': f'{frame.group} exported by aiida-mlpgen', **STYLES}
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('# exported by aiida-mlpgen\n' + json.dumps({'Dataset': dataset}))
    return target


def _symbol(number) -> str:
    from ase.data import chemical_symbols

    return chemical_symbols[int(number)]


def _safe(name: str) -> str:
    cleaned = ''.join(c if c.isalnum() or c in '-_.+' else '_' for c in str(name)).strip('.')
    return cleaned or 'default'
