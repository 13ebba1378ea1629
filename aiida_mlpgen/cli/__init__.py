"""The ``mlpgen`` command line: embedded setup, training-data management, demo."""

# Register the sub-commands on the root group.
from . import data, demo, fit, generate, learn, potential, setup, status, validate  # noqa: E402,F401
from .root import cmd_root

__all__ = ('cmd_root',)
