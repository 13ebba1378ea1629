"""Training sets from first principles (issue 18): structures generated from a bulk crystal,
labelled by the real pw.x (Debian's quantum-espresso) through aiida-quantumespresso, fitted,
and validated against pw.x's own equation of state; the ase labeller; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.build import bulk

from aiida_mlpgen.engines.generation import settings as generation
from aiida_mlpgen.engines.generation.structures import generate
from aiida_mlpgen.labellers import LabellingError, load_labeller
from aiida_mlpgen.workflows.training_set_generation import GenerateTrainingSetWorkChain

from .conftest import SI_QE, require_pw

# ---- structure generation: plain functions ---------------------------------------------------------------------


def test_the_moderate_protocol_makes_every_kind_of_structure_as_full_periodic_cells():
    settings = generation.merged('moderate', {'interstitials': {'count': 1}, 'slabs': {'miller': [[1, 0, 0]]}})
    made = generate(bulk('Si', cubic=True), settings, seed=3)
    groups = [group for _, group, _ in made]
    assert {g: groups.count(g) for g in set(groups)} == {
        'ground_state': 1,
        'strain': 4,
        'uniaxial': 6,
        'shear': 6,
        'rattle': 6,
        'vacancy': 1,
        'interstitial': 1,
        'slab_100': 1,
    }
    sizes = {name: len(atoms) for name, _, atoms in made}
    assert sizes['vacancy_00'] == 7 and sizes['interstitial_00'] == 9 and sizes['ground_state'] == 8
    assert all(atoms.pbc.all() for _, _, atoms in made)
    strained = dict((n, a) for n, _, a in made)['strain_00']
    assert strained.get_volume() == pytest.approx(bulk('Si', cubic=True).get_volume() * 0.96**3)
    slab = dict((n, a) for n, _, a in made)['slab_100']
    assert slab.cell.lengths()[2] > 16.0  # 8 Å of vacuum on each side


def test_generation_is_seeded():
    settings = generation.merged('fast')
    first = generate(bulk('Cu', cubic=True), settings, seed=7)
    again = generate(bulk('Cu', cubic=True), settings, seed=7)
    other = generate(bulk('Cu', cubic=True), settings, seed=8)
    rattled = [i for i, (name, _, _) in enumerate(first) if name.startswith('rattle')]
    assert all(np.allclose(first[i][2].positions, again[i][2].positions) for i in rattled)
    assert not np.allclose(first[rattled[0]][2].positions, other[rattled[0]][2].positions)


@pytest.mark.parametrize(
    ('overrides', 'message'),
    [
        ({'rattle': {'amplitude': 1.2}}, r'rattle_\d\d: atoms \d+ and \d+ are .* too aggressive'),
        ({'isotropic_strains': [-0.35]}, 'not a strain between -0.3 and 0.3'),
        ({'vacancies': {'number': 2}}, r"vacancies: unknown key\(s\) \['number'\]"),
        ({'twist': 1}, "unknown generation setting 'twist'"),
        ({'md': {'source': 'gap'}}, 'md: source must be one of'),
    ],
)
def test_generation_settings_that_cannot_work_are_refused(overrides, message):
    with pytest.raises(generation.GenerationError, match=message):
        generate(bulk('Si', cubic=True), generation.merged('moderate', overrides), seed=0)


# ---- labellers: checks before anything runs --------------------------------------------------------------------


def test_an_unknown_labeller_is_named_with_the_known_ones():
    with pytest.raises(LabellingError, match=r"no labeller 'vasp'; known: ase, quantumespresso"):
        load_labeller('vasp')


def test_quantumespresso_refuses_a_family_without_an_element_a_coarse_metal_mesh_and_physics_overrides(qe_family):
    labeller = load_labeller('quantumespresso')
    with pytest.raises(
        LabellingError, match=r"family 'test-qe-pbe' has no pseudopotential for Ta \(it has Cu, Ge, Si\)"
    ):
        labeller.resolve(labeller.settings(SI_QE), {'Si', 'Ta'})
    with pytest.raises(LabellingError, match=r'kpoints_spacing 0.6 Å⁻¹ is too coarse for a metal \(Cu\)'):
        labeller.resolve(labeller.settings(SI_QE), {'Cu'})
    with pytest.raises(LabellingError, match='no pseudopotential family'):
        labeller.resolve(labeller.settings({'pseudo_family': 'SSSP/1.3/PBE/efficiency'}), {'Si'})
    with pytest.raises(LabellingError, match='would change the physics'):
        labeller.check_overrides({'SYSTEM': {'ecutwfc': 80}})
    resolved = labeller.resolve(labeller.settings({**SI_QE, 'kpoints_spacing': 0.25}), {'Cu', 'Si'})
    assert resolved['ecutwfc'] == 30.0 and resolved['ecutrho'] == 240.0  # the highest of the elements
    assert labeller.dft_settings(resolved) == {
        'code': 'Quantum ESPRESSO',
        'cutoff_ev': pytest.approx(30.0 * 13.605693),
        'kspacing': 0.25,
        'functional': 'PBE',
        'pseudopotentials': {'Cu': 'Cu.pbe-kjpaw.UPF', 'Si': 'Si.pbe-rrkj.UPF'},
    }


def test_quantumespresso_frames_are_converted_to_ev_angstrom_and_tension_positive():
    """aiida-quantumespresso's trajectory: eV, eV/Å, stress in GPa with QE's sign (pressure
    positive); the labeller gives eV/Å³ with tension positive."""
    trajectory = orm.TrajectoryData()
    atoms = bulk('Si')
    trajectory.set_trajectory(
        symbols=['Si', 'Si'], positions=np.array([atoms.positions]), cells=np.array([atoms.cell[:]])
    )
    trajectory.set_array('energy', np.array([-214.0]))
    trajectory.set_array('forces', np.array([[[0.1, 0, 0], [-0.1, 0, 0]]]))
    trajectory.set_array('stress', np.array([np.eye(3) * 16.0217663]))  # 16 GPa of pressure: compressed
    (result,) = load_labeller('quantumespresso').results(None, {'output_trajectory': trajectory})
    assert result.energy == -214.0 and result.numbers.tolist() == [14, 14]
    assert np.allclose(result.stress, -np.eye(3) * 0.1, atol=1e-6)  # 16.02 GPa = 0.1 eV/Å³, compressive
    assert np.allclose(result.forces[0], [0.1, 0, 0])


@pytest.mark.parametrize(
    ('labelling', 'generation_overrides', 'message'),
    [
        ({'labeller': 'vasp'}, {}, "no labeller 'vasp'"),
        ({'labeller': 'ase', 'settings': {'calculator': 'ase.calculators.nope:EMT'}}, {}, 'cannot import'),
        (
            {'labeller': 'ase', 'settings': {'calculator': 'ase.calculators.emt:EMT'}},
            {'rattle': {'amplitude': 1.5}},
            'too aggressive',
        ),
        (
            {'labeller': 'ase', 'settings': {'calculator': 'ase.calculators.emt:EMT'}},
            {'md': {'temperatures': [600]}},
            'runs no ab initio MD',
        ),
    ],
)
def test_the_workflow_refuses_bad_input_before_storing_anything(
    properties_code, count_nodes, labelling, generation_overrides, message
):
    inputs = {
        'structures': {'cu': orm.StructureData(ase=bulk('Cu', cubic=True))},
        'protocol': orm.Str('fast'),
        'labelling': {
            'labeller': orm.Str(labelling['labeller']),
            'code': properties_code,
            'settings': orm.Dict(labelling.get('settings', {})),
        },
    }
    if generation_overrides:
        inputs['generation'] = orm.Dict(generation_overrides)
    before = count_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(GenerateTrainingSetWorkChain, **inputs)
    assert count_nodes() == before


def test_quantumespresso_problems_stop_the_workflow_before_anything_is_stored(pw_code, qe_family, count_nodes):
    """A family without the element, and a metal on a k-mesh coarser than 0.3 Å⁻¹."""
    for structure, settings, message in (
        (bulk('Ta', 'bcc', a=3.3, cubic=True), SI_QE, "family 'test-qe-pbe' has no pseudopotential for Ta"),
        (bulk('Cu', cubic=True), {**SI_QE, 'kpoints_spacing': 0.35}, 'too coarse for a metal'),
    ):
        builder = GenerateTrainingSetWorkChain.get_builder_from_protocol(
            pw_code, {'bulk': orm.StructureData(ase=structure)}, protocol='fast', labeller_settings=settings
        )
        before = count_nodes()
        with pytest.raises(ValueError, match=message):
            run_get_node(builder)
        assert count_nodes() == before


# ---- end to end ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mlpgen_generate_with_an_ase_calculator(mlpgen_cli, tmp_path):
    """The command line: Cu from a file, labelled by ASE's EMT, printed PK and label, shown."""
    from ase.io import write

    write(tmp_path / 'Cu.cif', bulk('Cu', cubic=True))
    out = mlpgen_cli(
        'generate', 'Cu.cif', '--labeller', 'ase:ase.calculators.emt:EMT', '--protocol', 'fast', '-l', 'cu-emt'
    )
    assert 'cu-emt: 13 structures (ground_state 1, rattle 3, shear 3, strain 2, uniaxial 3, vacancy 1)' in out.stdout
    shown = mlpgen_cli('show', 'cu-emt').stdout
    assert 'ASE ase.calculators.emt:EMT()' in shown
    refused = mlpgen_cli('generate', 'Cu.cif', '--labeller', 'quantumespresso', check=False)
    assert refused.returncode != 0 and 'needs --pseudo-family' in refused.stderr


