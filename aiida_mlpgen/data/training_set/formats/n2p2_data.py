"""n2p2 ``input.data``: begin / comment / lattice / atom / energy / charge / end blocks.

n2p2 has no fixed units; the importer takes ``length_unit`` and ``energy_unit`` (default
Å and eV; use bohr / hartree for sets prepared in atomic units). No stress in this format.
Groups, weights and split tags travel in the comment line as ``key=value`` words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.data import chemical_symbols

from aiida_mlpgen.common.units import UnitError, energy_factor, length_factor

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from ._common import as_number, malformed, symbols_to_numbers

#: n2p2 marks the structure's set on the begin line; our validation set is its test set.
N2P2_SETS = {'set=train': 'train', 'set=test': 'validation'}
_BEGIN = {name: 'begin ' + word for word, name in N2P2_SETS.items()}


def read(
    path: Path, group: str | None = None, length_unit: str = 'angstrom', energy_unit: str = 'ev', **_
) -> list[Frame]:
    path = Path(path)
    try:
        to_a, to_ev = length_factor(length_unit), energy_factor(energy_unit)
    except UnitError as error:
        raise TrainingSetError(f'{path}: {error}') from error
    frames, block, start = [], None, 0
    with open(path, errors='replace') as handle:
        for number, line in enumerate(handle, 1):
            words = line.split()
            if not words:
                continue
            keyword = words[0]
            if keyword == 'begin':
                if block is not None:
                    raise TrainingSetError(f'{path}:{number}: "begin" inside an open configuration (line {start})')
                block, start = {'lattice': [], 'atoms': [], 'energy': None, 'comment': '', 'set': None}, number
                for word in words[1:]:
                    if word not in N2P2_SETS:
                        raise TrainingSetError(f'{path}:{number}: unknown word {word!r} after "begin"')
                    block['set'] = N2P2_SETS[word]
            elif block is None:
                raise TrainingSetError(f'{path}:{number}: {keyword!r} outside a begin/end block')
            elif keyword == 'end':
                frames.append(_frame(block, f'{path}#{len(frames)}', group, to_a, to_ev))
                block = None
            elif keyword == 'comment':
                block['comment'] = line.split(None, 1)[1].strip() if len(words) > 1 else ''
            elif keyword == 'lattice':
                block['lattice'].append(_floats(words[1:4], path, number))
            elif keyword == 'atom':
                if len(words) < 10:
                    raise TrainingSetError(f'{path}:{number}: atom line needs 9 values, found {len(words) - 1}')
                block['atoms'].append((words[4], _floats(words[1:4], path, number), _floats(words[7:10], path, number)))
            elif keyword == 'energy':
                if block['energy'] is not None:
                    raise TrainingSetError(f'{path}:{number}: a second "energy" line (configuration of line {start})')
                block['energy'] = _floats(words[1:2], path, number)[0]
            elif keyword != 'charge':
                raise TrainingSetError(f'{path}:{number}: unknown keyword {keyword!r}')
    if block is not None:
        raise TrainingSetError(f'{path}: malformed or truncated file, configuration from line {start} has no "end"')
    return frames


def _floats(words, path, number) -> list[float]:
    try:
        return [float(w) for w in words]
    except ValueError as error:
        raise malformed(f'{path}:{number}', error) from error


def _frame(block: dict, where: str, group, to_a: float, to_ev: float) -> Frame:
    tags = dict(word.split('=', 1) for word in block['comment'].split() if '=' in word)
    lattice = block['lattice']
    if len(lattice) not in (0, 3):
        raise TrainingSetError(f'{where}: {len(lattice)} lattice lines, expected 0 or 3')
    if not block['atoms']:
        raise TrainingSetError(f'{where}: structure has no atoms')
    symbols, positions, forces = zip(*block['atoms'], strict=True)
    stress = None
    if 'stress' in tags:
        try:
            stress = np.array([float(x) for x in tags['stress'].split(',')]).reshape(3, 3) * (to_ev / to_a**3)
        except ValueError as error:
            raise malformed(where, error) from error
    periodic = len(lattice) == 3
    return Frame(
        cell=np.asarray(lattice, float) * to_a if periodic else np.zeros((3, 3)),
        pbc=(periodic,) * 3,
        numbers=symbols_to_numbers(symbols, where),
        positions=np.asarray(positions, float) * to_a,
        energy=None if block['energy'] is None else block['energy'] * to_ev,
        forces=np.asarray(forces, float) * (to_ev / to_a),
        stress=stress,
        group=group or tags.get('group', 'default'),
        weight=as_number(tags.get('weight', 1.0), 'weight', where),
        split=block['set'] or tags.get('split', 'unassigned'),
        source=where,
    )


def write(frames: Frames, path: Path, length_unit: str = 'angstrom', energy_unit: str = 'ev') -> list[Path]:
    """input.data in ``length_unit`` and ``energy_unit`` (e.g. bohr, hartree for potentials
    trained in atomic units); the set's groups, weights, splits and stresses ride in the comment."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path.mkdir(parents=True, exist_ok=True)
        path = path / 'input.data'
    length, energy = 1.0 / length_factor(length_unit), 1.0 / energy_factor(energy_unit)  # Å -> unit, eV -> unit
    lines = []
    for frame in frames.to_frames():
        group = ''.join(c if c.isalnum() or c in '-_.+' else '_' for c in frame.group)  # checks.GROUP_NAME
        comment = f'comment group={group} weight={frame.weight!r} split={frame.split}'
        if frame.stress is not None:
            stress = frame.stress.reshape(-1) * energy / length**3
            comment += ' stress=' + ','.join(repr(x) for x in stress.tolist())
        lines += [_BEGIN.get(frame.split, 'begin'), comment]
        if any(frame.pbc):
            lines += ['lattice {!r} {!r} {!r}'.format(*map(float, vector)) for vector in frame.cell * length]
        forces = frame.forces if frame.forces is not None else np.zeros_like(frame.positions)
        positions, forces = (frame.positions * length).tolist(), (forces * energy / length).tolist()
        for z, r, f in zip(frame.numbers.tolist(), positions, forces, strict=True):
            lines.append(f'atom {r[0]!r} {r[1]!r} {r[2]!r} {chemical_symbols[z]} 0.0 0.0 {f[0]!r} {f[1]!r} {f[2]!r}')
        lines += [f'energy {frame.energy * energy!r}', 'charge 0.0', 'end']
    path.write_text('\n'.join(lines) + '\n')
    return [path]
