"""``write_columns`` of both engines: a column batch stored as its records would be, byte for
byte (keys, digests, versions, row numbers), and as the other engine stores it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.slacore_connectors.test_store_staging import RECORDS, STORED

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import ColumnBatch, Cursor, RejectedRecord, Stream, records_table
from slacore_connectors.store import ColumnWriter, DuckDBStore, SQLiteStore, Store
from slacore_connectors.store._column_staging import stage_columns, staged_table
from slacore_connectors.store._staging import stager
from slacore_connectors.store._tables import TABLES

SEEN = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6
).filter(lambda s: s.strip() != "")
some_ids = st.sampled_from(["L1", "L2", 'L"3', "L\\4", "Lé", "L\x01", "R1"]) | texts
zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=-4)),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=5, minutes=30, seconds=15, microseconds=500)),
        timezone(timedelta(hours=-23, minutes=-59)),
    ]
)


@st.composite
def times(draw: st.DrawFn) -> datetime:
    at = draw(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2099, 12, 30)))
    return at.replace(tzinfo=UTC).astimezone(draw(zones))


optional = st.none() | some_ids
STRATEGIES: dict[Stream, st.SearchStrategy[Any]] = {
    Stream.LEADS: st.builds(
        Lead, id=some_ids, created_at=times(), source=optional, segment=optional,
        owner_id=optional, stage=optional, hand_raiser=st.booleans(),
    ),
    Stream.STAGE_CHANGES: st.builds(
        StageChange, lead_id=some_ids, to_stage=some_ids, at=times(), from_stage=optional,
        owner_id=optional,
    ),
    Stream.HANDOFFS: st.builds(
        Handoff, lead_id=some_ids, notified_at=times(), stage=some_ids, owner_id=optional,
        from_team=st.just("marketing"), to_team=st.just("sales"), source=optional,
        segment=optional, hand_raiser=st.booleans(),
    ),
    Stream.TOUCHES: st.builds(
        Touch, lead_id=some_ids, rep_id=some_ids, at=times(),
        channel=st.sampled_from(["call", "email", "meeting", "other"]),
    ),
    Stream.DEALS: st.builds(
        Deal, id=some_ids, amount=st.decimals(min_value=0, max_value=10**9, places=2),
        opened_at=times(), lead_id=optional, owner_id=optional,
    ),
    Stream.REPS: st.builds(
        Rep, id=some_ids, name=st.text(max_size=5), email=optional,
        team=st.sampled_from(["sales", "marketing"]), active=st.booleans(),
    ),
    Stream.OWNER_CHANGES: st.builds(
        OwnerChange, lead_id=some_ids, owner_id=some_ids, at=times()
    ),
}  # fmt: skip


DELETABLE = (Stream.LEADS, Stream.DEALS, Stream.REPS)
"""The streams whose records a batch may delete by id."""


@st.composite
def batches(draw: st.DrawFn) -> ColumnBatch:
    stream = draw(st.sampled_from(list(STRATEGIES)))
    records = draw(st.lists(STRATEGIES[stream], max_size=8))
    rejected = [
        RejectedRecord(stream=stream, reason="bad", source="x.csv", line=n, raw={"a": "b"})
        for n in range(draw(st.integers(0, 2)))
    ]
    deleted: list[str] = []
    if stream in DELETABLE:
        held = {record.id for record in records}
        deleted = [i for i in draw(st.lists(some_ids, max_size=2, unique=True)) if i not in held]
    return ColumnBatch(
        stream=stream,
        table=records_table(stream, records),
        cursor=Cursor(stream=stream, state={"offset": len(records)}),
        rejected=rejected,
        from_start=draw(st.booleans()),
        deleted=deleted,
    )


@pytest.mark.parametrize("engine", [SQLiteStore, DuckDBStore])
def test_both_stores_take_columns(engine: type[SQLiteStore | DuckDBStore]) -> None:
    with engine(":memory:") as store:
        assert isinstance(store, Store)
        assert isinstance(store, ColumnWriter)


def test_keys_and_digests_of_columns_are_those_stores_hold() -> None:
    for stream, record in RECORDS.items():
        [(key, digest, *_)] = stage_columns(TABLES[stream], records_table(stream, [record]))
        assert (key, digest) == STORED[stream], stream


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
def test_columns_stage_as_their_records_do(batch: ColumnBatch) -> None:
    spec = TABLES[batch.stream]
    assert stage_columns(spec, batch.table) == list(stager(spec)(batch.records()).values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=batches())
def test_the_staged_table_holds_the_staged_rows(batch: ColumnBatch) -> None:
    spec = TABLES[batch.stream]
    staged = staged_table(spec, batch.table)
    assert staged.column_names[:2] == ["key", "digest"]
    assert staged.column_names[-len(spec.columns) :] == list(spec.columns)
    rows = list(zip(*(column.to_pylist() for column in staged.columns), strict=True))
    assert rows == list(stager(spec)(batch.records()).values())


def _duck_rows(store: DuckDBStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every version of every record row of a DuckDB store, bookkeeping columns included
    (row numbers, key, digest, seen_from, seen_to, last_seen): what dump() leaves out."""
    return {
        spec.name: [
            tuple(row)
            for row in store._db.execute(f"SELECT * FROM {spec.name} ORDER BY row_id").fetchall()
        ]
        for spec in TABLES.values()
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=batches(), second=batches())
def test_write_columns_stores_what_write_batch_stores(
    tmp_path_factory: pytest.TempPathFactory, first: ColumnBatch, second: ColumnBatch
) -> None:
    """On each engine, by rows and by columns; and the same on both engines."""
    folder = tmp_path_factory.mktemp("stores")
    results = []
    with (
        SQLiteStore(folder / "rows.db") as rows,
        SQLiteStore(folder / "columns.db") as columns,
        DuckDBStore(folder / "rows.duckdb") as duck_rows,
        DuckDBStore(folder / "columns.duckdb") as duck_columns,
    ):
        for n, batch in enumerate((first, second, first)):
            seen = SEEN + timedelta(hours=n)
            results.append(
                (
                    rows.write_batch("crm", batch.to_batch(), run_id=n, seen_at=seen),
                    columns.write_columns("crm", batch, run_id=n, seen_at=seen),
                    duck_rows.write_batch("crm", batch.to_batch(), run_id=n, seen_at=seen),
                    duck_columns.write_columns("crm", batch, run_id=n, seen_at=seen),
                )
            )
        dumps = [rows.dump(), columns.dump(), duck_rows.dump(), duck_columns.dump()]
        assert _duck_rows(duck_rows) == _duck_rows(duck_columns)
        for stream in STRATEGIES:
            assert list(duck_columns.records(stream)) == list(rows.records(stream))
    assert dumps[0] == dumps[1] == dumps[2] == dumps[3]
    for by_rows, by_columns, by_duck_rows, by_duck_columns in results:
        assert by_rows == by_columns == by_duck_rows == by_duck_columns


