"""Exploration: molecular dynamics with the current potential, frames kept with their uncertainty.

Each start structure runs at each temperature (Langevin NVT; with ``pressure_bar`` Berendsen
NPT) for ``steps`` steps of ``timestep_fs``; every ``interval`` steps the frame is kept with
its per-atom uncertainty. A run that blows up — the calculator fails, a number is not
finite, two atoms come closer than ``min_distance_factor`` × the sum of their covalent
radii, or the energy jumps by more than ``max_energy_jump`` eV/atom between kept frames —
stops there; its last sane frame (if it kept one) counts as maximally uncertain (``inf``) so it
is labelled first, and the run is reported, not raised.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from ase import Atoms, units

from aiida_mlpgen.engines.generation.structures import too_close

DEFAULTS = {
    'temperatures': [300.0],
    'pressure_bar': None,
    'steps': 1000,
    'interval': 50,
    'timestep_fs': 1.0,
    'friction': 0.02,
    'min_distance_factor': 0.5,
    'max_energy_jump': 1.0,
}


class ExplorationError(ValueError):
    """Settings an exploration cannot run with."""


def settings(given: dict | None) -> dict:
    """The defaults with ``given`` on top, checked."""
    given = dict(given or {})
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ExplorationError(f'unknown exploration setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}')
    out = {**DEFAULTS, **given}
    temperatures = out['temperatures']
    if not isinstance(temperatures, list | tuple) or not temperatures:
        raise ExplorationError('give at least one exploration temperature')
    for temperature in temperatures:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not temperature > 0:
            raise ExplorationError(f'temperatures must be > 0 K, got {temperature!r}')
    if len({round(float(t)) for t in temperatures}) < len(temperatures):
        raise ExplorationError(f'temperatures must differ by at least 1 K, got {list(temperatures)}')
    for key in ('steps', 'interval'):
        if isinstance(out[key], bool) or not isinstance(out[key], int) or out[key] < 1:
            raise ExplorationError(f'{key} must be an integer >= 1, got {out[key]!r}')
    if out['interval'] > out['steps']:
        raise ExplorationError(f'interval {out["interval"]} is longer than the run ({out["steps"]} steps)')
    for key in ('timestep_fs', 'friction', 'min_distance_factor', 'max_energy_jump'):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ExplorationError(f'{key} must be > 0, got {value!r}')
    if out['pressure_bar'] is not None and not isinstance(out['pressure_bar'], int | float):
        raise ExplorationError(f'pressure_bar must be a number, got {out["pressure_bar"]!r}')
    return out


@dataclasses.dataclass
class Frame:
    atoms: Atoms
    start: int  # index of the start structure
    temperature: float
    step: int
    energy_per_atom: float
    uncertainty: np.ndarray  # per atom
    status: str = 'ok'  # or 'last sane frame before: <what went wrong>'

    @property
    def max_uncertainty(self) -> float:
        return math.inf if self.status != 'ok' else float(self.uncertainty.max())


def _sane(atoms: Atoms, energy: float, previous: float | None, s: dict) -> str | None:
    if not math.isfinite(energy) or not np.isfinite(atoms.positions).all():
        return 'a number is not finite'
    problem = too_close(atoms, s['min_distance_factor'])
    if problem:
        return problem
    if previous is not None and abs(energy - previous) > s['max_energy_jump']:
        return f'the energy jumped by {energy - previous:+.3f} eV/atom'
    return None


def run(start: Atoms, calculator, uncertainty, temperature: float, s: dict, seed: int, index: int = 0):
    """Frames of one MD run (see the module); ``uncertainty(atoms)`` gives per-atom values.
    Returns ``(frames, problem)``: problem None when the run ended sane."""
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    atoms = start.copy()
    atoms.calc = calculator
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    timestep = s['timestep_fs'] * units.fs
    if s['pressure_bar'] is None:
        dynamics = Langevin(atoms, timestep, temperature_K=temperature, friction=s['friction'], rng=rng, fixcm=False)
    else:
        from ase.md.nptberendsen import NPTBerendsen

        dynamics = NPTBerendsen(
            atoms,
            timestep,
            temperature_K=temperature,
            pressure_au=s['pressure_bar'] * units.bar,
            taut=100 * units.fs,
            taup=1000 * units.fs,
            compressibility_au=1e-6 / units.bar,
        )
    frames: list[Frame] = []
    last_energy = None
    for step in range(s['interval'], s['steps'] + 1, s['interval']):
        try:
            dynamics.run(s['interval'])
            image = atoms.copy()
            image.calc = None
            image.wrap()
            energy = float(atoms.get_potential_energy()) / len(atoms)
            problem = _sane(image, energy, last_energy, s)
            values = None if problem else np.asarray(uncertainty(image), float)
        except Exception as error:  # noqa: BLE001 - a failing calculator is a blow-up to report
            problem = f'the calculator failed: {error}'
        if problem:
            return _blown(frames, step, problem), problem
        frames.append(Frame(image, index, temperature, step, energy, values))
        last_energy = energy
    return frames, None


def _blown(frames, step, problem):
    """The frames so far, the last sane one marked maximally uncertain (none when the run broke
    within its first interval: its start is a structure the loop knows already)."""
    if frames:
        frames[-1].status = f'last sane frame before: {problem} (step {step})'
    return frames


def explore(starts, calculator, uncertainty, given: dict | None = None, seed: int = 0):
    """Every start at every temperature: ``(frames, problems)`` (problems: one line per blown run).
    ``calculator``: an ASE calculator, or a function making one; then each run gets its own, so a
    calculator that a blow-up left broken (LAMMPS) does not fail the runs after it."""
    s = settings(given)
    make = calculator if callable(calculator) and not hasattr(calculator, 'get_property') else lambda: calculator
    frames, problems = [], []
    for index, start in enumerate(starts):
        for t_index, temperature in enumerate(s['temperatures']):
            found, problem = run(
                start, make(), uncertainty, float(temperature), s, seed + 1000 * index + t_index, index
            )
            frames += found
            if problem:
                problems.append(f'start {index} at {temperature:g} K: {problem}')
    return frames, problems