@pytest.mark.slow
def test_si_from_one_bulk_cell_with_pw_x_to_a_validated_snap_potential(pw_code, qe_family):
    """Issue 18's acceptance: Si → ≥ 20 structures (strains, shear, rattles, vacancy, ab initio
    MD frames) labelled by pw.x, one of them made to fail (one SCF iteration: listed, the rest
    built) → TrainingSetData with dft_settings → SNAP fit → lattice parameter and bulk modulus
    against pw.x's own equation of state → the potential's provenance reaches every PwCalculation."""
    require_pw()
    from aiida_mlpgen.workflows.generator import MlpGeneratorWorkChain
    from aiida_mlpgen.workflows.validation import ValidationWorkChain

    from .conftest import BIN, local_code

    builder = GenerateTrainingSetWorkChain.get_builder_from_protocol(
        pw_code,
        {'si': orm.StructureData(ase=bulk('Si'))},
        labeller='quantumespresso',
        protocol='fast',
        labeller_settings=SI_QE,
        generation_overrides={
            'supercell': [2, 1, 1],
            'rattle': {'count': 9},
            'md': {'temperatures': [600], 'steps': 6, 'interval': 2, 'equilibration': 2},
        },
        max_concurrent=4,
    )
    builder.labelling.overrides = orm.Dict({'rattle_08': {'ELECTRONS': {'electron_maxstep': 1}}})
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    (failure,) = results['failed'].get_list()
    assert failure['name'] == 'rattle_08' and failure['group'] == 'rattle'
    training_set = results['training_set']
    counts = training_set.base.attributes.get('group_counts')
    assert counts == {
        'ground_state': 1,
        'md_600K': 2,
        'rattle': 8,
        'shear': 3,
        'strain': 2,
        'uniaxial': 3,
        'vacancy': 1,
    }
    assert training_set.n_structures == 20
    dft = training_set.base.attributes.get('dft_settings')
    assert dft['code'] == 'Quantum ESPRESSO' and dft['functional'] == 'PBE' and dft['kspacing'] == 0.6
    assert dft['cutoff_ev'] == pytest.approx(16.0 * 13.605693)
    frames = training_set.get_frame_list()
    ground = next(f for f in frames if f.group == 'ground_state')
    assert ground.energy == pytest.approx(-213.8, abs=1.0)  # eV (2 atoms), not Ry
    assert np.abs(ground.forces).max() < 1e-3  # the diamond structure: no forces by symmetry

    fit = MlpGeneratorWorkChain.get_builder_from_protocol(
        training_set, 'snap', 'fast', code=local_code('fitsnap', BIN / 'mlpgen-fitsnap'), overrides={'twojmax': 4}
    )
    fit.validation_fraction = orm.Float(0.0)
    fitted, fit_node = run_get_node(fit)
    assert fit_node.is_finished_ok, fit_node.exit_message
    potential = fitted['potential']

    validation, check = run_get_node(
        ValidationWorkChain,
        potential=potential,
        structure=orm.StructureData(ase=bulk('Si')),
        properties=orm.List(['eos']),
        settings=orm.Dict({'eos': {'n_points': 5, 'max_strain': 0.03}}),
        code=local_code('lammps', BIN / 'lmp'),
        dft_reference={'labeller': orm.Str('quantumespresso'), 'code': pw_code, 'settings': orm.Dict(SI_QE)},
    )
    assert check.is_finished_ok, check.exit_message
    rows = {row['property']: row for row in validation['comparison']['rows']}
    dft_a, dft_b = rows['lattice_parameter']['dft'], rows['bulk_modulus']['dft']
    assert 3.80 < dft_a < 3.95 and 70 < dft_b < 110  # PBE Si (primitive a), at these small settings
    assert abs(rows['lattice_parameter']['rel_error_percent']) < 2.0
    assert abs(rows['bulk_modulus']['rel_error_percent']) < 40.0
    assert 'DFT by the quantumespresso labeller' in validation['report'].get_content()

    labelled = {
        calc.pk
        for base in node.called_descendants
        if base.process_label == 'PwBaseWorkChain' and base.is_finished_ok
        for calc in base.called
        if calc.process_label == 'PwCalculation' and calc.is_finished_ok
    }
    query = orm.QueryBuilder().append(type(potential), filters={'id': potential.pk}, tag='potential')
    query.append(
        orm.CalcJobNode,
        with_descendants='potential',
        filters={'attributes.process_label': 'PwCalculation'},
        project='id',
    )
    assert set(query.all(flat=True)) == labelled and len(labelled) == 19


