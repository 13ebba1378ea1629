"""n2p2's commented file headers, the input.data structures the engine reads and the
comparison files it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def header(title: list[str], columns: list[tuple[int, str, str]]) -> str:
    """Column table in n2p2's layout; ``columns`` are (width, name, description)."""
    sep = '#' * 80
    width = max(len(name) for _, name, _ in columns)
    lines = [sep, *(f'# {t}' for t in title), sep, f'# {"Col":<4} {"Name":<{width}} Description', sep]
    lines += [f'# {i:<4} {name:<{width}} {info}' for i, (_, name, info) in enumerate(columns, 1)]
    total = sum(w + 1 for w, _, _ in columns) - 1
    lines.append('#' * total if total > 80 else sep)
    sizes = [w - 2 if i == 0 else w for i, (w, _, _) in enumerate(columns)]
    lines.append('#' + ''.join(f' {i:>{n}}' for i, n in enumerate(sizes, 1)))
    lines.append('#' + ''.join(f' {name[:n]:>{n}}' for (_, name, _), n in zip(columns, sizes, strict=True)))
    lines.append('#' * total if total > 80 else sep)
    return '\n'.join(lines) + '\n'


def column_names(path) -> list[str]:
    """Names from an n2p2 header: the last commented line before the data."""
    names = []
    for line in Path(path).read_text().splitlines():
        if not line.startswith('#'):
            break
        words = line[1:].split()
        if words and not set(line) <= {'#'} and not words[0].isdigit() and words[0] != 'Col':
            names = words
    return names


def read_structures(path):
    """Frames of an n2p2 input.data, in the file's units (no conversion)."""
    from aiida_mlpgen.data.training_set.formats import n2p2_data

    return n2p2_data.read(Path(path))


def read_comparison(path, columns: int) -> np.ndarray:
    """n2p2's ``trainpoints``/``testpoints`` (index, Eref, Ennp per atom) or ``trainforces``/
    ``testforces`` (index_s, index_a, Fref, Fnnp) file as an array of ``columns`` columns;
    FileNotFoundError names the file, ValueError a malformed one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path.name)
    try:
        table = np.loadtxt(path, comments='#', ndmin=2)
    except ValueError as error:
        raise ValueError(f'{path.name}: {error}') from error
    if table.size == 0:
        return np.zeros((0, columns))
    if table.shape[1] != columns or not np.isfinite(table).all():
        raise ValueError(f'{path.name}: expected {columns} finite columns, got {table.shape[1]}')
    return table
