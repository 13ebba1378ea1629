"""``mlpgen import / list / show / export``: training data in the AiiDA database."""

import click

from .root import cmd_root
from .utils import check_label, echo_table, load_training_set, output_directory, summary_rows

FORMAT_HELP = (
    'fitsnap-json, mlearn-json, n2p2, pacemaker, extxyz, vasp-out, vasp-xml, espresso-out, ase '
    '(detected from the name when omitted)'
)


@cmd_root.command('import')
@click.argument('paths', nargs=-1, required=True, type=click.Path(exists=True))
@click.option('-f', '--format', 'fmt', default=None, help=f'Input format: {FORMAT_HELP}.')
@click.option('-l', '--label', default=None, help='Label of the new TrainingSetData node.')
@click.option('-g', '--group', default=None, help='Group label for all structures (default: from the files).')
@click.option('--length-unit', default=None, help='n2p2 only: length unit of the file (angstrom, bohr).')
@click.option('--energy-unit', default=None, help='n2p2 only: energy unit of the file (ev, hartree).')
@click.option('--allow-duplicates', is_flag=True, help='Keep duplicated structures (warns).')
@click.option('--allow-inconsistent-dft', is_flag=True, help='Accept differing DFT settings (warns).')
@click.option('--energy-only', is_flag=True, help='Accept structures without forces (fits must leave forces out).')
@click.option('--molecular', is_flag=True, help='Accept structures that are not periodic (molecules, clusters).')
@click.option(
    '--allow-extreme-values', is_flag=True, help='Accept energies, forces, stresses beyond the sanity bounds.'
)
@click.option(
    '--trust-pickle',
    is_flag=True,
    help='Load pacemaker pickles with pandas (runs code in the file: trusted files only).',
)
def cmd_import(
    paths,
    fmt,
    label,
    group,
    length_unit,
    energy_unit,
    allow_duplicates,
    allow_inconsistent_dft,
    energy_only,
    molecular,
    allow_extreme_values,
    trust_pickle,
):
    """Import DFT training data from PATHS into one TrainingSetData node.

    Nothing is stored unless every structure of every path passes the checks.
    """
    from aiida_mlpgen.data import TrainingSetData, TrainingSetError
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    check_label(label)
    options = {k: v for k, v in {'length_unit': length_unit, 'energy_unit': energy_unit}.items() if v}
    if trust_pickle:
        options['trust_pickle'] = True
    try:
        node = TrainingSetData.from_file(
            list(paths),
            fmt,
            group=group,
            allow_duplicates=allow_duplicates,
            allow_inconsistent_dft=allow_inconsistent_dft,
            energy_only=energy_only,
            molecular=molecular,
            allow_extreme_values=allow_extreme_values,
            **options,
        )
    except TrainingSetError as error:
        raise click.ClickException(str(error)) from error
    if label:
        node.label = label
    node.store()
    click.echo(
        f'Imported TrainingSetData<{node.pk}>: {node.n_structures} structures, {node.n_atoms} atoms, '
        f'elements {" ".join(node.elements)}, {len(node.groups)} groups'
    )


@cmd_root.command('list')
def cmd_list():
    """List the training sets in the database."""
    from aiida import orm

    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    query = orm.QueryBuilder().append(TrainingSetData, project=['*'], tag='t').order_by({'t': 'id'})
    rows = [
        (
            n.pk,
            n.label or '-',
            n.n_structures,
            n.n_atoms,
            ' '.join(n.elements),
            len(n.groups),
            n.ctime.strftime('%Y-%m-%d %H:%M'),
        )
        for n in query.all(flat=True)
    ]
    if not rows:
        click.echo('No training set yet: `mlpgen import PATH` adds one.')
        return
    echo_table(rows, ['PK', 'label', 'structures', 'atoms', 'elements', 'groups', 'created'])


@cmd_root.command('show')
@click.argument('identifier')
def cmd_show(identifier):
    """Summary of the training set IDENTIFIER (PK, UUID or label)."""
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    echo_table(summary_rows(load_training_set(identifier)), ['', ''])


@cmd_root.command('export')
@click.argument('identifier')
@click.argument('directory', type=click.Path(file_okay=False))
@click.option(
    '-f',
    '--format',
    'fmt',
    required=True,
    type=click.Choice(['extxyz', 'fitsnap-json', 'mlearn-json', 'n2p2', 'pacemaker']),
    help='Output format (what FitSNAP, pacemaker and n2p2 read).',
)
def cmd_export(identifier, directory, fmt):
    """Write the training set IDENTIFIER to DIRECTORY in a given format."""
    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    node = load_training_set(identifier)
    directory = output_directory(directory)[0]
    written = node.export(directory, fmt)
    click.echo(f'Wrote {len(written)} file(s) to {directory}')
