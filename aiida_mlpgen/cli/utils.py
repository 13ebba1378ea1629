"""Helpers for the ``mlpgen`` commands."""

import click


def echo_table(rows, headers) -> None:
    from tabulate import tabulate

    click.echo(tabulate(rows, headers=headers, tablefmt='simple', disable_numparse=True))


def load_typed(identifier: str, cls, what: str):
    """A node of class ``cls`` by PK, label or UUID (prefix); a click error otherwise.

    A label wins over a UUID prefix: a label such as ``fcc`` or ``bcc1`` is also valid hex and
    may begin the UUID of some unrelated node. Digits are a PK first, then a label.
    """
    from aiida import orm
    from aiida.common.exceptions import MultipleObjectsError, NotExistent

    def by_label():
        matches = orm.QueryBuilder().append(cls, subclassing=True, filters={'label': identifier}).all(flat=True)
        return matches[0] if len(matches) == 1 else None

    def by_pk_or_uuid():
        try:
            return orm.load_node(identifier)
        except (NotExistent, MultipleObjectsError, ValueError):
            return None

    lookups = (by_pk_or_uuid, by_label) if str(identifier).isdigit() else (by_label, by_pk_or_uuid)
    node = next((found for found in (lookup() for lookup in lookups) if found is not None), None)
    if node is None:
        raise click.BadParameter(f'no single {what} with PK, UUID or label {identifier!r}')
    if not isinstance(node, cls):
        raise click.BadParameter(f'node {identifier} is a {type(node).__name__}, not a {what}')
    return node


def load_training_set(identifier: str):
    """A TrainingSetData by PK, UUID (prefix) or label; a click error otherwise."""
    from aiida_mlpgen.data import TrainingSetData

    return load_typed(identifier, TrainingSetData, 'TrainingSetData')


def summary_rows(node) -> list:
    """The rows of ``mlpgen show`` for a TrainingSetData."""
    low, high = node.energy_per_atom_range
    split = node.split_counts
    dft = node.dft_settings
    rows = [
        ('PK / UUID', f'{node.pk} / {node.uuid}'),
        ('label', node.label or '-'),
        ('structures', node.n_structures),
        ('atoms', node.n_atoms),
        ('elements', ' '.join(node.elements)),
        ('groups', ', '.join(f'{g} ({n})' for g, n in node.group_counts.items())),
        ('split', f'train {split["train"]}, validation {split["validation"]}, unassigned {split["unassigned"]}'),
        ('energy per atom (eV)', f'{low:.4f} .. {high:.4f}'),
        ('forces', 'yes' if node.has_forces else 'no'),
        ('stress', f'{node.base.attributes.get("n_with_stress")} of {node.n_structures} structures'),
        ('DFT settings', ', '.join(f'{k}={v}' for k, v in dft.items()) if dft else 'not stated in the files'),
        ('content hash', node.content_hash),
    ]
    return rows


def load_code(label: str):
    """The code ``label`` (e.g. fitsnap@localhost); a click error naming it otherwise."""
    from aiida import orm
    from aiida.common.exceptions import MultipleObjectsError, NotExistent

    try:
        return orm.load_code(label)
    except (NotExistent, MultipleObjectsError, ValueError) as error:
        message = f'no code {label!r} ({error}); `verdi code list` shows the codes'
        raise click.BadParameter(message, param_hint='--code') from None


def output_directory(path) -> tuple:
    """``path`` as a directory files can be written to, created now so that nothing runs before
    a bad output path is found: (Path, whether it was created here)."""
    from pathlib import Path

    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise click.BadParameter(f'{directory} exists and is not a directory', param_hint='output directory')
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / '.mlpgen-write-test'
        probe.write_bytes(b'')
        probe.unlink()
    except OSError as error:
        raise click.BadParameter(
            f'cannot write to {directory}: {error.strerror or error}', param_hint='output'
        ) from None
    return directory, created


def check_label(label) -> None:
    """A node label is one printable line of at most 255 characters."""
    if label is not None and (len(label) > 255 or not label.isprintable()):
        raise click.BadParameter('a label is one printable line of at most 255 characters', param_hint='--label')
