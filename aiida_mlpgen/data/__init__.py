"""AiiDA data nodes of aiida-mlpgen: training sets and (later) potentials."""

from .training_set import TrainingSetData, TrainingSetError

__all__ = ('TrainingSetData', 'TrainingSetError')
