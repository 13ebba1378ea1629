"""ACE, SNAP, qSNAP and NNP on the mlearn data sets, against the published mlearn potentials.

    python benchmarks/mlearn.py [--elements Mo,Si] [--types snap,qsnap,ace,nnp] [--quick]
                                [--data DIR] [--out DIR] [--max-structures N] [--validation-fraction F]

For each element (``DIR/<El>/training.json``, default ../shared/datasets/mlearn): a 90/10
split (seed 42), each type fitted through ``MlpGeneratorWorkChain`` on the 90 % only, in a
temporary embedded profile (SNAP and qSNAP with hyperparameter optimisation on the
generator's own validation split of that 90 %, then refitted on all of it; ACE and NNP
with the "moderate" protocol), and the held-out 10 % evaluated with our potentials and with the
published mlearn SNAP, qSNAP and NNP potentials (../shared/reference_potentials/mlearn).
Writes results.csv, results.md and error_vs_fit_time.png to --out and prints the table.
Energy errors are per atom (meV/atom), force errors per component (eV/Å); evaluation time
is wall time over held-out atoms (one step each; LAMMPS through the ``lmp`` executable
including its start, ACE through pyace's ASE calculator, NNP through our evaluator).

--quick (under 10 minutes on 2 cores for the four elements): at most 30 structures per
element and the settings of QUICK below, stated in the output. Its errors judge nothing but
relative changes of the code; the full run is the benchmark.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scratch import scratch, scratch_profile

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / 'shared'
TYPES = ('snap', 'qsnap', 'ace', 'nnp')
#: published mlearn potentials are Bohr/Hartree for n2p2
NNP_UNITS = {'cflength': 1.8897261, 'cfenergy': 0.0367493}
WEIGHTS = {'energy': 100.0, 'forces': 1.0, 'stress': 'off'}

FULL = {  # SNAP and qSNAP: the default search keys (rcutfac, wj, fit.forces) and the band limit as a choice
    'snap': {
        'kind': 'snap',
        'protocol': 'moderate',
        'overrides': {'fit': WEIGHTS},
        'optimize': {'budget': 30, 'max_in_flight': 4, 'choices': {'twojmax': [6, 8]}},
    },
    'qsnap': {
        'kind': 'snap',
        'protocol': 'moderate',
        'overrides': {'quadratic': True, 'fit': WEIGHTS},
        'optimize': {'budget': 30, 'max_in_flight': 4, 'choices': {'twojmax': [4, 6]}},
    },
    'ace': {'kind': 'ace', 'protocol': 'moderate', 'overrides': {}},
    'nnp': {'kind': 'nnp', 'protocol': 'moderate', 'overrides': {}},
}
QUICK = {
    'snap': {
        'kind': 'snap',
        'protocol': 'fast',
        'overrides': {'twojmax': 4, 'fit': WEIGHTS},
        'optimize': {'keys': ['rcutfac'], 'budget': 4, 'max_in_flight': 4},
    },
    'qsnap': {
        'kind': 'snap',
        'protocol': 'fast',
        'overrides': {'twojmax': 2, 'quadratic': True, 'fit': WEIGHTS},
        'optimize': {'keys': ['rcutfac'], 'budget': 4, 'max_in_flight': 4},
    },
    'ace': {'kind': 'ace', 'protocol': 'fast', 'overrides': {}},  # tensorpot: the fast protocol fits in a minute
    'nnp': {'kind': 'nnp', 'protocol': 'fast', 'overrides': {'epochs': 3}},
}


def errors(frames, energies, forces) -> dict:
    de = np.array([(e - f.energy) / len(f.numbers) for e, f in zip(energies, frames, strict=True)]) * 1000.0
    df = np.concatenate([(np.asarray(p) - f.forces).ravel() for p, f in zip(forces, frames, strict=True)])
    return {
        'energy_mae': float(np.abs(de).mean()),
        'energy_rmse': float(np.sqrt(np.mean(de**2))),
        'forces_mae': float(np.abs(df).mean()),
        'forces_rmse': float(np.sqrt(np.mean(df**2))),
    }


def evaluate(potential, frames) -> tuple[list, list, float]:
    """Energies, forces and the evaluation wall time of ``potential`` on ``frames``."""
    from ase import Atoms

    from aiida_mlpgen.data.potentials.lammps_run import evaluate_with_lmp

    atoms = [Atoms(numbers=f.numbers, positions=f.positions, cell=f.cell, pbc=f.pbc) for f in frames]
    start = time.perf_counter()
    if potential.base.attributes.get('potential_type') in ('snap', 'classical'):
        with tempfile.TemporaryDirectory() as directory:
            result = evaluate_with_lmp(potential, atoms, directory, lmp=str(Path(sys.executable).parent / 'lmp'))
        energies, forces = result['energy'], result['forces']
    else:
        calculator = potential.get_ase_calculator()
        energies, forces = [], []
        for image in atoms:
            image.calc = calculator
            energies.append(image.get_potential_energy())
            forces.append(image.get_forces())
    return energies, forces, time.perf_counter() - start


def published(element: str, kind: str, references: Path):
    from aiida_mlpgen.data.potentials import NnpPotentialData, SnapPotentialData

    folder = references / element / kind
    if not folder.is_dir():
        return None
    if kind == 'nnp':
        return NnpPotentialData.from_n2p2(folder, **NNP_UNITS)
    return SnapPotentialData.from_files(*sorted(folder.glob('*.snapcoeff')), *sorted(folder.glob('*.snapparam')))


def subsample(data, limit: int | None):
    """At most ``limit`` structures, every k-th one (all groups keep members)."""
    from aiida_mlpgen.data import TrainingSetData

    frames = data.get_frame_list()
    if limit is None or len(frames) <= limit:
        return data
    step = len(frames) / limit
    return TrainingSetData([frames[int(i * step)] for i in range(limit)])


def fit(training, settings: dict, fraction: float):
    """The generator on ``training`` (the held-out structures are not in it: the generator draws
    its own validation split for the search or the stopping rule, and refits on all of it)."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain

    optimize = dict(settings['optimize']) if settings.get('optimize') else None
    builder = MlpGeneratorWorkChain.get_builder_from_protocol(
        training, settings['kind'], settings['protocol'], overrides=settings['overrides'], optimize=optimize
    )
    builder.validation_fraction = orm.Float(fraction)
    start = time.perf_counter()
    results, node = run_get_node(builder)
    wall = time.perf_counter() - start
    if not node.is_finished_ok:
        raise RuntimeError(f'{settings["kind"]} fit failed: [{node.exit_status}] {node.exit_message}')
    trials = len(results['trials']['rows']) + 1 if 'trials' in results else 1  # the search and the refit
    return results['potential'], wall, trials


