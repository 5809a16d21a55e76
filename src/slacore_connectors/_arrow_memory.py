"""Which allocator holds the Arrow tables of a command that reads the store in columns.

pyarrow's default pool on Linux (mimalloc) keeps much of what a report frees: a report of
1,000,000 hand-offs peaked at 1.00-1.04 GiB with it, 0.95 GiB with the system allocator and
0.87 GiB with jemalloc (docs/performance.md, "The report on the column path"). The command
line, which owns its process, asks for jemalloc where pyarrow has it (``slacore report``
and ``slacore demo``); a library never changes a process-wide setting behind its caller's
back, so only the CLI calls this. ``slacore sync`` does not: asking imports pyarrow, about a
quarter of a second that a re-sync with nothing new would pay for nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import sys
from collections.abc import Iterator
from typing import Any

from slacore._arrow import pyarrow

_CHOSEN_BY_USER = "ARROW_DEFAULT_MEMORY_POOL"
"""pyarrow's own setting: when the user sets it, their choice stands."""


def lean_arrow_pool() -> str:
    """Make jemalloc pyarrow's default memory pool for this process, unless the user chose
    one (``ARROW_DEFAULT_MEMORY_POOL``) or this pyarrow lacks it; the backend in use."""
    pa = pyarrow()
    if not os.environ.get(_CHOSEN_BY_USER) and "jemalloc" in pa.supported_memory_backends():
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    return str(pa.default_memory_pool().backend_name)


class _NoPandas(importlib.abc.MetaPathFinder):
    """Answers an import of pandas with :class:`ModuleNotFoundError`."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"no {fullname} while a report is built", name=fullname)


@contextlib.contextmanager
def pandas_left_unloaded() -> Iterator[None]:
    """While the block runs, pyarrow finds no pandas, unless pandas is loaded already.

    pyarrow imports pandas, when it is installed, the first time it converts a Python
    value (a number compared with a column, a list made an array): 0.5-0.7 s of a
    report's time, for nothing, as the report holds no pandas object. For the command
    line only, which owns its process (as :func:`lean_arrow_pool`): pyarrow remembers it
    found no pandas for the rest of the process (its ``to_pandas`` then fails), while
    ``import pandas`` after the block works as ever.
    """
    if "pandas" in sys.modules:
        yield
        return
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
