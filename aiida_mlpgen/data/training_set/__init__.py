"""Training sets: the ``TrainingSetData`` node, its in-memory ``Frames``, checks and formats.

``frames``, ``checks`` and ``formats`` are plain Python and numpy (no AiiDA); the node loads
lazily on first use of ``TrainingSetData`` (PEP 562).
"""

from .checks import TrainingSetError, TrainingSetWarning
from .frames import Frame, Frames

__all__ = ('Frame', 'Frames', 'TrainingSetData', 'TrainingSetError', 'TrainingSetWarning')


def __getattr__(name):
    if name == 'TrainingSetData':
        from .node import TrainingSetData

        return TrainingSetData
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
