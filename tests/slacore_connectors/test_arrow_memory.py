"""The command line's choice of pyarrow's memory pool: jemalloc where pyarrow has it, the
user's own choice (ARROW_DEFAULT_MEMORY_POOL) standing."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

CHOOSE = (
    "from slacore_connectors._arrow_memory import lean_arrow_pool; "
    "import pyarrow as pa; "
    "print(lean_arrow_pool(), pa.default_memory_pool().backend_name)"
)


def _chosen(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", CHOOSE],
        capture_output=True,
        text=True,
        env=clean | env,
        check=True,
    )
    return done.stdout.split()


@pytest.mark.skipif(
    "jemalloc" not in pa.supported_memory_backends(), reason="this pyarrow has no jemalloc"
)
def test_the_command_line_holds_arrow_tables_in_jemalloc() -> None:
    assert _chosen() == ["jemalloc", "jemalloc"]


def test_the_users_choice_of_pool_stands() -> None:
    assert _chosen(ARROW_DEFAULT_MEMORY_POOL="system") == ["system", "system"]
