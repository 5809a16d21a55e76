"""Running the real command line in a subprocess, for the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def slacore(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``slacore ARGS`` in ``cwd``, as ``python -m slacore_connectors``, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip


def demo(folder: Path) -> Path:
    """``slacore demo --dir folder``: the bundled example synced into a store there."""
    done = slacore("demo", "--dir", str(folder), cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder
