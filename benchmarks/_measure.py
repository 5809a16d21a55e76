"""What the benchmarks measure of a child process: its wall time, CPU time and peak resident
memory, from ``os.wait4`` (the child's own usage: ``RUSAGE_CHILDREN`` would mix in every other
child, a fake vendor server's too).

Not a benchmark itself (``nox -s bench`` runs the ``bench_*.py`` scripts); they import it from
their own folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class Usage:
    """A child process's exit code, wall seconds (start to exit), CPU seconds (user and
    system) and peak resident memory in bytes."""

    code: int
    seconds: float
    cpu: float
    rss: int

    @property
    def rss_mib(self) -> float:
        return self.rss / 2**20


def run_child(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
) -> Usage:
    """Run ``command`` to its end and say what it cost."""
    began = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = code = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Usage(code, seconds, usage.ru_utime + usage.ru_stime, rss)


def json_child(script: str, *args: str, what: str) -> dict[str, Any]:
    """``python script --child ARGS``: the JSON document it prints, with its peak memory in
    MiB (``rss_mib``); a failure of the child ends the benchmark naming ``what``."""
    with tempfile.TemporaryFile("w+") as out:
        usage = run_child([sys.executable, script, "--child", *args], stdout=out)
        out.seek(0)
        output = out.read()
    if usage.code:
        raise SystemExit(f"{what} failed (exit {usage.code})")
    measured: dict[str, Any] = json.loads(output)
    measured["rss_mib"] = usage.rss_mib
    return measured
