"""Staging apart (the private ``_StagesColumns``): the DuckDB store stages a column batch
with no database work, and ``write_columns(..., staged=...)`` stores and answers what
``write_columns`` alone does, the rows staged on another thread (a sync stages each batch on
the thread that reads it)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from tests.slacore_connectors.test_store_columns import SEEN, _duck_rows, batches

from slacore.connector import ColumnBatch
from slacore_connectors.store import DuckDBStore, SQLiteStore
from slacore_connectors.store.base import _StagesColumns


def test_the_duckdb_store_stages_apart_the_sqlite_store_not() -> None:
    # A sync reads ahead only into a store that stages apart: into SQLite, writing batch
    # after batch with no pause would keep other connections from the write lock.
    with DuckDBStore(":memory:") as duck, SQLiteStore(":memory:") as lite:
        assert isinstance(duck, _StagesColumns)
        assert not isinstance(lite, _StagesColumns)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=batches(), second=batches())
def test_staged_apart_stores_what_write_columns_stores(
    tmp_path_factory: pytest.TempPathFactory, first: ColumnBatch, second: ColumnBatch
) -> None:
    folder = tmp_path_factory.mktemp("staged")
    for engine, suffix in ((DuckDBStore, ".duckdb"),):
        with engine(folder / f"alone{suffix}") as alone, engine(folder / f"ahead{suffix}") as ahead:
            for n, batch in enumerate((first, second, first)):
                seen = SEEN + timedelta(hours=n)
                # Staged on another thread, as a sync's reading thread stages it.
                staged: list[Any] = []
                thread = threading.Thread(
                    target=lambda into, of: into.append(ahead._stage_columns(of)),
                    args=(staged, batch),
                )
                thread.start()
                thread.join()
                by_itself = alone.write_columns("crm", batch, run_id=n, seen_at=seen)
                given_staged = ahead.write_columns(
                    "crm", batch, run_id=n, seen_at=seen, staged=staged[0]
                )
                assert by_itself == given_staged
            assert alone.dump() == ahead.dump()
            if isinstance(alone, DuckDBStore) and isinstance(ahead, DuckDBStore):
                assert _duck_rows(alone) == _duck_rows(ahead)
