"""Import directions, read from the source (no import runs): the engines and the AiiDA-free
core (frames, checks, formats, units, the type registry) import no AiiDA and nothing of the
layers above them; nothing below the command line imports it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'aiida_mlpgen'
ABOVE_ENGINES = ('aiida_mlpgen.calculations', 'aiida_mlpgen.workflows', 'aiida_mlpgen.parsers', 'aiida_mlpgen.cli',
                 'aiida_mlpgen.embedded', 'aiida_mlpgen.computers', 'aiida_mlpgen.data.potentials',
                 'aiida_mlpgen.data.training_set.node', 'aiida_mlpgen.report')


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the code (relative imports resolved)."""
    package = module_name(path).split('.')
    if path.name != '__init__.py':
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = '.'.join([*base, node.module] if node.module else base)
            found.add(module)
            found.update(f'{module}.{alias.name}' for alias in node.names)
    return found


def _files(*patterns):
    return sorted({p for pattern in patterns for p in PACKAGE.glob(pattern)})


CORE = _files('engines/**/*.py', 'data/training_set/frames.py', 'data/training_set/checks.py',
              'data/training_set/formats/*.py', 'common/units.py', 'potential_types/*.py')


@pytest.mark.parametrize('path', CORE, ids=lambda p: module_name(p))
def test_core_imports_no_aiida_and_nothing_above(path):
    found = imports(path)
    aiida = sorted(m for m in found if m == 'aiida' or m.startswith('aiida.'))
    above = sorted(m for m in found if m.startswith(ABOVE_ENGINES))
    if module_name(path).startswith('aiida_mlpgen.potential_types'):  # the registry names classes as strings
        above = [m for m in above if not m.startswith('aiida_mlpgen.calculations.parameters')]
    assert not aiida and not above, f'{module_name(path)} imports {aiida + above}'


@pytest.mark.parametrize('path', _files('**/*.py'), ids=lambda p: module_name(p))
def test_only_the_command_line_imports_the_command_line(path):
    if module_name(path).startswith('aiida_mlpgen.cli'):
        return
    assert not [m for m in imports(path) if m.startswith('aiida_mlpgen.cli')]


def test_the_check_sees_imports():
    """The reader finds absolute, relative and function-level imports (a check that cannot fail is none)."""
    found = imports(PACKAGE / 'workflows' / 'generator.py')
    assert {'aiida.orm', 'aiida_mlpgen.workflows.optimization.OptimizationWorkChain',
            'aiida_mlpgen.calculations.parameters.checks.merge'} <= found