def settings_table(quick: bool, folds=None, protocols=None) -> dict:
    """The settings of each type: QUICK or FULL, with the k-fold objective and other protocols applied."""
    table = QUICK if quick else FULL
    if folds:
        table = {
            k: {**v, 'optimize': {**v['optimize'], 'folds': folds}} if v.get('optimize') else v
            for k, v in table.items()
        }
    if protocols:
        table = {k: {**v, 'protocol': protocols.get(k, v['protocol'])} for k, v in table.items()}
    return table


def run(
    elements,
    types,
    quick,
    data_dir: Path,
    references: Path,
    out: Path,
    limit,
    fraction: float = 0.1,
    folds=None,
    protocols=None,
) -> list[dict]:
    from aiida import orm

    from aiida_mlpgen.calculations.functions.training_set import split_training_set
    from aiida_mlpgen.data import TrainingSetData
    from aiida_mlpgen.embedded import setup

    setup()
    table = settings_table(quick, folds, protocols)
    rows = []
    for element in elements:
        data = subsample(TrainingSetData.from_file(data_dir / element / 'training.json'), limit).store()
        split = split_training_set(data, orm.Float(fraction), orm.Int(42))
        held_out = [f for f in split.get_frame_list() if f.split == 'validation']
        if not held_out:
            raise SystemExit(
                f'{element}: no structure held out ({len(data.get_frame_list())} structures, fraction '
                f'{fraction} per group): use more structures or a larger --validation-fraction'
            )
        n_atoms = sum(len(f.numbers) for f in held_out)
        training = TrainingSetData(
            [dataclasses.replace(f, split='unassigned') for f in split.get_frame_list() if f.split != 'validation']
        ).store()
        for kind in types:
            potential, wall, fits = fit(training, table[kind], fraction)
            energies, forces, seconds = evaluate(potential, held_out)
            rows.append(
                {
                    'element': element,
                    'type': kind,
                    'source': 'ours',
                    'n_train': training.n_structures,
                    'n_validation': len(held_out),
                    **errors(held_out, energies, forces),
                    'fit_seconds': wall,
                    'fits': fits,
                    'eval_us_per_atom_step': 1e6 * seconds / n_atoms,
                }
            )
            print(_line(rows[-1]), flush=True)
            reference = published(element, kind, references)
            if reference is not None:
                energies, forces, seconds = evaluate(reference, held_out)
                rows.append(
                    {
                        'element': element,
                        'type': kind,
                        'source': 'published mlearn',
                        'n_train': None,
                        'n_validation': len(held_out),
                        **errors(held_out, energies, forces),
                        'fit_seconds': None,
                        'fits': None,
                        'eval_us_per_atom_step': 1e6 * seconds / n_atoms,
                    }
                )
                print(_line(rows[-1]), flush=True)
    write(rows, out, table, quick, folds)
    return rows


