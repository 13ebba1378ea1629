"""LAMMPS pair lines from a list of terms, overlaid with ``hybrid/overlay`` when more than one.

A term is ``{'style': 'zbl 4.0 4.8', 'coeffs': ['1 1 73 73']}``: the style with its
arguments, and ``pair_coeff`` lines without the style name (``i j args``). A sub-style
that appears twice gets LAMMPS's instance number (``pair_coeff * * snap 1 ...``).
"""

from __future__ import annotations

from collections import Counter


def pair_lines(terms: list[dict]) -> tuple[str, list[str]]:
    """``(pair_style arguments, [pair_coeff arguments])`` for ``terms``."""
    if len(terms) == 1:
        return terms[0]['style'], list(terms[0]['coeffs'])
    names = [term['style'].split()[0] for term in terms]
    repeated = {name for name, count in Counter(names).items() if count > 1}
    seen: Counter = Counter()
    coeffs = []
    for name, term in zip(names, terms, strict=True):
        seen[name] += 1
        label = f'{name} {seen[name]}' if name in repeated else name
        for coeff in term['coeffs']:
            i, j, *rest = coeff.split()
            coeffs.append(' '.join([i, j, label, *rest]))
    return 'hybrid/overlay ' + ' '.join(term['style'] for term in terms), coeffs


def renamed(terms: list[dict], files: dict[str, bytes], prefix: str) -> tuple[list[dict], dict[str, bytes]]:
    """The terms and files with every file name prefixed (to overlay potentials without clashes)."""
    mapping = {name: f'{prefix}{name}' for name in files}
    new_terms = []
    for term in terms:
        coeffs = []
        for coeff in term['coeffs']:
            for old, new in mapping.items():
                coeff = coeff.replace('{file:' + old + '}', '{file:' + new + '}')
            coeffs.append(coeff)
        new_terms.append({'style': term['style'], 'coeffs': coeffs})
    return new_terms, {mapping[name]: content for name, content in files.items()}
