"""AiiDA data nodes of aiida-mlpgen: training sets and potentials.

The names below load lazily (PEP 562), so that the AiiDA-free parts under this package
(``training_set.frames``, ``training_set.formats``) import without AiiDA: the NNP engine
reads its data files with them on machines that have no AiiDA.
"""

__all__ = ('TrainingSetData', 'TrainingSetError')


def __getattr__(name):
    if name in __all__:
        from . import training_set

        return getattr(training_set, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
