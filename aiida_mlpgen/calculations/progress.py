"""Live progress of running processes: the CalcJob monitor that reads a job's progress file,
and how any process of aiida-mlpgen publishes a line of progress.

A published line is kept in the node's extra ``mlpgen_progress`` (what ``mlpgen status``
shows) and joined to the process status the engine sets (what ``verdi process list`` shows):
``Monitoring scheduler: job state RUNNING | iteration 120/2000, loss 7.5e-05, ETA 12 min``.
In a foreground run the commands listen in (:data:`LISTENERS`) and draw a progress bar.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiida import orm

from aiida_mlpgen.common import progress_file

#: extra of a process node: its latest line of progress
PROGRESS_EXTRA = 'mlpgen_progress'
#: extra of a process node: step and total of that line (for bars), where known
PROGRESS_FRACTION_EXTRA = 'mlpgen_progress_fraction'
#: callables ``(node, text, fraction)`` told of every published line in this Python process
LISTENERS: list = []
#: the ``monitors`` input entry that every fitting CalcJob gets by default
MONITOR = {'entry_point': 'mlpgen.progress', 'minimum_poll_interval': 5}
_SEPARATOR = ' | '


def published(node: orm.ProcessNode) -> str | None:
    """The latest progress line published for ``node`` (None: none yet)."""
    return node.base.extras.get(PROGRESS_EXTRA, None)


def publish(node: orm.ProcessNode, text: str, step: int | None = None, total: int | None = None) -> None:
    """Record ``text`` as the progress of ``node`` and show it in its process status."""
    fraction = [step, total] if step is not None and total else None
    if published(node) != text:
        node.base.extras.set_many({PROGRESS_EXTRA: text, PROGRESS_FRACTION_EXTRA: fraction})
    follower = getattr(node, '_mlpgen_follower', None)
    if follower is not None:
        follower.refresh(text)
    else:
        node.set_process_status(text)
    for listener in list(LISTENERS):
        listener(node, text, fraction)


class _StatusFollower:
    """Stands in for ``node.set_process_status``: the status the engine sets keeps the latest
    progress line after it (the engine rewrites the status at every scheduler poll)."""

    def __init__(self, node):
        self.original = node.set_process_status
        self.base = node.process_status
        if self.base and _SEPARATOR in self.base:
            self.base = self.base.split(_SEPARATOR)[0]
        self.progress = published(node)

    def __call__(self, status):
        self.base = status
        self._write()

    def refresh(self, progress: str) -> None:
        self.progress = progress
        self._write()

    def _write(self):
        parts = [p for p in (self.base, self.progress) if p]
        self.original(_SEPARATOR.join(parts) if parts else None)


def follow(node: orm.ProcessNode) -> None:
    """Make the process status of ``node`` (this Python object) carry its progress."""
    if getattr(node, '_mlpgen_follower', None) is None and not node.is_sealed:
        follower = _StatusFollower(node)
        node._mlpgen_follower = follower
        node.set_process_status = follower


class ShowsProgress:
    """Mixin for the processes of aiida-mlpgen: their node's status carries their progress,
    from creation and again after a daemon worker reloads them from a checkpoint."""

    def on_create(self):
        super().on_create()
        follow(self.node)

    def load_instance_state(self, saved_state, load_context):
        super().load_instance_state(saved_state, load_context)
        follow(self.node)

    def on_terminated(self):
        follower = getattr(self.node, '_mlpgen_follower', None)
        if follower is not None:
            follower.progress = None  # a finished process shows no stale ETA
        super().on_terminated()


def progress_monitor(node: orm.CalcJobNode, transport) -> None:
    """CalcJob monitor (entry point ``mlpgen.progress``): read the job's progress file over
    the transport and publish it. Never stops the job: a missing or unreadable file means
    no news."""
    workdir = node.get_remote_workdir()
    if not workdir:
        return None
    remote = str(Path(workdir) / progress_file.PROGRESS_FILE)
    try:
        if not transport.isfile(remote):
            return None
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / progress_file.PROGRESS_FILE
            transport.getfile(remote, str(local))
            record = progress_file.read(local.read_bytes())
    except OSError:
        return None
    if record is not None:
        publish(node, progress_file.describe(record), record.get('step'), record.get('total'))
    return None
