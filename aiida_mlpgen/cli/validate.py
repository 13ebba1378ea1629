"""``mlpgen validate``: material properties of a potential, compared with DFT values."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .progress_bar import ProgressLine
from .root import cmd_root
from .submit import submit_option, submit_process
from .utils import load_code

DEFAULT_CODES = {'lammps': 'lammps@localhost', 'ase': 'properties@localhost'}


def _potential(identifier: str, elements: list[str]):
    """A stored potential, or ``ase:module:Class`` (an ASE calculator, e.g. ase:ase.calculators.emt:EMT;
    unstored until a process takes it, so a refused run leaves no node behind)."""
    from aiida_mlpgen.data.potentials import AseCalculatorPotentialData, PotentialData, PotentialError

    from .utils import load_typed

    if identifier.startswith('ase:'):
        try:
            return AseCalculatorPotentialData(identifier[4:], elements)  # stored by the process that takes it
        except PotentialError as error:
            raise click.BadParameter(str(error)) from error
    return load_typed(identifier, PotentialData, 'potential')


def _structure(text: str):
    """A structure file ASE reads (cif, POSCAR, extxyz, ...) or a StructureData identifier."""
    from aiida import orm

    from .utils import load_typed

    if Path(text).is_file():
        from ase.io import read

        try:
            return orm.StructureData(ase=read(text))
        except Exception as error:  # noqa: BLE001 - ASE raises many kinds
            raise click.BadParameter(f'{text}: not a structure ASE can read ({error})') from error
    return load_typed(text, orm.StructureData, 'StructureData')


def _json_option(text: str | None, what: str) -> dict:
    if not text:
        return {}
    try:
        return json.loads(text if text.lstrip().startswith('{') else Path(text).read_text())
    except (OSError, ValueError) as error:
        raise click.BadParameter(f'{what}: neither a JSON file nor JSON text ({error})') from error


@cmd_root.command('validate')
@click.argument('potential')
@click.argument('structure')
@click.option(
    '--properties',
    default='eos,elastic',
    show_default=True,
    help='Comma-separated: eos, elastic, vacancy, interstitial, surface:HKL, gsf:HKL:UVW, phonons, '
    'phases, thermal_expansion.',
)
@click.option('--engine', type=click.Choice(['lammps', 'ase']), default='lammps', show_default=True)
@click.option(
    '--settings',
    default=None,
    help='JSON (text or file): settings per property, e.g. \'{"vacancy": {"supercell": [4, 4, 4]}}\'.',
)
@click.option('--phase', 'phases', multiple=True, metavar='NAME=STRUCTURE', help='Another phase (for "phases").')
@click.option('--reference', default=None, help='JSON (text or file) of DFT values under the output keys.')
@click.option(
    '--reference-potential',
    default=None,
    help='A potential (or ase:module:Class) whose values are the reference (ASE engine).',
)
@click.option(
    '--dft',
    default=None,
    help='Compute the DFT reference (equation of state) with this labeller: quantumespresso or ase:MODULE:CLASS.',
)
@click.option('--pseudo-family', default=None, help='For --dft quantumespresso: the aiida-pseudo family.')
@click.option('--dft-settings', default=None, help='For --dft: labeller settings, JSON text or file.')
@click.option('--dft-code', default=None, help='For --dft: the labeller code (default pw@localhost).')
@click.option('--code', default=None, help="The engine's code (default lammps@localhost / properties@localhost).")
@click.option(
    '--json',
    'json_out',
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the potential's values (stable keys) to this file.",
)
@click.option('--output-dir', type=click.Path(file_okay=False), default=None, help='Write report and plots here.')
@submit_option
def cmd_validate(
    potential,
    structure,
    properties,
    engine,
    settings,
    phases,
    reference,
    reference_potential,
    dft,
    pseudo_family,
    dft_settings,
    dft_code,
    code,
    json_out,
    output_dir,
    submit,
):
    """Compute properties of STRUCTURE with POTENTIAL (PK, UUID, label or ase:module:Class)
    and compare them with a reference; the structure is a file or a StructureData."""
    from aiida import orm

    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    from .interrupt import run_interruptible as run_get_node

    if submit and (json_out or output_dir):
        raise click.UsageError(
            '--json/--output-dir go with a foreground run; `verdi process show PK` lists the outputs'
        )
    setup()  # the embedded profile and the localhost codes, where missing
    structure_node = _structure(structure)
    elements = sorted(set(structure_node.get_kind_names()))
    inputs = {
        'potential': _potential(potential, elements),
        'structure': structure_node,
        'properties': orm.List([p.strip() for p in properties.split(',') if p.strip()]),
        'engine': orm.Str(engine),
        'code': load_code(code or DEFAULT_CODES[engine]),
    }
    if settings:
        inputs['settings'] = orm.Dict(_json_option(settings, '--settings'))
    if phases:
        inputs['phases'] = {}
        for item in phases:
            name, _, where = item.partition('=')
            if not name.isidentifier() or not where:
                raise click.BadParameter(f'{item!r}: expected NAME=STRUCTURE', param_hint='--phase')
            inputs['phases'][name] = _structure(where)
    if reference:
        inputs['reference'] = orm.Dict(_json_option(reference, '--reference'))
    if reference_potential:
        inputs['reference_potential'] = _potential(reference_potential, elements)
        inputs['reference_code'] = orm.load_code(DEFAULT_CODES['ase'])
    if dft:
        from .generate import labeller_inputs

        inputs['dft_reference'] = labeller_inputs(dft, pseudo_family, dft_settings, dft_code)
    try:
        if submit:
            submit_process(ValidationWorkChain, then='verdi process show {pk}', **inputs)
            return
        with ProgressLine('validation'):
            results, node = run_get_node(ValidationWorkChain, **inputs)
    except ValueError as error:  # the input validator: nothing was run
        raise click.ClickException(str(error).split('\n')[-1].strip() or str(error)) from error
    if 'report' in results:
        click.echo(results['report'].get_content())
    if not node.is_finished_ok:
        click.echo(f'ValidationWorkChain<{node.pk}> finished with [{node.exit_status}] {node.exit_message}', err=True)
    if json_out and 'values' in results:
        Path(json_out).write_text(json.dumps(results['values'].get_dict(), indent=2, sort_keys=True) + '\n')
        click.echo(f'values written to {json_out}')
    if output_dir and 'plots' in results:
        target = Path(output_dir)
        target.mkdir(parents=True, exist_ok=True)
        (target / 'validation.txt').write_text(results['report'].get_content())
        for name in results['plots'].base.repository.list_object_names():
            (target / name).write_bytes(results['plots'].base.repository.get_object_content(name, mode='rb'))
        click.echo(f'report and plots written to {target}')
    if not node.is_finished_ok:
        raise SystemExit(1)


@cmd_root.command('lammps-packages')
@click.argument('code')
@click.argument('packages', nargs=-1)
def cmd_lammps_packages(code, packages):
    """Show or record the LAMMPS packages of CODE (e.g. lammps@cluster ML-SNAP ML-PACE).

    Validation reads what is recorded here (the code's extra ``lammps_packages``; ``mlpgen
    setup`` records it for the local LAMMPS); a local code without a record is asked (``lmp -h``)
    and the answer recorded; a code without one is trusted until LAMMPS meets a pair style it lacks."""

    from aiida_mlpgen.embedded import ensure_ready

    ensure_ready()
    node = load_code(code)
    if packages:
        node.base.extras.set('lammps_packages', sorted(set(packages)))
        click.echo(f'{node.full_label}: recorded {" ".join(sorted(set(packages)))}')
        return
    recorded = node.base.extras.get('lammps_packages', None)
    if recorded is not None:
        click.echo(f'{node.full_label} (recorded): {" ".join(recorded)}')
    elif node.computer is not None and node.computer.transport_type == 'core.local':
        from aiida_mlpgen.embedded import lammps_extras

        found = lammps_extras(str(node.get_executable())).get('lammps_packages')
        if found is None:
            raise click.ClickException(f'{node.full_label}: `lmp -h` did not list installed packages')
        node.base.extras.set('lammps_packages', found)
        click.echo(f'{node.full_label} (lmp -h, now recorded): {" ".join(found)}')
    else:
        click.echo(f'{node.full_label}: nothing recorded; record with: mlpgen lammps-packages {code} PACKAGE...')
