"""The ``lmp`` executable as a program: what it was built with (``lmp -h``) and one run of an
input written by :mod:`.lammps_input`. Plain subprocesses, no AiiDA; the potential nodes'
adapters (:mod:`aiida_mlpgen.data.potentials.lammps_run`) and ``mlpgen setup`` use them.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from .lammps_input import INPUT_NAME, LOG_NAME


@functools.cache
def installed_packages(lmp: str) -> frozenset[str]:
    """The packages a LAMMPS executable was built with (from ``lmp -h``)."""
    done = subprocess.run([lmp, '-h'], capture_output=True, text=True, timeout=120)
    text = done.stdout.split('Installed packages:', 1)
    if len(text) < 2:
        raise RuntimeError(f'{lmp} -h did not list installed packages')
    block = text[1].lstrip('\n').split('\n\n', 1)[0]
    return frozenset(block.split())


def run_lmp(directory, lmp: str = 'lmp', timeout: int = 1800) -> str:
    """Run ``in.lammps`` in ``directory``; the log text, or RuntimeError with its tail."""
    directory = Path(directory)
    done = subprocess.run(
        [lmp, '-in', INPUT_NAME, '-log', LOG_NAME, '-screen', 'none'],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    log = (directory / LOG_NAME).read_text() if (directory / LOG_NAME).exists() else ''
    if done.returncode != 0:
        tail = '\n'.join((log or done.stdout + done.stderr).splitlines()[-15:])
        raise RuntimeError(f'LAMMPS failed (exit {done.returncode}):\n{tail}')
    return log
