"""``mlpgen setup``."""

import click

from .root import cmd_root


@cmd_root.command('setup')
def cmd_setup():
    """Create the embedded default profile, localhost computer and codes where missing.

    Idempotent: a second call reports what exists and changes nothing. Honours AIIDA_PATH.
    """
    from aiida_mlpgen.embedded import setup

    report = setup()
    for line in report.lines:
        click.echo(line)
    click.echo('nothing to do: everything exists' if not report.created else f'created {len(report.created)} item(s)')