@pytest.mark.parametrize("engine", [SQLiteStore, DuckDBStore])
def test_a_column_batch_and_its_records_count_a_repeated_key_once(
    tmp_path: Path, engine: type[SQLiteStore | DuckDBStore]
) -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    leads = [Lead(id="L1", created_at=at, source="a"), Lead(id="L1", created_at=at, source="b")]
    batch = ColumnBatch(
        stream="leads", table=records_table("leads", leads), cursor=Cursor(stream="leads")
    )
    with engine(tmp_path / "sla.db") as store:
        result = store.write_columns("crm", batch, run_id=1, seen_at=SEEN)
        [stored] = store.records("leads")
    assert (result.read, result.inserted, result.unchanged) == (2, 1, 1)
    assert stored.source == "b"


def test_the_duckdb_store_takes_columns() -> None:
    with DuckDBStore(":memory:") as store:
        assert isinstance(store, Store)
        assert isinstance(store, ColumnWriter)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=batches(), second=batches())
def test_duckdb_write_columns_stores_what_write_batch_stores_in_either_engine(
    first: ColumnBatch, second: ColumnBatch
) -> None:
    # The same batches: as records into SQLite, as columns into DuckDB (in memory: each
    # example makes a store of each engine).
    with SQLiteStore(":memory:") as rows, DuckDBStore(":memory:") as columns:
        for n, batch in enumerate((first, second, first)):
            seen = SEEN + timedelta(hours=n)
            by_rows = rows.write_batch("crm", batch.to_batch(), run_id=n, seen_at=seen)
            assert columns.write_columns("crm", batch, run_id=n, seen_at=seen) == by_rows
        assert columns.dump() == rows.dump()


def test_a_duckdb_column_batch_counts_a_repeated_key_once() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    leads = [Lead(id="L1", created_at=at, source="a"), Lead(id="L1", created_at=at, source="b")]
    batch = ColumnBatch(
        stream="leads", table=records_table("leads", leads), cursor=Cursor(stream="leads")
    )
    with DuckDBStore(":memory:") as store:
        result = store.write_columns("crm", batch, run_id=1, seen_at=SEEN)
        [stored] = store.records("leads")
        empty = ColumnBatch(
            stream="leads",
            table=records_table("leads", []),
            cursor=Cursor(stream="leads", state={"n": 1}),
        )
        nothing = store.write_columns("crm", empty, run_id=2, seen_at=SEEN)
        assert store.cursor("crm", "leads") == Cursor(stream="leads", state={"n": 1})
    assert (result.read, result.inserted, result.unchanged) == (2, 1, 1)
    assert stored.source == "b"
    assert (nothing.read, nothing.stored) == (0, 0)
