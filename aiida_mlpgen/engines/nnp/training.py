"""``train``: n2p2's training loop — Kalman-filter updates of the element networks.

Per epoch: int(energy_fraction × training structures) energy updates and int(force_fraction
× training force components) force updates, in a shuffled schedule; candidates in random
order (selection_mode 0), sorted by error (1), or the first of up to rmse_threshold_trials
random candidates whose error exceeds threshold × current RMSE (2, n2p2's default).
Writes weights.ZZZ.EEEEEE.out, learning-curve.out, train/test points and forces, and
train.data/test.data, in n2p2's formats.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
from ase.data import atomic_numbers

from . import descriptors, files
from .dataset import Dataset
from .kalman import KalmanFilter
from .model import network_of
from .scaling import Scaler, Statistics
from .settings import NnpInputError, Settings

METRICS = [('energy', 'E', ['RMSEpa', 'RMSE', 'MAEpa', 'MAE']), ('force', 'F', ['RMSE', 'MAE'])]


@dataclasses.dataclass
class Units:
    offsets: dict
    mean_energy: float = 0.0
    conv_energy: float = 1.0
    conv_length: float = 1.0


class Trainer:
    def __init__(self, folder, log=print, progress=None):
        self.folder, self.log = Path(folder), log
        #: called after every epoch with (text, epoch, epochs): the job's progress file
        self.progress = progress or (lambda *_: None)
        self.settings = Settings.read(self.folder / 'input.nn')
        s = self.settings
        self.stats = Statistics.read(self.folder / 'scaling.data', s)
        self.setup = descriptors.Setup.from_settings(s)
        mode, smin, smax = s.scaling
        self.scaler = Scaler.create(self.stats, mode, smin, smax)
        norm = s.normalization
        self.units = Units(s.atom_energies, *(norm or (0.0, 1.0, 1.0)))
        self.rng = np.random.default_rng(s.value('random_seed', 0, int))
        self.networks = {e: network_of(s, len(fs)) for e, fs in self.setup.functions.items()}
        self.epochs = s.value('epochs', 0, int)
        self.force_weight = s.value('force_weight', 1.0)
        self.use_forces = s.has('use_short_forces')

    # ---- data and weights ----------------------------------------------------------------------
    def load_data(self):
        frames = files.read_structures(self.folder / 'input.data')
        if not frames:
            raise NnpInputError(f'{self.folder / "input.data"}: no structures')
        known = {atomic_numbers[e] for e in self.setup.elements}
        for frame in frames:
            strangers = set(frame.numbers.tolist()) - known
            if strangers:
                raise NnpInputError(f'{frame.source}: atomic numbers {sorted(strangers)} are not in input.nn elements')
            if frame.energy is None or not np.isfinite(frame.energy) or not np.isfinite(frame.forces).all():
                raise NnpInputError(f'{frame.source}: missing or non-finite energy/forces')
        fraction = self.settings.value('test_fraction', 0.0)
        test = []
        for frame in frames:
            if frame.split == 'unassigned':
                test.append(self.rng.uniform() < fraction)
            else:
                test.append(frame.split == 'validation')
        test = np.array(test)
        train_frames = [f for f, t in zip(frames, test, strict=True) if not t]
        test_frames = [f for f, t in zip(frames, test, strict=True) if t]
        #: each set's structures as indices of input.data (n2p2's structure index in the points files)
        self.index = {'train': np.flatnonzero(~test), 'test': np.flatnonzero(test)}
        if not train_frames:
            raise NnpInputError('no training structures left after the test split')
        from aiida_mlpgen.data.training_set.formats import n2p2_data
        from aiida_mlpgen.data.training_set.frames import Frames

        for name, chosen in (('train.data', train_frames), ('test.data', test_frames)):
            if chosen:
                n2p2_data.write(Frames.from_frames(chosen), self.folder / name)
        start = time.perf_counter()
        self.train = Dataset(train_frames, self.setup, self.scaler, self.units)
        self.test = Dataset(test_frames, self.setup, self.scaler, self.units) if test_frames else None
        megabytes = (self.train.nbytes + (self.test.nbytes if self.test else 0)) / 1e6
        self.log(
            f'Descriptors of {len(frames)} structures ({len(train_frames)} train, {len(test_frames)} test) '
            f'in {time.perf_counter() - start:.1f} s, {megabytes:.0f} MB'
        )

    def initial_weights(self) -> dict[str, np.ndarray]:
        s = self.settings
        weights = {}
        for e, net in self.networks.items():
            if s.has('use_old_weights_short'):
                weights[e] = net.read(self.folder / f'weights.{atomic_numbers[e]:03d}.data')
            else:
                weights[e] = net.initial_weights(self.rng, s.value('weights_min', -1.0), s.value('weights_max', 1.0))
        return weights

    # ---- errors -----------------------------------------------------------------------------------
    def errors(self, data: Dataset | None, weights) -> tuple[dict, tuple]:
        if data is None:
            return {('energy', m): np.nan for m in METRICS[0][2]} | {('force', m): np.nan for m in METRICS[1][2]}, None
        energy, forces = data.predict(self.networks, weights)
        u = self.units
        de = (energy - data.energy) / u.conv_energy  # physical units
        df = (forces - data.forces) / u.conv_energy
        pa = de / data.n_atoms
        result = {
            ('energy', 'RMSEpa'): np.sqrt(np.mean(pa**2)),
            ('energy', 'RMSE'): np.sqrt(np.mean(de**2)),
            ('energy', 'MAEpa'): np.mean(np.abs(pa)),
            ('energy', 'MAE'): np.mean(np.abs(de)),
            ('force', 'RMSE'): np.sqrt(np.mean(df**2)),
            ('force', 'MAE'): np.mean(np.abs(df)),
        }
        return result, (energy, forces)

    # ---- the loop -------------------------------------------------------------------------------------
    def run(self) -> dict:
        # The Kalman matrices are small: threaded BLAS only spins against torch's threads
        # (an epoch is several times slower with OpenBLAS threads busy-waiting).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api='blas'):
            return self._run()

    def _run(self) -> dict:
        s = self.settings
        self.load_data()
        weights = self.initial_weights()
        order = self.setup.elements
        sizes = [self.networks[e].n_weights for e in order]
        bounds = np.r_[0, np.cumsum(sizes)]
        flat = np.concatenate([weights[e] for e in order])
        slices = [slice(bounds[k], bounds[k + 1]) for k in range(len(order))]
        views = {e: flat[slices[k]] for k, e in enumerate(order)}
        train = self.train
        n_energy = int(len(train) * s.value('short_energy_fraction', 1.0))
        n_force = int(3 * len(train.numbers) * s.value('short_force_fraction', 0.0)) if self.use_forces else 0
        per_epoch = n_energy + n_force
        if s.value('update_strategy', 0, int) == 1:
            filters = [KalmanFilter(flat[sl], s, per_epoch) for sl in slices]
        else:
            filters = [KalmanFilter(flat, s, per_epoch)]
        selection = s.value('selection_mode', 2, int)
        thresholds = {
            'energy': s.value('short_energy_error_threshold', 0.0),
            'force': s.value('short_force_error_threshold', 1.0),
        }
        trials = max(s.value('rmse_threshold_trials', 3, int), 1) if selection == 2 else 1
        every = {k: s.value(k, 0, int) for k in ('write_weights_epoch', 'write_trainpoints', 'write_trainforces')}
        self.log(f'{n_energy} energy and {n_force} force updates per epoch, {sum(sizes)} weights, {self.epochs} epochs')
        curve, history = [], []
        rmse, predictions = {'energy': 1.0, 'force': 1.0}, None
        for epoch in range(self.epochs + 1):
            start = time.perf_counter()
            if epoch > 0:
                schedule = np.array([1] * n_force + [0] * n_energy)
                self.rng.shuffle(schedule)
                energy_queue = self._candidates('energy', selection, predictions)
                force_queue = self._candidates('force', selection, predictions)
                wt = torch.from_numpy(flat)
                counters = {'energy': 0, 'force': 0}
                for kind in schedule:
                    key = 'force' if kind else 'energy'
                    queue = force_queue if kind else energy_queue
                    self._update(key, queue, counters, trials, thresholds, rmse, filters, wt, slices, views)
            rmse_train, (energy, forces) = self.errors(train, views)
            rmse_test, test_pred = self.errors(self.test, views)
            rmse = {'energy': rmse_train[('energy', 'RMSEpa')], 'force': rmse_train[('force', 'RMSE')]}
            predictions = (energy, forces)
            elapsed = time.perf_counter() - start
            curve.append(self._curve_line(epoch, rmse_train, rmse_test))
            history.append((epoch, rmse_train, rmse_test, elapsed))
            self.log(
                f'epoch {epoch:4d}  E RMSE/atom train {rmse_train[("energy", "RMSEpa")]:.6g} test '
                f'{rmse_test[("energy", "RMSEpa")]:.6g}  F RMSE train {rmse_train[("force", "RMSE")]:.6g} test '
                f'{rmse_test[("force", "RMSE")]:.6g}  ({elapsed:.2f} s)'
            )
            self._write_learning_curve(curve)
            shown = rmse_test if self.test is not None else rmse_train
            self.progress(
                f'epoch {epoch}/{self.epochs}, E RMSE {1000 * shown[("energy", "RMSEpa")]:.3g} meV/atom, '
                f'F RMSE {shown[("force", "RMSE")]:.3g} eV/A ({"validation" if self.test is not None else "training"})',
                epoch,
                self.epochs,
            )
            if self._due(epoch, every['write_weights_epoch']):
                for e in order:
                    self.networks[e].write(self.folder / f'weights.{atomic_numbers[e]:03d}.{epoch:06d}.out', views[e])
            if self._due(epoch, every['write_trainpoints']):
                self._write_points(epoch, 'train', train, energy)
                if self.test is not None:
                    self._write_points(epoch, 'test', self.test, test_pred[0])
            if self._due(epoch, every['write_trainforces']):
                self._write_forces(epoch, 'train', train, forces)
                if self.test is not None:
                    self._write_forces(epoch, 'test', self.test, test_pred[1])
        return {'history': history, 'weights': views}

    def _due(self, epoch: int, every: int) -> bool:
        return epoch == self.epochs or (every > 0 and epoch % every == 0)

    # ---- updates ----------------------------------------------------------------------------------------
    def _candidates(self, key, selection, predictions):
        train = self.train
        if key == 'energy':
            items = np.arange(len(train))
            errors = np.abs(predictions[0] - train.energy) / train.n_atoms
        else:
            items = np.arange(3 * len(train.numbers))
            errors = np.abs(predictions[1] - train.forces).ravel()
        if selection == 1:
            items = items[np.argsort(-errors, kind='stable')]
        else:
            items = self.rng.permutation(items)
        return {'items': items, 'position': 0}

    def _next(self, queue):
        if queue['position'] >= len(queue['items']):
            queue['position'] = 0
        item = queue['items'][queue['position']]
        queue['position'] += 1
        return int(item)

    def _update(self, key, queue, counters, trials, thresholds, rmse, filters, wt, slices, views):
        train = self.train
        u = self.units
        best = None
        for _ in range(trials):
            item = self._next(queue)
            if key == 'energy':
                s = item
                value, jac = train.energy_jacobian(s, self.networks, wt, slices)
                error = train.energy[s] - value
                fraction = abs(error) / u.conv_energy / train.n_atoms[s] / max(rmse['energy'], 1e-300)
                candidate = (fraction, error, jac, s, None)
            else:
                atom, component = divmod(item, 3)
                s = int(train.structure_of_atom[atom])
                vectors = train.force_derivative(s, atom, component)
                value, _ = train.force_and_jacobian(vectors, self.networks, wt, slices, jacobian=False)
                error = train.forces[atom, component] - value
                fraction = abs(error) / u.conv_energy / max(rmse['force'], 1e-300)
                candidate = (fraction, error, vectors, s, atom)
            if best is None or candidate[0] > best[0]:
                best = candidate
            if trials == 1 or candidate[0] > thresholds[key]:
                best = candidate
                break
        _, error, extra, s, atom = best
        if key == 'energy':
            jac = extra
        else:
            _, jac = train.force_and_jacobian(extra, self.networks, wt, slices, jacobian=True)
            error = self.force_weight * error / u.conv_length
            jac = self.force_weight * jac / u.conv_length
        if len(filters) == 1:
            filters[0].update(error, jac)
        else:
            for k, kalman in enumerate(filters):
                share = self._element_share(key, s, atom, k)
                if share:
                    kalman.update(error * share, jac[slices[k]] * share)
        counters[key] += 1

    def _element_share(self, key, s, atom, k) -> float:
        """n2p2's per-element error fractions: atoms of the element in the structure (energy),
        neighbours of the element around the force atom (force)."""
        train = self.train
        lo = train.atom_start[s]
        if key == 'energy':
            return float(np.mean(train.element_of_atom[lo : lo + train.n_atoms[s]] == k))
        e = train.elements[train.element_of_atom[atom]]
        a, b = train.entries[e][s]
        mine = train.atom_of_row[e][train.centre[e][a:b]] == atom
        neighbours = train.neighbour[e][a:b][mine]
        return float(np.mean(train.element_of_atom[neighbours] == k)) if len(neighbours) else 0.0

    # ---- files ----------------------------------------------------------------------------------------------
    def _curve_line(self, epoch, train, test) -> str:
        parts = [f'{epoch:10d}']
        conv = {'energy': self.units.conv_energy, 'force': self.units.conv_energy / self.units.conv_length}
        normalized = self.settings.normalization is not None
        for key, _, metrics in METRICS:
            if key == 'force' and not self.use_forces:
                continue
            for m in metrics:
                parts.append(f'{train[(key, m)]:16.8E} {test[(key, m)]:16.8E}')
        if normalized:
            for key, _, metrics in METRICS:
                if key == 'force' and not self.use_forces:
                    continue
                for m in metrics:
                    parts.append(f'{train[(key, m)] * conv[key]:16.8E} {test[(key, m)] * conv[key]:16.8E}')
        return ' '.join(parts)

    def _write_learning_curve(self, lines) -> None:
        text = {
            'RMSEpa': 'RMSE of {} {} per atom',
            'RMSE': 'RMSE of {} {}',
            'MAEpa': 'MAE of {} {} per atom',
            'MAE': 'MAE of {} {}',
        }
        columns = [(10, 'epoch', 'Current epoch.')]
        plural = {'energy': 'energies', 'force': 'forces'}
        units = ['pu'] + (['iu'] if self.settings.normalization is not None else [])
        for unit in units:
            for key, tiny, metrics in METRICS:
                if key == 'force' and not self.use_forces:
                    continue
                for m in metrics:
                    label = 'physical units' if unit == 'pu' else 'training units'
                    for set_name, word in (('train', 'training'), ('test', 'test')):
                        description = text[m].format(word, plural[key]) + f' ({label})'
                        columns.append((16, f'{m}_{tiny}{set_name}_{unit}', description))
        title = ['Learning curves for training properties:', ' * energies'] + ([' * forces'] if self.use_forces else [])
        (self.folder / 'learning-curve.out').write_text(files.header(title, columns) + '\n'.join(lines) + '\n')

    def _write_points(self, epoch, name, data, energy) -> None:
        columns = [
            (10, 'index', 'Structure index (in input.data).'),
            (16, 'Eref', 'Reference potential energy per atom (training units).'),
            (16, 'Ennp', 'NNP potential energy per atom (training units).'),
        ]
        pairs = zip(self.index[name], data.energy / data.n_atoms, energy / data.n_atoms, strict=True)
        rows = [f'{i:10d} {r:16.8E} {p:16.8E}' for i, r, p in pairs]
        text = files.header(['Energy comparison.'], columns) + '\n'.join(rows) + '\n'
        (self.folder / f'{name}points.{epoch:06d}.out').write_text(text)

    def _write_forces(self, epoch, name, data, forces) -> None:
        columns = [
            (10, 'index_s', 'Structure index (in input.data).'),
            (10, 'index_a', 'Atom index (x, y, z components in consecutive lines).'),
            (16, 'Fref', 'Reference force (training units).'),
            (16, 'Fnnp', 'NNP force (training units).'),
        ]
        structure = np.repeat(self.index[name][data.structure_of_atom], 3)
        atom = np.repeat(np.arange(len(data.numbers)) - data.atom_start[data.structure_of_atom], 3)
        conv = self.units.conv_length
        values = zip(structure, atom, data.forces.ravel() / conv, forces.ravel() / conv, strict=True)
        rows = [f'{s:10d} {a:10d} {r:16.8E} {p:16.8E}' for s, a, r, p in values]
        text = files.header(['Force comparison.'], columns) + '\n'.join(rows) + '\n'
        (self.folder / f'{name}forces.{epoch:06d}.out').write_text(text)
