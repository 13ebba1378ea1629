"""``mlpgen potential import``: bring existing potentials into the database."""

import click

from .root import cmd_root


@cmd_root.group('potential')
def cmd_potential():
    """Potentials in the database."""


@cmd_potential.command('import')
@click.argument('kind', type=click.Choice(['snap', 'ace', 'nnp']))
@click.argument('files', nargs=-1, required=True, type=click.Path(exists=True))
@click.option('--zbl', nargs=2, type=float, default=None, help='SNAP: overlay ZBL with inner and outer cutoff (Å).')
@click.option('--cflength', type=float, default=1.0, show_default=True,
              help='NNP: length conversion Å -> potential units (1.8897261 for Bohr).')
@click.option('--cfenergy', type=float, default=1.0, show_default=True,
              help='NNP: energy conversion eV -> potential units (0.0367493 for Hartree).')
@click.option('--epoch', type=int, default=None, help='NNP: take the weights.ZZZ.EEEEEE.out of this epoch.')
@click.option('-l', '--label', default=None, help='Label of the new node.')
def cmd_potential_import(kind, files, zbl, cflength, cfenergy, epoch, label):
    """Import a potential: snap COEFF PARAM (legacy keys are dropped), ace YAML|YACE, or
    nnp DIR (n2p2: input.nn, scaling.data, weights.ZZZ.data)."""
    from pathlib import Path

    from aiida_mlpgen.data.potentials import AcePotentialData, NnpPotentialData, PotentialError, SnapPotentialData
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    expected = {'snap': 2, 'ace': 1, 'nnp': 1}[kind]
    if len(files) != expected:
        raise click.BadParameter(f'{kind} takes {expected} path(s), got {len(files)}', param_hint='FILES')
    if (kind == 'nnp') != Path(files[0]).is_dir():
        raise click.BadParameter('nnp takes a directory, snap and ace take files', param_hint='FILES')
    try:
        if kind == 'snap':
            node = SnapPotentialData.from_files(*files, zbl=zbl)
        elif kind == 'ace':
            node = AcePotentialData.from_yaml(files[0])
        else:
            node = NnpPotentialData.from_n2p2(files[0], cflength=cflength, cfenergy=cfenergy, epoch=epoch)
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
        click.echo('No potential yet: `mlpgen fit snap|ace|nnp ID` or `mlpgen potential import` adds one.')
        return
    echo_table(rows, ['PK', 'type', 'elements', 'cutoff (Å)', 'made by', 'created'])


@cmd_potential.command('export')
@click.argument('identifier')
@click.argument('directory', type=click.Path(file_okay=False))
@click.option('--relative', is_flag=True, help='Refer to the files by name in potential.mod (for copying elsewhere).')
def cmd_potential_export(identifier, directory, relative):
    """Write the potential IDENTIFIER (PK, UUID or label): its files and potential.mod for LAMMPS."""
    from aiida_mlpgen.data.potentials import PotentialData, PotentialError
    from aiida_mlpgen.embedded import ensure_ready

    from .utils import load_typed

    ensure_ready()
    node = load_typed(identifier, PotentialData, 'potential')
    try:
        mod = node.write_lammps(directory, relative=relative)
    except PotentialError as error:  # an ASE-only potential has no LAMMPS lines
        raise click.ClickException(str(error)) from error
    click.echo(f'{type(node).__name__}<{node.pk}>: {", ".join(node.filenames) or "no files"} and {mod.name} '
               f'written to {directory}')
    click.echo(f'LAMMPS: include {mod.resolve() if not relative else mod.name}')
