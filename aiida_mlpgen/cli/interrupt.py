"""Foreground runs that Ctrl-C (SIGINT) or SIGTERM ends within seconds.

aiida-core's foreground runner answers SIGINT by killing the process through its transport,
which in a blocking run can wait for ever. Here the signal ends the run directly: the
scheduler jobs of the running CalcJobs are cancelled (on this machine by signalling the job's
process group, elsewhere through the computer's scheduler), every process node of the run that
has not terminated is marked Killed and sealed, and the command exits with 130.
"""

from __future__ import annotations

import os
import signal
import sys

import click

EXIT_INTERRUPTED = 130
#: extra of the root process node of a foreground run: the PID of the command running it
FOREGROUND_PID = 'mlpgen_foreground_pid'


def run_interruptible(builder_or_class, **inputs):
    """``run_get_node`` that a SIGINT or SIGTERM ends cleanly (see the module docstring)."""
    from aiida.engine import utils
    from aiida.manage import get_manager

    runner = get_manager().create_runner(communicator=None)  # as aiida's run_get_node: no broker needed
    with utils.loop_scope(runner.loop):
        process = runner.instantiate_process(builder_or_class, **inputs)
        process.node.base.extras.set(FOREGROUND_PID, os.getpid())  # for `mlpgen kill PK` from another shell
        handler = _Handler(process.node, runner.loop)
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, handler)
        try:
            process.execute()
        except BaseException:
            handler.stop_if_received()  # the signal broke the run before the loop ran the stop
            raise
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
        handler.stop_if_received()  # the run ended between the signal and the stop
        return process.outputs, process.node


class _Handler:
    """The signal handler only schedules the stop on the event loop: the signal may arrive in
    the middle of a database operation of the main thread, where touching the database again
    (a lock the interrupted frame holds) could block for ever. The loop runs the stop between
    two of its callbacks; should it not get there, a timer ends the command without it."""

    GRACE = 20.0  # seconds the loop has to run the stop

    def __init__(self, node, loop):
        self.node = node
        self.loop = loop
        self.received: str | None = None

    def __call__(self, number, _frame):
        import threading

        name = signal.Signals(number).name
        self.received = name
        click.echo(f'\n{name}: stopping {self.node.process_label}<{self.node.pk}> ...', err=True)
        timer = threading.Timer(self.GRACE, self._exit_unmarked, (name,))
        timer.daemon = True
        timer.start()
        self.loop.call_soon_threadsafe(self._stop, name)

    def _stop(self, name):
        try:
            killed = kill_tree(self.node, f'Killed by {name} to the foreground command')
            click.echo(f'{name}: marked Killed: {", ".join(killed) or "nothing was running"}', err=True)
        except Exception as error:  # noqa: BLE001 - the exit below must happen
            click.echo(f'{name}: could not mark every process killed: {error}', err=True)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)

    def stop_if_received(self):
        """Run the stop here when a signal came but the run ended without the loop running it
        (an interrupted database call can end it with an exception first): the command still
        exits with 130 and the unterminated processes are still marked Killed."""
        if self.received:
            self._stop(self.received)

    def _exit_unmarked(self, name):
        click.echo(
            f'{name}: the run did not stop within {self.GRACE:.0f} s; `mlpgen kill {self.node.pk}` marks it', err=True
        )
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


def kill_tree(root, message: str) -> list[str]:
    """Cancel the jobs of the unterminated CalcJobs under ``root`` (itself included) and mark
    every unterminated process node Killed; the labels of the nodes marked."""
    from aiida import orm
    from aiida.manage import get_manager
    from plumpy.process_states import ProcessState

    storage = get_manager().get_profile_storage()
    try:  # a transaction the signal interrupted
        storage.get_session().rollback()
    except Exception:  # noqa: BLE001, S110 - nothing to roll back
        pass
    nodes = [root, *root.called_descendants] if isinstance(root, orm.WorkflowNode) else [root]
    marked = []
    for node in reversed(nodes):  # children first
        node = orm.load_node(node.pk)
        if node.is_terminated or node.is_sealed:
            continue
        if isinstance(node, orm.CalcJobNode):
            _cancel_job(node)
        node.set_process_state(ProcessState.KILLED)
        node.set_process_status(message)
        node.seal()
        marked.append(f'{node.process_label}<{node.pk}>')
    return marked


def _cancel_job(node) -> None:
    """Stop the scheduler job of ``node``: its process group on this machine, else the
    scheduler's kill command over the computer's transport."""
    job_id = node.get_job_id()
    if not job_id or node.computer is None:
        return
    if node.computer.transport_type == 'core.local' and node.computer.scheduler_type == 'core.direct':
        try:
            pid = int(job_id)
        except ValueError:
            return
        for target in [*_descendants(pid), pid]:  # the program first, then the job script
            try:
                os.kill(target, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        return
    try:
        authinfo = node.get_authinfo()
        with authinfo.get_transport() as transport:
            scheduler = node.computer.get_scheduler()
            scheduler.set_transport(transport)
            scheduler.kill_job(job_id)
    except Exception as error:  # noqa: BLE001 - report, the node is marked killed all the same
        click.echo(f'could not cancel job {job_id} of {node.process_label}<{node.pk}>: {error}', err=True)


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux /proc), deepest first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as handle:
                parent = int(handle.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found = []

    def walk(p):
        for child in children.get(p, []):
            walk(child)
            found.append(child)

    walk(pid)
    return found
