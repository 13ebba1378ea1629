"""``mlpgen status [PK]``: the processes of aiida-mlpgen and their progress."""

from __future__ import annotations

from datetime import UTC

import click

from .root import cmd_root
from .utils import echo_table

#: process types of aiida-mlpgen's entry points
OUR_PREFIXES = ('aiida.calculations:mlpgen.', 'aiida.workflows:mlpgen.')


def is_ours(node) -> bool:
    """Started by aiida-mlpgen: an entry point of ours, or called by a process of ours."""
    while node is not None:
        if (node.process_type or '').startswith(OUR_PREFIXES):
            return True
        node = node.caller
    return False


def progress_of(node) -> str:
    """What a process is doing: its published progress, else its process status; for an ended
    one its outcome."""
    from aiida_mlpgen.calculations.progress import published

    if node.is_terminated:
        if node.is_finished:
            return 'finished' if node.exit_status == 0 else f'failed [{node.exit_status}] {node.exit_message or ""}'
        return node.process_state.value
    return published(node) or node.process_status or ''


def deepest_progress(node) -> str:
    """The progress of a running process, or else that of what it runs now (a work chain that
    waits on a fit shows the fit's iteration)."""
    from aiida_mlpgen.calculations.progress import published

    if node.is_terminated:
        return progress_of(node)
    own = published(node)
    for child in sorted(node.called, key=lambda n: -n.pk):
        if not child.is_terminated:
            below = deepest_progress(child)
            if below:
                return f'{own}; {child.process_label}: {below}' if own else f'{child.process_label}: {below}'
    return own or node.process_status or ''


def _age(ctime) -> str:
    from datetime import datetime

    from aiida_mlpgen.common.progress_file import duration

    return duration((datetime.now(UTC) - ctime).total_seconds())


def _state(node) -> str:
    return node.process_state.value.capitalize() if node.process_state else '?'


def tree_rows(node, depth: int = 0) -> list[tuple]:
    """``node`` and, below it, the processes it called that still run (with their own
    callees); finished callees are counted, not listed."""
    rows = [(str(node.pk), '  ' * depth + node.process_label, _state(node), _age(node.ctime), progress_of(node))]
    children = sorted(node.called, key=lambda n: n.pk)
    running = [c for c in children if not c.is_terminated]
    ended = [c for c in children if c.is_terminated]
    if ended:
        failed = sum(1 for c in ended if not c.is_finished_ok)
        text = f'{len(ended)} ended' + (f', {failed} of them failed or killed' if failed else '')
        rows.append(('', '  ' * (depth + 1) + '...', '', '', text))
    for child in running:
        rows += tree_rows(child, depth + 1)
    return rows


@cmd_root.command('status')
@click.argument('identifier', required=False)
@click.option('-a', '--all', 'show_all', is_flag=True, help='Also processes that have ended.')
@click.option('--limit', type=click.IntRange(min=1), default=20, show_default=True, help='At most this many rows.')
def cmd_status(identifier, show_all, limit):
    """The running processes of aiida-mlpgen with their progress (iteration, epoch, trial,
    labels done); with IDENTIFIER (PK or UUID) that process and what it runs now."""
    from aiida import orm

    from aiida_mlpgen.embedded import ensure_ready

    from .utils import load_typed

    ensure_ready()
    headers = ('PK', 'Process', 'State', 'Age', 'Progress')
    if identifier:
        node = load_typed(identifier, orm.ProcessNode, 'process')
        if not is_ours(node):
            raise click.ClickException(
                f'{node.process_label}<{node.pk}> is not a process of aiida-mlpgen: `verdi process show {node.pk}`'
            )
        echo_table(tree_rows(node), headers)
        return
    query = orm.QueryBuilder().append(
        orm.ProcessNode,
        filters={'or': [{'process_type': {'like': f'{prefix}%'}} for prefix in OUR_PREFIXES]},
        tag='process',
    )
    if not show_all:
        query.add_filter('process', {'attributes.process_state': {'in': ['created', 'waiting', 'running']}})
    query.order_by({'process': {'ctime': 'desc'}}).limit(limit)
    nodes = [n for n in query.all(flat=True) if show_all or n.caller is None or n.caller.is_terminated]
    if not nodes:
        click.echo('no process of aiida-mlpgen is running' + ('' if show_all else ' (--all shows ended ones)'))
        return
    rows = [(str(n.pk), n.process_label, _state(n), _age(n.ctime), deepest_progress(n)) for n in reversed(nodes)]
    echo_table(rows, headers)
