"""The progress file the programs of aiida-mlpgen write in their job folder while they run.

``mlpgen-pacemaker`` (every iteration), ``mlpgen-nnp`` (every epoch) and ``mlpgen-fitsnap``
(every stage) replace ``mlpgen_progress.json`` there, atomically, with one small JSON object::

    {"text": "iteration 120/2000, loss 7.5e-05", "step": 120, "total": 2000,
     "started": 1733350000.0, "time": 1733350090.5}

The CalcJob monitor of aiida-mlpgen reads it over the computer's transport (local or SSH) and
publishes it as the process status; :func:`describe` adds the ETA. No AiiDA here: the programs
run on clusters where only the fitting codes are installed.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

PROGRESS_FILE = 'mlpgen_progress.json'


class ProgressFile:
    """Writes the progress of one program run to ``folder/PROGRESS_FILE``."""

    def __init__(self, folder='.', clock=time.time):
        self.path = Path(folder) / PROGRESS_FILE
        self.clock = clock
        self.started = clock()

    def __call__(self, text: str, step: int | None = None, total: int | None = None) -> None:
        record = {'text': text, 'step': step, 'total': total, 'started': self.started, 'time': self.clock()}
        partial = self.path.with_name(self.path.name + '.part')
        try:
            partial.write_text(json.dumps(record))
            os.replace(partial, self.path)  # a reader never sees half a file
        except OSError:  # progress is a courtesy: a full disk must not end the fit here
            pass


def read(content: str | bytes) -> dict | None:
    """The record of a progress file's content, or None when it is not one."""
    try:
        record = json.loads(content)
    except (ValueError, TypeError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get('text'), str):
        return None
    return record


def describe(record: dict) -> str:
    """``text`` with the ETA where step, total and times allow: ``iteration 120/2000, loss
    7.5e-05, ETA 12 min``."""
    text = record['text']
    step, total = record.get('step'), record.get('total')
    started, now = record.get('started'), record.get('time')
    numbers = (step, total, started, now)
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers):
        return text
    if step <= 0 or total <= step or now <= started or not all(map(math.isfinite, numbers)):
        return text
    remaining = (now - started) / step * (total - step)
    return f'{text}, ETA {duration(remaining)}'


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.2 h``."""
    if seconds < 90:
        return f'{seconds:.0f} s'
    if seconds < 5400:
        return f'{seconds / 60:.0f} min'
    return f'{seconds / 3600:.1f} h'
