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


UNLOADED = """
import sys
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from slacore_connectors._arrow_memory import pandas_left_unloaded

with pandas_left_unloaded():
    pc.greater(pa.array(np.arange(3)), 1)  # converts a Python value: pyarrow looks for pandas
    pa.array(["a", "b"])
    during = "pandas" in sys.modules
import pandas

print(during, pandas.__name__, sys.meta_path[0].__class__.__name__ != "_NoPandas")
"""


def test_a_report_leaves_pandas_unloaded_and_importable_after() -> None:
    done = subprocess.run(
        [sys.executable, "-c", UNLOADED], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "pandas", "True"]


def test_pandas_loaded_before_stays_as_it_is() -> None:
    import pandas

    from slacore_connectors._arrow_memory import pandas_left_unloaded

    before = list(sys.meta_path)
    with pandas_left_unloaded():
        assert sys.meta_path == before
        assert pa.array([1, 2]).to_pandas().tolist() == [1, 2]
    assert pandas.__name__ == "pandas"
