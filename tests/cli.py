"""Running the real command line in a subprocess, for the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any


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


def signalled_sync(folder: Path, fake: Any, kind: str, nth: int, how: signal.Signals) -> int:
    """``slacore sync --json`` in a subprocess in ``folder``, sent ``how`` when the ``nth``
    request of ``kind`` reaches ``fake`` (a fake vendor server: its ``before_request`` hook
    sees each request's ``kind``); the process's exit status."""
    seen: list[str] = []
    running: list[subprocess.Popen[str]] = []

    def hook(request: Any) -> None:
        if request.kind == kind:
            seen.append(kind)
            if len(seen) == nth:
                os.kill(running[0].pid, how)

    fake.before_request = hook
    command = [sys.executable, "-m", "slacore_connectors", "sync", "--json"]
    try:
        with subprocess.Popen(
            command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            running.append(process)
            _, stderr = process.communicate(timeout=120)
    finally:
        fake.before_request = None
    assert len(seen) >= nth, f"ended before the {nth}th {kind}: {stderr}"
    return process.returncode
