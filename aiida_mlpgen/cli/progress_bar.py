"""The progress a foreground command shows while its process runs.

On a terminal one line is redrawn every second: elapsed time, a bar where the running step
knows its total (iterations, epochs, trials, labels), and the latest progress any process of
the run published. Into a log file (stderr not a terminal) each new progress is one plain line.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time

import click

BAR_WIDTH = 20


def bar(fraction) -> str:
    """``[######--------------]  30%`` for ``[step, total]``; empty without a total."""
    if not fraction or not fraction[1]:
        return ''
    share = min(max(fraction[0] / fraction[1], 0.0), 1.0)
    filled = int(round(share * BAR_WIDTH))
    return f'[{"#" * filled}{"-" * (BAR_WIDTH - filled)}] {share:4.0%} '


class ProgressLine:
    """Context manager around a foreground run (see the module docstring)."""

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.latest = ''
        self.fraction = None
        self._lock = threading.Lock()

    @property
    def interactive(self) -> bool:
        return self.stream.isatty()

    def __call__(self, node, text, fraction):
        """A process of this Python process published progress (``calculations.progress.LISTENERS``)."""
        line = f'{node.process_label}<{node.pk}>: {text}'
        with self._lock:
            changed = line != self.latest
            self.latest, self.fraction = line, fraction
        if changed and not self.interactive:
            click.echo(f'  {self._elapsed():6.0f} s  {line}', file=self.stream)

    def _elapsed(self) -> float:
        return time.monotonic() - self._start

    def _draw(self) -> None:
        with self._lock:
            latest, fraction = self.latest, self.fraction
        text = f'  {self.label}: {self._elapsed():5.0f} s  {bar(fraction)}{latest}'
        width = shutil.get_terminal_size((100, 20)).columns - 1
        click.echo('\r' + text[:width].ljust(width), nl=False, file=self.stream)

    def __enter__(self):
        from aiida_mlpgen.calculations.progress import LISTENERS

        self._start = time.monotonic()
        self._stop = threading.Event()
        LISTENERS.append(self)
        self._thread = None
        if self.interactive:

            def tick():
                while not self._stop.wait(1.0):
                    self._draw()

            self._thread = threading.Thread(target=tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_):
        from aiida_mlpgen.calculations.progress import LISTENERS

        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self in LISTENERS:
            LISTENERS.remove(self)
        prefix = '\r' if self.interactive else ''
        width = shutil.get_terminal_size((100, 20)).columns - 1 if self.interactive else 0
        click.echo(f'{prefix}  {self.label}: done in {self._elapsed():.0f} s'.ljust(width), file=self.stream)
