"""``mlpgen potential import``: bring existing potentials into the database."""

import click

from .root import cmd_root


@cmd_root.group('potential')
def cmd_potential():
    """Potentials in the database."""


def _importable(ctx, param, value):
    from aiida_mlpgen import potential_types

    known = [t.name for t in potential_types.all_types() if t.potential_data]
    if value not in known:
        raise click.BadParameter(f'{value!r} is not one of {", ".join(known)}')
    return value


@cmd_potential.command('import')
@click.argument('kind', callback=_importable)
@click.argument('files', nargs=-1, required=True, type=click.Path(exists=True))
@click.option('--zbl', nargs=2, type=float, default=None, help='SNAP: overlay ZBL with inner and outer cutoff (Å).')
@click.option(
    '--cflength',
    type=float,
    default=None,
    help='NNP: length conversion Å -> potential units (1.8897261 for Bohr; default 1).',
)
@click.option(
    '--cfenergy',
    type=float,
    default=None,
    help='NNP: energy conversion eV -> potential units (0.0367493 for Hartree; default 1).',
)
@click.option('--epoch', type=int, default=None, help='NNP: take the weights.ZZZ.EEEEEE.out of this epoch.')
@click.option('-l', '--label', default=None, help='Label of the new node.')
def cmd_potential_import(kind, files, zbl, cflength, cfenergy, epoch, label):
    """Import a potential of type KIND from FILES (see `mlpgen potential types`)."""
    import inspect

    from aiida_mlpgen import potential_types
    from aiida_mlpgen.data.potentials import PotentialError
    from aiida_mlpgen.embedded import ensure_ready

    from .utils import check_label

    ensure_ready()
    check_label(label)
    potential_class = potential_types.get(kind).potential_class()
    given = {
        k: v
        for k, v in (('zbl', zbl), ('cflength', cflength), ('cfenergy', cfenergy), ('epoch', epoch))
        if v is not None
    }
    accepted = inspect.signature(potential_class.from_paths).parameters
    foreign = [f'--{k}' for k in given if k not in accepted]
    if foreign:
        raise click.BadParameter(f'{", ".join(foreign)} does not apply to {kind}', param_hint='options')
    try:
        node = potential_class.from_paths(files, **given)
    except PotentialError as error:
        raise click.ClickException(f'{kind}: {error}') from error
    node.label = label or ''
    node.store()
    click.echo(
        f'Imported {type(node).__name__}<{node.pk}>: elements {" ".join(node.elements)}, cutoff {node.cutoff:.3f} Å'
    )
    for line in node.lammps_lines():
        click.echo(f'  {line}')


@cmd_potential.command('types')
def cmd_potential_types():
    """The potential types and the files `mlpgen potential import TYPE` takes."""
    from aiida_mlpgen import potential_types

    for potential_type in potential_types.all_types():
        click.echo(f'{potential_type.name:8s} {potential_type.import_help or "(no import)"}')


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
        rows.append(
            (
                node.pk,
                type(node).__name__,
                ' '.join(node.elements),
                f'{node.cutoff:.3f}',
                f'{creator.process_label}<{creator.pk}>' if creator else 'imported',
                node.ctime.strftime('%Y-%m-%d %H:%M'),
            )
        )
    if not rows:
        click.echo('No potential yet: `mlpgen fit TYPE ID` or `mlpgen potential import` adds one.')
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

    from .utils import load_typed, output_directory

    ensure_ready()
    node = load_typed(identifier, PotentialData, 'potential')
    directory = output_directory(directory)[0]
    try:
        mod = node.write_lammps(directory, relative=relative)
    except PotentialError as error:  # an ASE-only potential has no LAMMPS lines
        raise click.ClickException(str(error)) from error
    click.echo(
        f'{type(node).__name__}<{node.pk}>: {", ".join(node.filenames) or "no files"} and {mod.name} '
        f'written to {directory}'
    )
    click.echo(f'LAMMPS: include {mod.resolve() if not relative else mod.name}')
