"""Import directions, read from the source (no import runs): the engines and the AiiDA-free
core (frames, checks, formats, units, the type registry) import no AiiDA and nothing of the
layers above them; nothing below the command line imports it."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'aiida_mlpgen'
ABOVE_ENGINES = (
    'aiida_mlpgen.calculations',
    'aiida_mlpgen.workflows',
    'aiida_mlpgen.parsers',
    'aiida_mlpgen.cli',
    'aiida_mlpgen.embedded',
    'aiida_mlpgen.computers',
    'aiida_mlpgen.production',
    'aiida_mlpgen.data.potentials',
    'aiida_mlpgen.data.training_set.node',
    'aiida_mlpgen.report',
)


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


CORE = _files(
    'engines/**/*.py',
    'data/training_set/frames.py',
    'data/training_set/checks.py',
    'data/training_set/formats/*.py',
    'common/units.py',
    'potential_types/*.py',
)


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
    assert {
        'aiida.orm',
        'aiida_mlpgen.workflows.optimization.OptimizationWorkChain',
        'aiida_mlpgen.calculations.parameters.checks.merge',
    } <= found


TYPE_NAMES = {'snap', 'ace', 'nnp'}
#: the registry and the modules of one type each (their own CalcJob, parser, parameters, node)
PER_TYPE = (
    'aiida_mlpgen.potential_types',
    'aiida_mlpgen.calculations.fitsnap',
    'aiida_mlpgen.calculations.pacemaker',
    'aiida_mlpgen.calculations.n2p2',
    'aiida_mlpgen.calculations.parameters',
    'aiida_mlpgen.parsers.fitsnap',
    'aiida_mlpgen.parsers.pacemaker',
    'aiida_mlpgen.parsers.n2p2',
    'aiida_mlpgen.data.potentials.snap',
    'aiida_mlpgen.data.potentials.ace',
    'aiida_mlpgen.data.potentials.nnp',
    'aiida_mlpgen.workflows.restart',
)


def type_branches(path: Path) -> list[str]:
    """Comparisons with a type name and tables keyed by type names in ``path``."""
    found = []

    def names(node) -> set:
        items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
        return {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)} & TYPE_NAMES

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare) and any(names(side) for side in [node.left, *node.comparators]):
            found.append(f'line {node.lineno}: comparison with a type name')
        elif isinstance(node, ast.Dict) and len(names(ast.Tuple(elts=[k for k in node.keys if k]))) > 1:
            found.append(f'line {node.lineno}: a table keyed by type names')
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, 'attr', getattr(node.func, 'id', '')) == 'Choice'
            and node.args
            and len(names(node.args[0])) > 1
        ):
            found.append(f'line {node.lineno}: a fixed choice of type names')
    return found


@pytest.mark.parametrize(
    'path', [p for p in _files('**/*.py') if not module_name(p).startswith(PER_TYPE)], ids=lambda p: module_name(p)
)
def test_no_branch_on_a_type_name_outside_the_registry(path):
    """Everything that differs between the types is asked of the registry (issue 16)."""
    assert not type_branches(path), f'{module_name(path)}: {type_branches(path)}'


def test_the_type_branch_finder_finds_branches(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text(
        "if kind == 'snap':\n    pass\nTABLE = {'snap': 2, 'ace': 1}\nx = kind in ('ace', 'nnp')\n"
        "click.Choice(['snap', 'ace', 'nnp'])\n"
    )
    assert [line.split(':')[0] for line in type_branches(sample)] == ['line 1', 'line 3', 'line 4', 'line 5']
