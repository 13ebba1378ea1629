"""Training sets: the ``TrainingSetData`` node, its in-memory ``Frames``, checks and formats."""

from .checks import TrainingSetError, TrainingSetWarning
from .frames import Frame, Frames
from .node import TrainingSetData

__all__ = ('Frame', 'Frames', 'TrainingSetData', 'TrainingSetError', 'TrainingSetWarning')
