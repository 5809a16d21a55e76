"""The sync runs a DuckDB store records (the table ``sync_runs``): the statements of
:class:`~slacore_connectors.store._runs._RunRecords`, as DuckDB runs them.

Private to :mod:`slacore_connectors.store.duckdb`: :class:`DuckDBStore` inherits them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from slacore_connectors.store._duck_open import _DuckOpening, _first, _run
from slacore_connectors.store._runs import _START, _RunRecords


class _DuckRuns(_RunRecords, _DuckOpening):
    """The run records of a DuckDB store."""

    def _started(self, args: Sequence[Any]) -> int:
        row = _first(self._db, f"{_START} RETURNING run_id", list(args))
        assert row is not None
        return int(row[0])

    def _execute(self, query: str, args: Sequence[Any] = ()) -> list[Any]:
        return _run(self._db, query, list(args))

    @contextlib.contextmanager
    def _exclusive(self, what: str) -> Iterator[None]:
        with self._transaction(what):
            yield

    def _run_rows(self, query: str, args: Sequence[Any]) -> Sequence[Mapping[str, Any]]:
        return self._dicts(query, args)

    def _runs_name_connectors(self) -> bool:
        return True
