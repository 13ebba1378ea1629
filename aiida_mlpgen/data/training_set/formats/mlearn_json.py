"""mlearn (Zuo et al. 2020) JSON: a list of records with a pymatgen Structure dict.

``outputs.energy`` total eV, ``outputs.forces`` eV/Å, ``outputs.virial_stress`` six
components in kB, VASP order (xx yy zz xy yz xz) and VASP sign (positive = compressive).
``tag`` train/test becomes the split when the file mixes tags, ``group`` the group.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase.data import chemical_symbols

from aiida_mlpgen.common.units import stress_factor, stress_to

from ..checks import TrainingSetError
from ..frames import Frame, Frames
from ._common import malformed, matrix_to_voigt, symbols_to_numbers, voigt_to_matrix

VASP_ORDER = 'xx yy zz xy yz xz'
_TAG_TO_SPLIT = {'train': 'train', 'test': 'validation', 'validation': 'validation'}


def read(path: Path, group: str | None = None, **_) -> list[Frame]:
    path = Path(path)
    try:
        records = json.loads(path.read_text())
    except (ValueError, RecursionError) as error:
        raise malformed(path, error) from error
    if not isinstance(records, list):
        raise TrainingSetError(f'{path}: an mlearn file holds a JSON list of records, found {type(records).__name__}')
    factor = stress_factor('kbar', 'pressure')
    # A file whose records all carry one tag (mlearn's training.json: all "train") states no split.
    tags = {str(r.get('tag', '')).lower() for r in records if isinstance(r, dict)}
    use_tags = len(tags) > 1
    frames = []
    for index, record in enumerate(records):
        where = f'{path}#{index}'
        try:
            structure, outputs = record['structure'], record['outputs']
            sites = structure['sites']
            for k, site in enumerate(sites):
                species = site['species']
                if len(species) != 1 or float(species[0].get('occu', 1)) != 1.0:
                    occupation = ' '.join(f'{s.get("element")}{s.get("occu", 1)}' for s in species)
                    raise TrainingSetError(
                        f'{where}: site {k} is {occupation or "empty"}: training structures need one fully '
                        'occupied element per site (no partial occupancy)'
                    )
            numbers = symbols_to_numbers([site['species'][0]['element'] for site in sites], where)
            virial = outputs.get('virial_stress')
            frames.append(
                Frame(
                    cell=np.asarray(structure['lattice']['matrix'], float),
                    numbers=numbers,
                    positions=np.asarray([site['xyz'] for site in sites], float),
                    energy=outputs.get('energy'),
                    forces=None if outputs.get('forces') is None else np.asarray(outputs['forces']),  # checked later
                    stress=None if virial is None else voigt_to_matrix(virial, VASP_ORDER) * factor,
                    group=group or str(record.get('group') or 'default'),
                    split=(
                        _TAG_TO_SPLIT.get(str(record.get('tag', '')).lower(), 'unassigned')
                        if use_tags
                        else 'unassigned'
                    ),
                    source=where,
                )
            )
        except TrainingSetError:
            raise
        except (KeyError, IndexError) as error:
            raise TrainingSetError(f'{where}: missing key {error} in mlearn record') from error
        except (TypeError, ValueError, AttributeError) as error:
            raise malformed(where, error) from error
    return frames


def write(frames: Frames, path: Path) -> list[Path]:
    path = Path(path)
    if path.suffix != '.json':
        path = path / 'training.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    records = []
    for frame in frames.to_frames():
        symbols = [chemical_symbols[int(z)] for z in frame.numbers]
        outputs = {'energy': frame.energy}
        if frame.forces is not None:
            outputs['forces'] = frame.forces.tolist()
        if frame.stress is not None:
            outputs['virial_stress'] = matrix_to_voigt(stress_to(frame.stress, 'kbar', 'pressure'), VASP_ORDER)
        records.append(
            {
                'structure': {
                    '@module': 'pymatgen.core.structure',
                    '@class': 'Structure',
                    'charge': 0,
                    'lattice': {'matrix': frame.cell.tolist(), 'pbc': list(frame.pbc)},
                    'sites': [
                        {'species': [{'element': s, 'occu': 1}], 'xyz': xyz.tolist(), 'label': s, 'properties': {}}
                        for s, xyz in zip(symbols, frame.positions, strict=True)
                    ],
                },
                'num_atoms': len(symbols),
                'group': frame.group,
                'outputs': outputs,
                'tag': {'train': 'train', 'validation': 'test'}.get(frame.split, ''),
                'weight': frame.weight,
            }
        )
    path.write_text(json.dumps(records))
    return [path]
