"""The documentation builds with Sphinx, warnings as errors (CI runs this)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docs]

REPO = Path(__file__).resolve().parents[1]


def test_sphinx_build_has_no_warnings(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            '-m',
            'sphinx',
            '-W',
            '--keep-going',
            '-q',
            '-b',
            'html',
            str(REPO / 'docs'),
            str(tmp_path / 'html'),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / 'html' / 'howto' / 'validate.html').exists()
    cli = (tmp_path / 'html' / 'reference' / 'cli.html').read_text()
    assert 'id="mlpgen-validate"' in cli and 'id="mlpgen-fit-snap"' in cli  # sphinx-click documented them
