"""``mlpgen generate``: a training set from bulk crystals, labelled by a DFT code."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .progress_bar import ProgressLine
from .root import cmd_root
from .submit import submit_option, submit_process
from .utils import check_label, load_code

DEFAULT_CODES = {'quantumespresso': 'pw@localhost', 'ase': 'properties@localhost'}


def labeller_inputs(labeller: str, pseudo_family: str | None, settings: str | None, code: str | None) -> dict:
    """``labeller``, ``code`` and ``settings`` inputs of a LabelWorkChain from the options:
    ``quantumespresso`` (with ``--pseudo-family``) or ``ase:MODULE:CLASS``."""
    from aiida import orm

    given = {}
    if settings:
        try:
            given = json.loads(settings if settings.lstrip().startswith('{') else Path(settings).read_text())
        except (OSError, ValueError) as error:
            raise click.BadParameter(f'neither a JSON file nor JSON text ({error})', param_hint='--settings') from None
    name = labeller
    if labeller.startswith('ase:'):
        name, given['calculator'] = 'ase', labeller[4:]
    if pseudo_family:
        given['pseudo_family'] = pseudo_family
    if name == 'quantumespresso' and 'pseudo_family' not in given:
        raise click.BadParameter('quantumespresso needs --pseudo-family (an aiida-pseudo family)')
    return {
        'labeller': orm.Str(name),
        'code': load_code(code or DEFAULT_CODES.get(name, f'{name}@localhost')),
        'settings': orm.Dict(given),
    }


def read_structures(paths) -> dict:
    from aiida import orm
    from ase.io import read

    structures = {}
    for index, path in enumerate(paths):
        try:
            atoms = read(path)
        except Exception as error:  # noqa: BLE001 - ASE raises many kinds
            raise click.BadParameter(f'{path}: not a structure ASE can read ({error})') from None
        stem = ''.join(c if c.isalnum() else '_' for c in Path(path).stem) or 'structure'
        structures[f'{stem}_{index}' if len(paths) > 1 else stem] = orm.StructureData(ase=atoms)
    return structures


@cmd_root.command('generate')
@click.argument('structure_files', nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    '--labeller',
    default='quantumespresso',
    show_default=True,
    help='quantumespresso, or ase:MODULE:CLASS (an ASE calculator), or another mlpgen.labellers entry point.',
)
@click.option('--pseudo-family', default=None, help='aiida-pseudo family label (quantumespresso).')
@click.option('--protocol', type=click.Choice(['fast', 'moderate', 'precise']), default='moderate', show_default=True)
@click.option('--settings', default=None, help='JSON (text or file): labeller settings, e.g. \'{"ecutwfc": 40}\'.')
@click.option('--generation', default=None, help='JSON (text or file): overrides of the generation protocol.')
@click.option('--code', default=None, help='The labeller code (default pw@localhost / properties@localhost).')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=4, show_default=True)
@click.option('--seed', type=int, default=0, show_default=True)
@click.option('--extend', default=None, help='A TrainingSetData (PK, UUID, label) to merge the new structures into.')
@click.option('-l', '--label', default=None, help='Label of the new TrainingSetData.')
@submit_option
def cmd_generate(
    structure_files,
    labeller,
    pseudo_family,
    protocol,
    settings,
    generation,
    code,
    max_concurrent,
    seed,
    extend,
    label,
    submit,
):
    """Generate training structures from STRUCTURE_FILES (bulk crystals, any format ASE reads),
    label them with one DFT setup and store the TrainingSetData (printed: PK and label)."""
    from aiida import orm

    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.labellers import LabellingError, load_labeller
    from aiida_mlpgen.workflows.training_set_generation import GenerateTrainingSetWorkChain

    from .interrupt import run_interruptible
    from .utils import load_training_set

    check_label(label)
    if submit and label:
        raise click.UsageError('--label goes with a foreground run; label the set later: verdi node label PK LABEL')
    setup()
    labelling = labeller_inputs(labeller, pseudo_family, settings, code)
    try:
        worker = load_labeller(labelling['labeller'].value)
        labelling['settings'] = orm.Dict(worker.settings(labelling['settings'].get_dict(), protocol))
    except LabellingError as error:
        raise click.BadParameter(str(error), param_hint='--labeller/--settings') from None
    inputs = {
        'structures': read_structures(structure_files),
        'protocol': orm.Str(protocol),
        'seed': orm.Int(seed),
        'labelling': {**labelling, 'max_concurrent': orm.Int(max_concurrent)},
    }
    if generation:
        try:
            given = json.loads(generation if generation.lstrip().startswith('{') else Path(generation).read_text())
        except (OSError, ValueError) as error:
            raise click.BadParameter(f'neither JSON file nor text ({error})', param_hint='--generation') from None
        inputs['generation'] = orm.Dict(given)
    if extend:
        inputs['extend'] = load_training_set(extend)
    try:
        if submit:
            submit_process(GenerateTrainingSetWorkChain, then='verdi process show {pk}', **inputs)
            return
        with ProgressLine('training-set generation'):
            results, node = run_interruptible(GenerateTrainingSetWorkChain, **inputs)
    except ValueError as error:  # the input validator: nothing was run
        raise click.ClickException(str(error).split('\n')[-1].strip() or str(error)) from error
    for failure in results['failed'].get_list() if 'failed' in results else []:
        click.echo(
            f'left out {failure["name"]} ({failure["group"]}): process {failure["pk"]} '
            f'[{failure["exit_status"]}] {failure["message"]}',
            err=True,
        )
    if not node.is_finished_ok:
        raise click.ClickException(f'GenerateTrainingSetWorkChain<{node.pk}> [{node.exit_status}] {node.exit_message}')
    training_set = results['training_set']
    if label:
        training_set.label = label
    counts = ', '.join(f'{g} {n}' for g, n in sorted(training_set.base.attributes.get('group_counts', {}).items()))
    click.echo(
        f'TrainingSetData<{training_set.pk}> {training_set.label or "(no label)"}: {training_set.n_structures} '
        f'structures ({counts}) from GenerateTrainingSetWorkChain<{node.pk}>'
    )