@pytest.mark.slow
def test_md_snapshots_of_a_stored_potential_are_labelled_and_extend_a_set(properties_code):
    """md source "potential": Langevin MD with a stored potential's ASE calculator (EMT as a
    potential), snapshots labelled by the ase labeller, merged into an existing set."""
    from aiida_mlpgen.data.potentials import AseCalculatorPotentialData

    emt = {'calculator': 'ase.calculators.emt:EMT'}
    only_md = {
        'isotropic_strains': [],
        'uniaxial_strains': [],
        'shear_strains': [],
        'rattle': {'count': 0},
        'vacancies': {'count': 0},
        'md': {'temperatures': [300, 1200], 'steps': 30, 'interval': 10, 'equilibration': 10, 'source': 'potential'},
    }
    from ase.calculators.emt import EMT

    from aiida_mlpgen.data.training_set import TrainingSetData

    structures = {'cu': orm.StructureData(ase=bulk('Cu', cubic=True).repeat(2))}
    existing = []
    for scale in (1.0, 0.98, 1.02):  # the ground state (also generated below) and two strains
        atoms = structures['cu'].get_ase()
        atoms.set_cell(atoms.cell[:] * scale, scale_atoms=True)
        atoms.calc = EMT()
        atoms.get_forces(), atoms.get_stress()  # the results from_ase reads
        existing.append(atoms)
    first = {'training_set': TrainingSetData.from_ase(existing, group='existing').store()}
    builder = GenerateTrainingSetWorkChain.get_builder_from_protocol(
        properties_code, structures, labeller='ase', labeller_settings=emt, generation_overrides=only_md, seed=4
    )
    builder.md_potential = AseCalculatorPotentialData('ase.calculators.emt:EMT', ['Cu']).store()
    builder.extend = first['training_set']
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    merged = results['training_set']
    counts = merged.base.attributes.get('group_counts')
    assert counts['md_300K'] == 2 and counts['md_1200K'] == 2 and 'ground_state' not in counts  # held already
    assert merged.n_structures == 3 + 4
    md = [f for f in merged.get_frame_list() if f.group.startswith('md_')]
    spread = {
        g: np.std([f.positions - f.positions.mean(0) for f in md if f.group == g]) for g in ('md_300K', 'md_1200K')
    }
    assert all(np.abs(f.forces).max() > 0.01 for f in md)  # displaced by the MD, not the ideal lattice
    assert spread['md_300K'] > 0
