"""Which pacemaker evaluator a fit runs with, decided on the machine that runs it.

``tensorpot`` (TensorFlow, analytic gradients) is the default; where TensorFlow or
tensorpotential cannot be loaded, a CPU fit falls back to ``pyace`` (numerical gradients,
about 30 times slower) with a warning, and a GPU fit stops with the reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Written beside input.yaml when the fit falls back to pyace; pacemaker then reads it.
FALLBACK_INPUT = 'input_pyace.yaml'


def tensorpot_problem() -> str | None:
    """``None`` when pacemaker's tensorpot evaluator can be loaded here, else why not."""
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's start-up chatter
    try:
        import tensorflow  # noqa: F401
        import tensorpotential  # noqa: F401

        try:  # what pacemaker's fit adapter loads (the module moved between tensorpotential versions)
            import tensorpotential.compat.pace.fit  # noqa: F401
        except ModuleNotFoundError:
            import tensorpotential.fit  # noqa: F401
    except Exception as error:  # ImportError, or a broken binary (OSError, AttributeError, ...)
        return f'{type(error).__name__}: {error}'
    return None


def choose(config: dict, device: str = 'cpu') -> tuple[dict, str, str | None]:
    """``(config to run, evaluator, fallback reason)`` for pacemaker's input ``config``."""
    backend = config.get('backend', {})
    if backend.get('evaluator', 'pyace') != 'tensorpot':
        return config, backend.get('evaluator', 'pyace'), None
    problem = tensorpot_problem()
    if problem is None:
        return config, 'tensorpot', None
    if device == 'gpu':
        raise RuntimeError(
            f'device gpu needs the tensorpot evaluator, but TensorFlow cannot be loaded here ({problem})'
        )
    print(
        f'WARNING: TensorFlow cannot be loaded here ({problem}); the ACE fit falls back to the pyace evaluator '
        '(numerical gradients, about 30 times slower). Install the README environment for tensorpot.',
        file=sys.stderr,
        flush=True,
    )
    return {**config, 'backend': {**backend, 'evaluator': 'pyace'}}, 'pyace', problem


def prepare(argv: list[str], device: str) -> tuple[list[str], str, str | None]:
    """pacemaker's arguments with the evaluator decided: the input file replaced by
    :data:`FALLBACK_INPUT` when the fit falls back to pyace."""
    import yaml

    positional = bool(argv) and not argv[0].startswith('-')
    path = Path(argv[0]) if positional else Path('input.yaml')  # pacemaker's default input
    if not path.is_file():
        return argv, 'unknown', None
    config = yaml.safe_load(path.read_text()) or {}
    chosen, evaluator, reason = choose(config, device)
    if chosen is not config:
        Path(FALLBACK_INPUT).write_text(yaml.safe_dump(chosen, sort_keys=False))
        argv = [FALLBACK_INPUT, *(argv[1:] if positional else argv)]
    return argv, evaluator, reason
