"""``input.nn``: n2p2's settings file — keywords, elements, network layout, symmetry functions.

Lines keep their order and text so that a pruned copy differs from the original only by the
``# `` n2p2 puts in front of removed symmetry-function lines.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ase.data import atomic_numbers

from .symfunctions import SymmetryFunction, ordered_pair, parse_line


class NnpInputError(ValueError):
    """input.nn, scaling.data, weights or input.data that n2p2 would reject too."""


ACTIVATIONS = set('ltspgcSeh')
SCALING_KEYWORDS = (
    'scale_symmetry_functions',
    'center_symmetry_functions',
    'scale_symmetry_functions_sigma',
)


@dataclasses.dataclass
class Settings:
    lines: list[str]  # the file's lines, comments included
    keywords: dict[str, str]  # first occurrence of each keyword -> rest of the line
    symmetry_functions: list[SymmetryFunction]  # in file order, each knows its line number
    path: Path | None = None

    # ---- reading -----------------------------------------------------------------------
    @classmethod
    def read(cls, path) -> Settings:
        path = Path(path)
        if not path.is_file():
            raise NnpInputError(f'{path}: no such settings file')
        return cls.parse(path.read_text(errors='replace'), path)

    @classmethod
    def parse(cls, text: str, path: Path | None = None) -> Settings:
        where = path or 'input.nn'
        lines = text.splitlines()
        keywords: dict[str, str] = {}
        functions = []
        for number, line in enumerate(lines):
            content = line.split('#', 1)[0].strip()
            if not content:
                continue
            words = content.split(None, 1)
            keyword, rest = words[0], (words[1] if len(words) > 1 else '')
            if keyword == 'symfunction_short':
                try:
                    functions.append(parse_line(rest, number))
                except ValueError as error:
                    raise NnpInputError(f'{where}:{number + 1}: {error}') from error
            else:
                keywords.setdefault(keyword, rest.strip())
        settings = cls(lines, keywords, functions, Path(path) if path else None)
        settings.validate()
        return settings

    # ---- derived values ----------------------------------------------------------------
    @property
    def elements(self) -> list[str]:
        """Elements sorted by atomic number, as n2p2's element map orders them."""
        return sorted(self.keywords.get('elements', '').split(), key=lambda s: atomic_numbers.get(s, 0))

    def value(self, keyword: str, default=None, kind=float):
        if keyword not in self.keywords:
            return default
        text = self.keywords[keyword].split()
        try:
            return kind(text[0]) if text else default
        except ValueError as error:
            raise NnpInputError(f'{self.path or "input.nn"}: {keyword} {self.keywords[keyword]!r}: {error}') from error

    def has(self, keyword: str) -> bool:
        return keyword in self.keywords

    @property
    def atom_energies(self) -> dict[str, float]:
        energies = {element: 0.0 for element in self.elements}
        for line in self.lines:
            words = line.split('#', 1)[0].split()
            if len(words) >= 3 and words[0] == 'atom_energy':
                energies[words[1]] = float(words[2])
        return energies

    @property
    def cutoff(self) -> tuple[int, float]:
        words = self.keywords.get('cutoff_type', '1').split()
        return int(words[0]), float(words[1]) if len(words) > 1 else 0.0

    @property
    def scaling(self) -> tuple[str, float, float]:
        """(mode, Smin, Smax); mode one of none, scale, center, scalecenter, sigma."""
        scale, center = self.has('scale_symmetry_functions'), self.has('center_symmetry_functions')
        if self.has('scale_symmetry_functions_sigma'):
            mode = 'sigma'
        elif scale and center:
            mode = 'scalecenter'
        elif scale:
            mode = 'scale'
        elif center:
            mode = 'center'
        else:
            mode = 'none'
        return mode, self.value('scale_min_short', 0.0), self.value('scale_max_short', 0.0)

    @property
    def normalization(self) -> tuple[float, float, float] | None:
        """(mean_energy, conv_energy, conv_length) written by nnp-norm, or None."""
        if not all(self.has(k) for k in ('mean_energy', 'conv_energy', 'conv_length')):
            return None
        return self.value('mean_energy'), self.value('conv_energy'), self.value('conv_length')

    def layout(self, n_inputs: int) -> tuple[list[int], list[str], bool]:
        """Neurons per layer (input first), activation per layer after the input, normalize flag."""
        hidden = self.value('global_hidden_layers_short', 0, int)
        nodes = [int(x) for x in self.keywords.get('global_nodes_short', '').split()]
        activations = self.keywords.get('global_activation_short', '').split()
        return [n_inputs, *nodes[:hidden], 1], activations[: hidden + 1], self.has('normalize_nodes')

    def functions_of(self, element: str) -> list[SymmetryFunction]:
        """The element's symmetry functions in n2p2's sorted order (scaling.data follows it)."""
        z = {e: atomic_numbers[e] for e in self.elements}
        own = [ordered_pair(sf, z) for sf in self.symmetry_functions if sf.element == element]
        return sorted(own, key=lambda sf: sf.sort_key(z, self.cutoff))

    @property
    def max_cutoff(self) -> float:
        return max(sf.rc for sf in self.symmetry_functions)

    # ---- checks --------------------------------------------------------------------------
    def validate(self) -> None:
        where = self.path or 'input.nn'
        elements = self.keywords.get('elements', '').split()
        if not elements:
            raise NnpInputError(f'{where}: no "elements" keyword')
        unknown = [e for e in elements if atomic_numbers.get(e, 0) < 1]  # not X, the dummy
        if unknown:
            raise NnpInputError(f'{where}: unknown element(s) {unknown}')
        number = self.value('number_of_elements', len(elements), int)
        if number != len(elements):
            raise NnpInputError(f'{where}: number_of_elements {number} but {len(elements)} elements listed')
        for sf in self.symmetry_functions:
            missing = [e for e in (sf.element, sf.e1, sf.e2) if e and e not in elements]
            if missing:
                raise NnpInputError(
                    f'{where}:{sf.line + 1}: symmetry function uses element(s) {missing} not listed in "elements" '
                    f'({" ".join(elements)})'
                )
            if not sf.rc > 0:
                raise NnpInputError(f'{where}:{sf.line + 1}: symmetry function cutoff must be > 0, got {sf.rc}')
            if sf.eta < 0:
                raise NnpInputError(f'{where}:{sf.line + 1}: eta must be >= 0, got {sf.eta}')
        for element in elements:
            if not any(sf.element == element for sf in self.symmetry_functions):
                raise NnpInputError(f'{where}: element {element} has no symmetry functions')
        hidden = self.value('global_hidden_layers_short', None, int)
        if hidden is None:
            raise NnpInputError(f'{where}: no "global_hidden_layers_short" keyword')
        nodes = self.keywords.get('global_nodes_short', '').split()
        activations = self.keywords.get('global_activation_short', '').split()
        if len(nodes) != hidden or len(activations) != hidden + 1:
            raise NnpInputError(
                f'{where}: {hidden} hidden layers need {hidden} global_nodes_short and {hidden + 1} '
                f'global_activation_short values, found {len(nodes)} and {len(activations)}'
            )
        bad = [a for a in activations if a not in ACTIVATIONS]
        if bad:
            raise NnpInputError(f'{where}: unknown activation function(s) {bad}; n2p2 knows {sorted(ACTIVATIONS)}')
        cutoff_type, alpha = self.cutoff
        if cutoff_type not in range(9) or not 0 <= alpha < 1:
            raise NnpInputError(f'{where}: cutoff_type {self.keywords.get("cutoff_type")!r} is not valid')

    # ---- writing ---------------------------------------------------------------------------
    def text(self, pruned_lines: set[int] = frozenset()) -> str:
        return '\n'.join(('# ' + line if n in pruned_lines else line) for n, line in enumerate(self.lines)) + '\n'
