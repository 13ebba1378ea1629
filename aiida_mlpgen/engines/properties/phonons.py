"""Phonons with phonopy: finite displacements in a supercell, dispersion along the
high-symmetry path of the primitive cell (ASE's special points), and the density of states."""

from __future__ import annotations

import warnings

import numpy as np

from .tasks import Task

DEFAULTS = {'supercell': [3, 3, 3], 'displacement': 0.01, 'mesh': [16, 16, 16], 'points_per_segment': 40}


def _phonopy(atoms, supercell, displacement):
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    unit = PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(), cell=atoms.cell[:], scaled_positions=atoms.get_scaled_positions()
    )
    with warnings.catch_warnings():  # phonopy warns that 'auto' differs from its older default
        warnings.simplefilter('ignore')
        phonon = Phonopy(unit, supercell_matrix=np.diag([int(n) for n in supercell]), primitive_matrix='auto')
    phonon.generate_displacements(distance=float(displacement))
    return phonon


def tasks(atoms, supercell, displacement, mesh, points_per_segment):
    from ase import Atoms

    out = []
    for index, cell in enumerate(_phonopy(atoms, supercell, displacement).supercells_with_displacements):
        image = Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)
        out.append(Task(f'displacement_{index:03d}', image, forces=True))
    return out


def analyse(atoms, results, supercell, displacement, mesh, points_per_segment):
    from ase import Atoms

    phonon = _phonopy(atoms, supercell, displacement)
    names = [f'displacement_{i:03d}' for i in range(len(phonon.supercells_with_displacements))]
    phonon.forces = np.array([results[name].forces for name in names])
    phonon.produce_force_constants()
    primitive = phonon.primitive
    prim = Atoms(primitive.symbols, cell=primitive.cell, scaled_positions=primitive.scaled_positions, pbc=True)
    path = prim.cell.bandpath(npoints=0)
    special = path.special_points
    labels, paths = [], []
    for segment in path.path.split(','):
        points = [special[label] for label in segment]
        labels.append(list(segment))
        ends = zip(points[:-1], points[1:], strict=True)
        paths.append([list(np.linspace(a, b, int(points_per_segment))) for a, b in ends])
    flat = [segment for group in paths for segment in group]
    phonon.run_band_structure(flat)
    bands = phonon.get_band_structure_dict()
    frequencies = np.concatenate(bands['frequencies'])
    distances = np.concatenate(bands['distances'])
    phonon.run_mesh([int(n) for n in mesh], is_gamma_center=True)
    phonon.run_total_dos()
    dos = phonon.get_total_dos_dict()
    values = {'phonon_max_frequency': float(frequencies.max()), 'phonon_min_frequency': float(frequencies.min())}
    for label, point in special.items():
        if np.allclose(point, 0):
            continue
        phonon.run_qpoints([point])
        values[f'phonon_frequency_{label}'] = float(phonon.get_qpoints_dict()['frequencies'][0].max())
    tick_distances, tick_labels, k = [], [], 0
    for segment_labels, group in zip(labels, paths, strict=True):
        for j in range(len(group)):
            d = bands['distances'][k]
            if j == 0:
                if tick_distances and abs(tick_distances[-1] - d[0]) < 1e-9:
                    tick_labels[-1] += '|' + segment_labels[0]
                else:
                    tick_distances.append(float(d[0]))
                    tick_labels.append(segment_labels[0])
            tick_distances.append(float(d[-1]))
            tick_labels.append(segment_labels[j + 1])
            k += 1
    curves = {
        'distances': distances.tolist(),
        'frequencies': frequencies.tolist(),
        'ticks': tick_distances,
        'tick_labels': tick_labels,
        'dos_frequencies': np.asarray(dos['frequency_points']).tolist(),
        'dos': np.asarray(dos['total_dos']).tolist(),
    }
    return values, curves
