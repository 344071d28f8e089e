"""ruff and mypy --strict are clean: part of the suite, not only of CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def _run(*command: str) -> None:
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_lint_and_format() -> None:
    _run(str(BIN / "ruff"), "check", "feedpub", "tests")
    _run(str(BIN / "ruff"), "format", "--check", "feedpub", "tests")


def test_mypy_strict() -> None:
    _run(str(BIN / "mypy"))
