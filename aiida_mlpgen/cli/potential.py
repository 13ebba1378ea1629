"""``mlpgen potential import``: bring existing potentials into the database."""

import click

from .root import cmd_root


@cmd_root.group('potential')
def cmd_potential():
    """Potentials in the database."""


@cmd_potential.command('import')
@click.argument('kind', type=click.Choice(['snap', 'ace']))
@click.argument('files', nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option('--zbl', nargs=2, type=float, default=None, help='SNAP: overlay ZBL with inner and outer cutoff (Å).')
@click.option('-l', '--label', default=None, help='Label of the new node.')
def cmd_potential_import(kind, files, zbl, label):
    """Import a potential: snap COEFF PARAM (legacy keys are dropped) or ace YAML|YACE."""
    from aiida_mlpgen.data.potentials import AcePotentialData, PotentialError, SnapPotentialData
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    expected = {'snap': 2, 'ace': 1}[kind]
    if len(files) != expected:
        raise click.BadParameter(f'{kind} takes {expected} file(s), got {len(files)}', param_hint='FILES')
    try:
        node = SnapPotentialData.from_files(*files, zbl=zbl) if kind == 'snap' else AcePotentialData.from_yaml(files[0])
    except PotentialError as error:
        raise click.ClickException(str(error)) from error
    node.label = label or ''
    node.store()
    click.echo(f'Imported {type(node).__name__}<{node.pk}>: elements {" ".join(node.elements)}, '
               f'cutoff {node.cutoff:.3f} Å')
    for line in node.lammps_lines():
        click.echo(f'  {line}')


@cmd_potential.command('list')
def cmd_potential_list():
    """List the potentials in the database, with the process that made each one."""
    from aiida import orm

    from aiida_mlpgen.data.potentials import PotentialData
    from aiida_mlpgen.embedded import ensure_ready

    from .utils import echo_table

    ensure_ready()
    query = orm.QueryBuilder().append(PotentialData, subclassing=True, tag='p').order_by({'p': 'id'})
    rows = []
    for (node,) in query.iterall():
        creator = node.creator
        rows.append((node.pk, type(node).__name__, ' '.join(node.elements), f'{node.cutoff:.3f}',
                     f'{creator.process_label}<{creator.pk}>' if creator else 'imported',
                     node.ctime.strftime('%Y-%m-%d %H:%M')))
    if not rows:
        click.echo('No potential yet: `mlpgen fit snap|ace ID` or `mlpgen potential import` adds one.')
        return
    echo_table(rows, ['PK', 'type', 'elements', 'cutoff (Å)', 'made by', 'created'])