HEADER = (
    '| element | type | potential | train / held out | E MAE | E RMSE (meV/atom) | F MAE | F RMSE (eV/Å) '
    '| fit wall (s) | fits | eval (µs/atom-step) |\n|---|---|---|---|---|---|---|---|---|---|---|'
)


def _line(row: dict) -> str:
    fit_time = '-' if row['fit_seconds'] is None else f'{row["fit_seconds"]:.0f}'
    fits = '-' if row.get('fits') is None else f'{int(row["fits"])}'
    trained = row['n_train'] if row['source'] == 'ours' else 'all'  # the published ones saw every structure
    counts = f'{trained} / {row["n_validation"]}'
    return (
        f'| {row["element"]} | {row["type"]} | {row["source"]} | {counts} | {row["energy_mae"]:.2f} | '
        f'{row["energy_rmse"]:.2f} | {row["forces_mae"]:.4f} | {row["forces_rmse"]:.4f} | {fit_time} | {fits} | '
        f'{row["eval_us_per_atom_step"]:.0f} |'
    )


def write(rows: list[dict], out: Path, settings: dict, quick: bool, folds=None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / 'results.csv', 'w', newline='') as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [HEADER, *(_line(row) for row in rows), '', f'settings ({"quick" if quick else "full"}):']
    lines += [f'- {kind}: {settings[kind]}' for kind in TYPES]
    if folds:
        lines.append(f'- SNAP/qSNAP searches: {folds}-fold cross-validation objective (--folds {folds})')
    (out / 'results.md').write_text('\n'.join(lines) + '\n')
    plot(rows, out / 'error_vs_fit_time.png')


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    elements = list(dict.fromkeys(row['element'] for row in rows))
    markers = {'snap': 'o', 'qsnap': 's', 'ace': '^', 'nnp': 'D'}
    colors = dict(zip(elements, plt.rcParams['axes.prop_cycle'].by_key()['color'], strict=False))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for row in rows:
        if row['source'] != 'ours':
            continue
        for axis, key in ((left, 'energy_rmse'), (right, 'forces_rmse')):
            axis.scatter(
                row['fit_seconds'],
                row[key],
                marker=markers[row['type']],
                color=colors[row['element']],
                s=60,
                label=f'{row["element"]} {row["type"]}',
            )
    for row in rows:
        if row['source'] == 'ours':
            continue
        for axis, key in ((left, 'energy_rmse'), (right, 'forces_rmse')):
            axis.axhline(row[key], color=colors[row['element']], ls=':', lw=1)
    for axis, label in ((left, 'held-out energy RMSE (meV/atom)'), (right, 'held-out force RMSE (eV/Å)')):
        axis.set_xscale('log')
        axis.set_yscale('log')
        axis.set_xlabel('fit wall time (s)')
        axis.set_ylabel(label)
        axis.grid(alpha=0.3, which='both')
    left.legend(fontsize=7, ncol=2)
    fig.suptitle('Error vs fit time (markers: ours; dotted lines: published mlearn potentials, same structures)')
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--elements', default='Ge,Li,Mo,Si')
    parser.add_argument('--types', default=','.join(TYPES))
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--data', type=Path, default=SHARED / 'datasets' / 'mlearn')
    parser.add_argument('--references', type=Path, default=SHARED / 'reference_potentials' / 'mlearn')
    parser.add_argument('--out', type=Path, default=None)
    parser.add_argument('--max-structures', type=int, default=None)
    parser.add_argument('--validation-fraction', type=float, default=0.1, help='held out per group (0.1)')
    parser.add_argument(
        '--folds',
        type=int,
        default=None,
        help='SNAP/qSNAP searches: k-fold cross-validation objective over the 90 %% instead of one validation split',
    )
    parser.add_argument(
        '--jobs',
        type=int,
        default=None,
        help='elements run side by side, each in its own process and profile (2 with --quick, else 1); '
        "fit and evaluation times then include the other jobs' load",
    )
    parser.add_argument(
        '--protocol',
        action='append',
        default=[],
        metavar='TYPE=NAME',
        help='another protocol for a type, e.g. nnp=precise (repeatable; default moderate, fast with --quick)',
    )
    args = parser.parse_args(argv)
    protocols = dict(item.split('=', 1) for item in args.protocol if '=' in item)
    if len(protocols) != len(args.protocol) or set(protocols) - set(TYPES):
        parser.error(f'--protocol takes TYPE=NAME with TYPE one of {", ".join(TYPES)}')
    types = [t for t in args.types.split(',') if t]
    unknown = set(types) - set(TYPES)
    if unknown:
        parser.error(f'unknown types {sorted(unknown)}; known: {", ".join(TYPES)}')
    scratch_profile()
    out = args.out or HERE / 'results' / ('mlearn_quick' if args.quick else 'mlearn')
    limit = args.max_structures if args.max_structures is not None else (30 if args.quick else None)
    start = time.perf_counter()
    elements = [e for e in args.elements.split(',') if e]
    jobs = args.jobs if args.jobs is not None else (2 if args.quick else 1)
    if jobs > 1 and len(elements) > 1:
        rows = side_by_side(elements, argv if argv is not None else sys.argv[1:], out, jobs)
        write(rows, out, settings_table(args.quick, args.folds, protocols), args.quick, args.folds)
        print(HEADER + '\n' + '\n'.join(_line(row) for row in rows))
    else:
        print(HEADER, flush=True)
        run(
            elements,
            types,
            args.quick,
            args.data,
            args.references,
            out,
            limit,
            args.validation_fraction,
            args.folds,
            protocols,
        )
    print(f'\nwall {time.perf_counter() - start:.0f} s; results in {out}')


