"""Scratch folders for the benchmarks: a throw-away AiiDA profile and work space per run.

A benchmark fits whole mlearn sets, so its profile repository grows to gigabytes; each folder
made here is removed when the script ends. Set ``MLPGEN_KEEP_SCRATCH=1`` to keep them (they are
then printed), e.g. to look at a job's files.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path


def scratch(prefix: str) -> Path:
    """A new folder under the system's temporary directory, removed at exit unless kept."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.environ.get('MLPGEN_KEEP_SCRATCH'):
        print(f'scratch kept: {folder}', file=sys.stderr)
    else:
        atexit.register(shutil.rmtree, folder, True)
    return folder


def scratch_profile(prefix: str = 'mlpgen-bench-') -> None:
    """Point AIIDA_PATH at a scratch folder, unless the caller set one."""
    if 'AIIDA_PATH' not in os.environ:
        os.environ['AIIDA_PATH'] = str(scratch(prefix))
