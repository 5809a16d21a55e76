"""How the command line meets its user: help, exit statuses, closed pipes, bugs. Run for real,
in a subprocess, as a user's shell runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def slacore(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def test_no_command_prints_the_help_as_help_does() -> None:
    done = slacore()
    helped = slacore("--help")
    assert helped.returncode == 0
    assert done.returncode == 2
    assert done.stdout == ""
    # The whole help, its lines as --help prints them, not squashed into one error line.
    assert done.stderr == helped.stdout
    assert "error:" not in done.stderr
    assert len(done.stderr.splitlines()) > 10
