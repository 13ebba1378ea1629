"""``mlpgen learn``: the active-learning loop from a training set to a potential that is sure."""

from __future__ import annotations

import click

from .generate import labeller_inputs
from .progress_bar import ProgressLine
from .root import cmd_root
from .submit import submit_option, submit_process


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(',') if x.strip()]
    except ValueError:
        raise click.BadParameter(f'{text!r}: numbers separated by commas', param_hint=option) from None
    return values


@cmd_root.command('learn')
@click.argument('training_set')
@click.option('--type', 'potential_type', required=True, help='snap, ace, nnp (a registered potential type).')
@click.option(
    '--labeller',
    default='quantumespresso',
    show_default=True,
    help='quantumespresso, or ase:MODULE:CLASS (an ASE calculator playing DFT).',
)
@click.option('--pseudo-family', default=None, help='aiida-pseudo family label (quantumespresso).')
@click.option('--settings', default=None, help='JSON (text or file): labeller settings.')
@click.option('--labeller-code', default=None, help='The labeller code (default pw@localhost / properties@localhost).')
@click.option('--temperatures', default='300,1200', show_default=True, help='Exploration MD temperatures, K.')
@click.option('--pressure', type=float, default=None, help='Exploration at this pressure (bar, NPT); default NVT.')
@click.option('--steps', type=click.IntRange(min=1), default=1000, show_default=True, help='MD steps per run.')
@click.option('--interval', type=click.IntRange(min=1), default=50, show_default=True, help='Steps between frames.')
@click.option(
    '--rounds', type=click.IntRange(min=1), default=3, show_default=True, help='At most this many label rounds.'
)
@click.option(
    '--per-round', type=click.IntRange(min=1), default=10, show_default=True, help='At most this many labels a round.'
)
@click.option(
    '--threshold', type=float, default=None, help="Uncertainty above which a frame is labelled (default: the type's)."
)
@click.option(
    '--target', type=float, default=0.05, show_default=True, help='Stop at this fraction of uncertain frames.'
)
@click.option('--budget', type=click.IntRange(min=1), default=None, help='At most this many labels in all.')
@click.option('--committee', type=click.IntRange(min=2), default=3, show_default=True, help='NNP committee size.')
@click.option('--protocol', type=click.Choice(['fast', 'moderate', 'precise']), default=None, help='Fit protocol.')
@click.option('-p', '--param', 'params', multiple=True, metavar='KEY=VALUE', help='Fit parameter overrides.')
@click.option('--seed', type=int, default=0, show_default=True)
@submit_option
def cmd_learn(
    training_set,
    potential_type,
    labeller,
    pseudo_family,
    settings,
    labeller_code,
    temperatures,
    pressure,
    steps,
    interval,
    rounds,
    per_round,
    threshold,
    target,
    budget,
    committee,
    protocol,
    params,
    seed,
    submit,
):
    """Active learning from TRAINING_SET (PK, UUID or label): fit, explore by MD, label the
    frames the potential is unsure of, merge, refit — until it is sure. Prints the final
    potential's PK and the per-round table."""
    from aiida import orm

    from aiida_mlpgen import potential_types
    from aiida_mlpgen.embedded import setup
    from aiida_mlpgen.labellers import LabellingError, load_labeller
    from aiida_mlpgen.workflows.active_learning import ActiveLearningWorkChain

    from .interrupt import run_interruptible
    from .params import parse_params
    from .utils import load_training_set

    if potential_type not in potential_types.names():
        raise click.BadParameter(f'one of {", ".join(potential_types.names())}', param_hint='--type')
    setup()
    labelling = labeller_inputs(labeller, pseudo_family, settings, labeller_code)
    try:
        worker = load_labeller(labelling['labeller'].value)
        labelling['settings'] = orm.Dict(worker.settings(labelling['settings'].get_dict()))
    except LabellingError as error:
        raise click.BadParameter(str(error), param_hint='--labeller/--settings') from None
    exploration = {'temperatures': _numbers(temperatures, '--temperatures'), 'steps': steps, 'interval': interval}
    if pressure is not None:
        exploration['pressure_bar'] = pressure
    inputs = {
        'training_set': load_training_set(training_set),
        'potential_type': orm.Str(potential_type),
        'exploration': orm.Dict(exploration),
        'per_round': orm.Int(per_round),
        'max_rounds': orm.Int(rounds),
        'target_fraction': orm.Float(target),
        'committee_size': orm.Int(committee),
        'seed': orm.Int(seed),
        'labelling': labelling,
    }
    overrides = parse_params(params)
    if overrides:
        inputs['parameters'] = orm.Dict(overrides)
    if protocol:
        inputs['protocol'] = orm.Str(protocol)
    if threshold is not None:
        inputs['threshold'] = orm.Float(threshold)
    if budget is not None:
        inputs['label_budget'] = orm.Int(budget)
    try:
        if submit:
            submit_process(ActiveLearningWorkChain, then='verdi process show {pk}', **inputs)
            return
        with ProgressLine('active learning'):
            results, node = run_interruptible(ActiveLearningWorkChain, **inputs)
    except ValueError as error:  # the input validator: nothing was run
        raise click.ClickException(str(error).split('\n')[-1].strip() or str(error)) from error
    if not node.is_finished_ok:
        raise click.ClickException(f'ActiveLearningWorkChain<{node.pk}> [{node.exit_status}] {node.exit_message}')
    click.echo(round_table(results['rounds'].get_dict()))
    potential = results['potential']
    click.echo(
        f'potential {type(potential).__name__}<{potential.pk}>, training set '
        f'TrainingSetData<{results["training_set"].pk}> ({results["training_set"].n_structures} structures), '
        f'from ActiveLearningWorkChain<{node.pk}>'
    )


def round_table(table: dict) -> str:
    """The rounds as a plain-text table."""
    columns = ('round', 'structures', 'E RMSE', 'F RMSE', 'frames', 'uncertain', 'MD blown', 'labelled')
    widths = (5, 10, 8, 8, 6, 9, 8, 8)
    header = ' '.join(f'{name:>{width}}' for name, width in zip(columns, widths, strict=True))
    lines = [f'uncertainty: {table["uncertainty"]}; threshold {table["threshold"]:g}', header]
    for row in table['rounds']:
        energy = f'{row["energy_rmse"]:.2f}' if row.get('energy_rmse') is not None else '-'
        force = f'{row["force_rmse"]:.4f}' if row.get('force_rmse') is not None else '-'
        lines.append(
            f'{row["round"]:>5} {row["structures"]:>10} {energy:>8} {force:>8} {row["frames"]:>6} '
            f'{row["uncertain_fraction"]:>9.0%} {row.get("blown_up_runs", 0):>8} {row.get("labelled", 0):>8}'
        )
    lines.append("(E RMSE meV/atom, F RMSE eV/Å: validation split of each round's fit)")
    return '\n'.join(lines)