def side_by_side(elements: list[str], argv: list[str], out: Path, jobs: int) -> list[dict]:
    """This script once per element, ``jobs`` at a time, each with its own AiiDA profile."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    keep = []
    skip = False
    for item in argv:  # drop --elements/--out/--jobs (and their values): set per job below
        if skip:
            skip = False
            continue
        name = item.split('=')[0]
        if name in ('--elements', '--out', '--jobs'):
            skip = '=' not in item
            continue
        keep.append(item)

    def one(element):
        env = dict(os.environ, AIIDA_PATH=str(scratch(f'mlpgen-bench-{element}-')))
        folder = out / 'per_element' / element
        done = subprocess.run(
            [sys.executable, __file__, *keep, '--elements', element, '--out', str(folder), '--jobs', '1'],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f'{element} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}')
        with open(folder / 'results.csv') as handle:
            return list(csv.DictReader(handle))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, elements))
    rows = []
    for row in (row for part in results for row in part):
        for key, value in row.items():
            if key not in ('element', 'type', 'source'):
                row[key] = None if value in ('', 'None') else float(value)
        row['n_train'] = None if row['n_train'] is None else int(row['n_train'])
        row['n_validation'] = int(row['n_validation'])
        rows.append(row)
    return rows


if __name__ == '__main__':
    main()
