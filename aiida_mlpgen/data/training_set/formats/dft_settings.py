"""Read the DFT settings (cutoff, k-spacing, functional, pseudopotentials) from DFT outputs.

Keys: ``code``, ``cutoff_ev`` (plane-wave cutoff, eV), ``kspacing`` (Å⁻¹, when the code
states it), ``functional``, ``pseudopotentials`` ({element: name}). A key that a file
does not state is left out; the consistency check compares only what is stated.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from ase.units import Rydberg


def vasp_outcar(path: Path) -> dict:
    settings: dict = {'code': 'VASP'}
    pseudos: dict = {}
    with open(path, errors='replace') as handle:
        for line in handle:
            if line.startswith(' POTCAR:'):
                name = line.split(':', 1)[1].strip()
                pseudos.setdefault(_vasp_element(name), name)
            elif 'ENCUT  =' in line and 'cutoff_ev' not in settings:
                settings['cutoff_ev'] = float(line.split('=')[1].split()[0])
            elif re.match(r'\s+GGA\s+=', line) and 'functional' not in settings:
                settings['functional'] = _vasp_functional(line.split('=')[1].split()[0])
            elif 'KSPACING =' in line and 'kspacing' not in settings:
                settings['kspacing'] = float(line.split('=')[1].split()[0])
            elif line.startswith((' Iteration', '----------------------------------------- Iteration')):
                break
    if pseudos:
        settings['pseudopotentials'] = pseudos
    return settings


def vasp_xml(path: Path) -> dict:
    settings: dict = {'code': 'VASP'}
    root = ElementTree.parse(path).getroot()
    values = {item.get('name'): (item.text or '').strip() for item in root.iter('i') if item.get('name')}
    if 'ENCUT' in values or 'ENMAX' in values:
        settings['cutoff_ev'] = float(values.get('ENCUT') or values['ENMAX'])
    if values.get('GGA'):
        settings['functional'] = _vasp_functional(values['GGA'])
    if values.get('KSPACING') and 'KSPACING' in _incar_tags(root):
        settings['kspacing'] = float(values['KSPACING'])
    pseudos = {}
    for array in root.iter('array'):
        if array.get('name') != 'atomtypes':
            continue
        fields = [field.text.strip() for field in array.iter('field')]
        for row in array.iter('rc'):
            cells = [c.text.strip() if c.text else '' for c in row.iter('c')]
            record = dict(zip(fields, cells, strict=False))
            if record.get('pseudopotential'):
                pseudos[record['element']] = record['pseudopotential']
    if pseudos:
        settings['pseudopotentials'] = pseudos
    return settings


def espresso_out(path: Path) -> dict:
    settings: dict = {'code': 'Quantum ESPRESSO'}
    pseudos = {}
    lines = Path(path).read_text(errors='replace').splitlines()
    for index, line in enumerate(lines):
        if 'kinetic-energy cutoff' in line and 'cutoff_ev' not in settings:
            settings['cutoff_ev'] = round(float(line.split('=')[1].split()[0]) * Rydberg, 6)
        elif 'Exchange-correlation=' in line and 'functional' not in settings:
            settings['functional'] = ' '.join(line.split('=', 1)[1].split('(')[0].split())
        elif line.strip().startswith('PseudoPot. #') and ' for ' in line:
            element = line.split(' for ')[1].split()[0]
            filename = line.split('read from file:')[1].strip() if 'read from file:' in line else ''
            if not filename and index + 1 < len(lines):
                filename = lines[index + 1].strip()
            pseudos[element] = Path(filename).name
    if pseudos:
        settings['pseudopotentials'] = pseudos
    return settings


def _vasp_element(potcar_title: str) -> str:
    # "PAW_PBE Mo_pv 08Apr2002" -> "Mo"
    parts = potcar_title.split()
    token = parts[1] if len(parts) > 1 else parts[0]
    return token.split('_')[0].split('.')[0]


def _vasp_functional(tag: str) -> str:
    tag = tag.strip().upper()
    return {'--': 'from POTCAR', 'PE': 'PBE', 'PS': 'PBEsol', '91': 'PW91', 'RP': 'rPBE'}.get(tag, tag)


def _incar_tags(root) -> set:
    incar = root.find('incar')
    return {item.get('name') for item in incar.iter('i')} if incar is not None else set()
