"""``mlpgen potential import``: bring existing potentials into the database."""

import click

from .root import cmd_root


@cmd_root.group('potential')
def cmd_potential():
    """Potentials in the database."""


@cmd_potential.command('import')
@click.argument('kind', type=click.Choice(['snap']))
@click.argument('files', nargs=2, type=click.Path(exists=True, dir_okay=False))
@click.option('--zbl', nargs=2, type=float, default=None, help='Overlay ZBL with inner and outer cutoff (Å).')
@click.option('-l', '--label', default=None, help='Label of the new node.')
def cmd_potential_import(kind, files, zbl, label):
    """Import a SNAP potential from its .snapcoeff and .snapparam FILES (legacy keys are dropped)."""
    from aiida_mlpgen.data.potentials import PotentialError, SnapPotentialData
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    try:
        node = SnapPotentialData.from_files(*files, zbl=zbl)
    except PotentialError as error:
        raise click.ClickException(str(error)) from error
    node.label = label or ''
    node.store()
    click.echo(f'Imported SnapPotentialData<{node.pk}>: elements {" ".join(node.elements)}, cutoff {node.cutoff:.3f} Å')
    for line in node.lammps_lines():
        click.echo(f'  {line}')
