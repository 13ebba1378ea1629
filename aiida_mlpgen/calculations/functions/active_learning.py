"""Calcfunctions of the active-learning loop: a committee from its members, exploration MD with
the current potential (one TrajectoryData per run, with each frame's per-atom uncertainty), and
the selection of the frames to label — each a node in the provenance graph."""

from __future__ import annotations

import math

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_mlpgen.data.potentials import CommitteePotentialData, PotentialData
from aiida_mlpgen.data.training_set import TrainingSetData
from aiida_mlpgen.engines.active import explore as exploration
from aiida_mlpgen.engines.active import selection as choosing

#: attribute of an exploration TrajectoryData: the status of each frame ('ok' or what went wrong)
STATUSES = 'statuses'
#: output of :func:`select_frames`: the table of the choice
SELECTION = 'selection'


@calcfunction
def make_committee(**members) -> CommitteePotentialData:
    """The committee of ``members`` (potentials of one type, keys sorted)."""
    return CommitteePotentialData([members[key] for key in sorted(members)])


def run_label(index: int, temperature: float) -> str:
    return f'run_{index:02d}_{int(round(temperature))}K'


@calcfunction
def explore_with_potential(
    potential: PotentialData, training_set: TrainingSetData, settings: orm.Dict, seed: orm.Int, **starts
) -> dict:
    """Molecular dynamics of every start structure at every temperature with ``potential``
    (:mod:`aiida_mlpgen.engines.active.explore`); each run is a TrajectoryData with arrays
    ``uncertainty`` (frames × atoms), ``energy_per_atom``, and the attribute ``statuses``.
    The uncertainty is the potential's own measure against ``training_set``; a committee's MD
    is driven by its first member and the committee evaluated on the frames kept."""
    md = potential.get_exploration_calculator  # a fresh calculator for every run
    graded = potential.get_ase_calculator(uncertainty=True, training_set=training_set)

    def uncertainty(atoms):
        atoms = atoms.copy()
        atoms.calc = graded
        atoms.get_potential_energy()
        return graded.results['uncertainty']

    names = sorted(starts)
    frames, problems = exploration.explore(
        [starts[name].get_ase() for name in names], md, uncertainty, settings.get_dict(), int(seed.value)
    )
    out = {}
    runs: dict[tuple, list] = {}
    for frame in frames:
        runs.setdefault((frame.start, frame.temperature), []).append(frame)
    for (index, temperature), found in sorted(runs.items()):
        out[run_label(index, temperature)] = trajectory_of(found, names[index], temperature)
    out['summary'] = orm.Dict({'frames': len(frames), 'blown_up': problems, 'uncertainty': potential.UNCERTAINTY})
    return out


def trajectory_of(found: list, start: str, temperature: float) -> orm.TrajectoryData:
    """One exploration run (frames of one start and temperature) as an unstored TrajectoryData;
    the start's periodicity is kept (``pbc``, an attribute of every TrajectoryData), so molecular
    frames stay molecular."""
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(
        symbols=found[0].atoms.get_chemical_symbols(),
        positions=np.array([f.atoms.positions for f in found]),
        stepids=np.array([f.step for f in found]),
        cells=np.array([f.atoms.cell[:] for f in found]),
        pbc=[bool(x) for x in found[0].atoms.pbc],
    )
    trajectory.set_array('uncertainty', np.array([f.uncertainty for f in found]))
    trajectory.set_array('energy_per_atom', np.array([f.energy_per_atom for f in found]))
    trajectory.base.attributes.set(STATUSES, [f.status for f in found])
    trajectory.base.attributes.set('start', start)
    trajectory.base.attributes.set('temperature', float(temperature))
    return trajectory


def frames_of(label: str, trajectory: orm.TrajectoryData) -> list:
    """The exploration frames of one stored run."""
    from ase import Atoms

    statuses = trajectory.base.attributes.get(STATUSES)
    uncertainty = trajectory.get_array('uncertainty')
    energies = trajectory.get_array('energy_per_atom')
    positions, cells, steps = trajectory.get_positions(), trajectory.get_cells(), trajectory.get_stepids()
    symbols = trajectory.symbols
    temperature = trajectory.base.attributes.get('temperature')
    pbc = trajectory.base.attributes.get('pbc', [True, True, True])  # runs stored before it was kept
    out = []
    for k in range(len(steps)):
        atoms = Atoms(symbols=symbols, positions=positions[k], cell=cells[k], pbc=pbc)
        frame = exploration.Frame(atoms, 0, temperature, int(steps[k]), float(energies[k]), uncertainty[k], statuses[k])
        frame.run = label
        out.append(frame)
    return out


@calcfunction
def select_frames(settings: orm.Dict, **runs) -> dict:
    """The frames to label: above ``threshold``, at most ``max_count``, spread out
    (:mod:`aiida_mlpgen.engines.active.selection`; ``strategy`` "random": drawn at random, the
    baseline); ``selection`` tabulates every choice and the fraction of frames above the threshold.
    Nothing is chosen (only measured) when ``max_count`` is 0 or, with ``stop_fraction`` given
    and the uncertainty strategy, when the fraction above the threshold is at most that: frames
    that nobody will label are not stored."""
    s = settings.get_dict()
    frames = [frame for label in sorted(runs) for frame in frames_of(label, runs[label])]
    threshold, count = float(s['threshold']), int(s['max_count'])
    if s.get('strategy', 'uncertainty') == 'random':  # the baseline the loop is measured against
        chosen, fraction = choosing.select_at_random(frames, threshold, count, s['seed'])
    else:
        _, fraction = choosing.select(frames, threshold, 0, s['elements'], float(s['cutoff']))
        if s.get('stop_fraction') is not None and fraction <= float(s['stop_fraction']):
            count = 0
        chosen, fraction = choosing.select(frames, threshold, count, s['elements'], float(s['cutoff']))
    out = {}
    table = []
    for rank, index in enumerate(chosen):
        frame = frames[index]
        name = f'frame_{rank:02d}'
        out[name] = orm.StructureData(ase=frame.atoms)
        value = frame.max_uncertainty
        table.append(
            {
                'name': name,
                'run': frame.run,
                'step': frame.step,
                'max_uncertainty': None if math.isinf(value) else value,
                'status': frame.status,
            }
        )
    values = [f.max_uncertainty for f in frames]
    finite = [v for v in values if math.isfinite(v)]
    out[SELECTION] = orm.Dict(
        {
            'frames': len(frames),
            'above_threshold': int(round(fraction * len(frames))),
            'uncertain_fraction': fraction,
            'threshold': float(s['threshold']),
            'blown_up_runs': sum(1 for f in frames if f.status != 'ok'),
            'max_uncertainty': max(finite) if finite else None,
            'median_uncertainty': float(np.median(finite)) if finite else None,
            'chosen': table,
        }
    )
    return out


@calcfunction
def tabulate_rounds(rows: orm.Dict) -> dict:
    """The per-round table (``rounds``) and its picture (``rounds_plot``, PNG)."""
    import io

    from aiida_mlpgen.report.active_learning import rounds_plot

    table = rows.get_dict()
    buffer = io.BytesIO()
    rounds_plot(table['rounds'], table['threshold'], table.get('target_fraction'), buffer)
    buffer.seek(0)
    return {'rounds': orm.Dict(table), 'rounds_plot': orm.SinglefileData(buffer, filename='active_learning.png')}
