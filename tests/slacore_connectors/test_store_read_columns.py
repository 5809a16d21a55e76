"""``Store.columns``: the records of ``records()`` as one Arrow table, for every implementation
(the contract), and on SQLite for rows an older slacore stored and stores a real sync made."""

from __future__ import annotations

import itertools
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli import demo as run_demo
from tests.slacore_connectors.test_store import IMPLEMENTATIONS

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import Batch, Cursor, Stream, core_fields
from slacore.errors import ValidationError
from slacore_connectors.store import SQLiteStore, Store, StoreError, copy_store, open_store
from slacore_connectors.store._columns import CHUNK, SPACE_END, read_arrow
from slacore_connectors.store._tables import TABLES

ZONES = [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
T0 = datetime(2020, 7, 1, 9, tzinfo=UTC)
SEEN = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)]
TYPES = {
    "time": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
    "text": pa.string(),
    "stage": pa.string(),
}


def expected(stream: Stream, records: list[Any]) -> list[dict[str, Any]]:
    """``records`` as the rows ``columns()`` must hold: times as UTC instants, enums as
    their values."""

    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        if isinstance(value, Enum):
            return value.value
        return value

    names = [f.name for f in core_fields(stream)]
    return [{name: cell(getattr(record, name)) for name in names} for record in records]


def assert_same(store: Store, stream: Stream, **read: Any) -> pa.Table:
    if isinstance(store, SQLiteStore):
        # Both ways SQLite reads: straight into Arrow by ADBC's driver, and by sqlite3.
        store._arrow_reads = False
        by_sqlite3 = _assert_same(store, stream, **read)
        store._arrow_reads = True
        assert _assert_same(store, stream, **read).equals(by_sqlite3)
    return _assert_same(store, stream, **read)


def _assert_same(store: Store, stream: Stream, **read: Any) -> pa.Table:
    table = store.columns(stream, **read)
    assert isinstance(table, pa.Table)
    fields = core_fields(stream)
    assert table.column_names == [f.name for f in fields]
    for f in fields:
        kind = table.schema.field(f.name).type
        if f.kind == "money":
            assert pa.types.is_decimal(kind), f.name
        else:
            assert kind == TYPES.get(f.kind, pa.string()), f.name
    assert table.to_pylist() == expected(stream, list(store.records(stream, **read)))
    return table


@pytest.fixture(scope="module", params=sorted(IMPLEMENTATIONS))
def implementation(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _write(store: Store, stream: Stream, records: list[Any], seen: datetime, run: int) -> None:
    cursor = Cursor(stream=stream, state={"line": run})
    done = Batch(stream=stream, records=records, cursor=cursor)
    store.write_batch("crm" if run % 2 else "other", done, run_id=run, seen_at=seen)


ids = st.sampled_from(["L1", "L2", "L3", "l\u00e9o", "L 4"])
reps = st.sampled_from(["R1", "R2", "M1"])
times = st.builds(
    lambda minutes, zone: (T0 + timedelta(minutes=minutes)).astimezone(zone),
    st.integers(-60 * 24 * 40, 60 * 24 * 40),
    st.sampled_from(ZONES),
)
STRATEGIES: dict[Stream, st.SearchStrategy[Any]] = {
    Stream.HANDOFFS: st.builds(
        Handoff,
        lead_id=ids,
        notified_at=times,
        stage=st.sampled_from(["mql", "sql"]),
        owner_id=st.none() | reps,
        source=st.sampled_from(["web", "event", ""]),
        segment=st.none() | st.just("smb"),
        hand_raiser=st.booleans(),
    ),
    Stream.TOUCHES: st.builds(
        Touch,
        lead_id=ids,
        rep_id=reps,
        at=times,
        channel=st.sampled_from(["call", "email", "meeting", "other"]),
    ),
    Stream.STAGE_CHANGES: st.builds(
        StageChange,
        lead_id=ids,
        to_stage=st.sampled_from(["mql", "sal"]),
        at=times,
        from_stage=st.none() | st.just("lead"),
        owner_id=st.none() | reps,
    ),
    Stream.OWNER_CHANGES: st.builds(OwnerChange, lead_id=ids, owner_id=reps, at=times),
    Stream.LEADS: st.builds(
        Lead, id=ids, created_at=times, owner_id=st.none() | reps, hand_raiser=st.booleans()
    ),
    Stream.DEALS: st.builds(
        lambda opened, after, won, **kwargs: Deal(
            opened_at=opened,
            closed_at=None if after is None else opened + timedelta(days=after),
            won=won and after is not None,
            **kwargs,
        ),
        times,
        st.none() | st.integers(0, 30),
        st.booleans(),
        id=ids,
        amount=st.decimals(min_value=0, max_value=10**6, places=2),
        lead_id=st.none() | ids,
    ),
    Stream.REPS: st.builds(
        Rep, id=reps, name=st.sampled_from(["Ann", "Bo"]), team=st.sampled_from(["sales"])
    ),
}

READS: list[dict[str, Any]] = [
    {},
    {"since": T0 - timedelta(days=3), "until": T0 + timedelta(days=5)},
    {"since": T0},
    {"until": T0},
    {"source_name": "crm"},
    {"source_name": "other", "since": T0 - timedelta(days=10)},
    {"as_of": SEEN[0] + timedelta(days=1)},
    {"as_of": SEEN[0] - timedelta(days=1)},
    {"as_of": SEEN[1], "since": T0, "until": T0 + timedelta(days=30)},
]


@pytest.mark.parametrize("stream", list(Stream), ids=str)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_columns_are_the_records_for_every_read(
    implementation: str, stream: Stream, data: st.DataObject
) -> None:
    first = data.draw(st.lists(STRATEGIES[stream], max_size=12), label="first")
    then = data.draw(st.lists(STRATEGIES[stream], max_size=12), label="then")
    with (
        tempfile.TemporaryDirectory() as folder,
        open_store(IMPLEMENTATIONS[implementation](Path(folder))) as store,
    ):
        _write(store, stream, first, SEEN[0], 1)
        _write(store, stream, then, SEEN[1], 2)
        _write(store, stream, then[::2], SEEN[1], 3)
        for read in READS:
            assert_same(store, stream, **read)


@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_an_empty_store_gives_empty_tables_of_the_streams_columns(
    implementation: str, stream: Stream, tmp_path: Path
) -> None:
    with open_store(IMPLEMENTATIONS[implementation](tmp_path)) as store:
        assert assert_same(store, stream).num_rows == 0


def test_more_rows_than_a_chunk_come_in_order(implementation: str, tmp_path: Path) -> None:
    # The one test of many rows: the store reads more than CHUNK rows in several chunks.
    touches = [
        Touch(lead_id=f"L{n % 97}", rep_id="R1", at=T0 + n * timedelta(minutes=1), channel="call")
        for n in range(CHUNK + 4_464)
    ]
    with open_store(IMPLEMENTATIONS[implementation](tmp_path)) as store:
        _write(store, Stream.TOUCHES, touches, SEEN[0], 1)
        table = assert_same(store, Stream.TOUCHES, since=T0 + timedelta(minutes=10))
        assert table.num_rows == CHUNK + 4_464 - 10


# --- SQLite: rows an older slacore stored, and a store made by a real sync --------------------

SPACES = ["", " ", "\t", "\u2003", "\x1c", "\u3000"]
CELLS = {
    "lead_id": st.sampled_from(["L1", "a\u2003", b"L1", *SPACES]) | st.none() | st.integers(0, 2),
    "rep_id": st.sampled_from(["R1", " R2 ", *SPACES]) | st.none(),
    "stage": st.sampled_from(["mql", *SPACES]) | st.none(),
    "owner_id": st.sampled_from(["R1", *SPACES]) | st.none(),
    "channel": st.sampled_from(["call", "CALL", "Email", "fax", "", "other"]) | st.none(),
    "from_team": st.sampled_from(["marketing", "sales", "Sales", "x"]) | st.none(),
    "to_team": st.sampled_from(["marketing", "sales", "SALES", ""]),
    "hand_raiser": st.sampled_from([0, 1, 2, None, "true", -1, 0.5, 1.0]),
    "time": st.sampled_from(
        [
            "2020-07-01T09:00:00+00:00",
            "2020-07-01T05:00:00-04:00",
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+05:00",
            "1900-01-01T03:00:00+05:00",
            "2099-12-31T23:00:00-02:00",
            "1901-01-01T00:00:00+23:59",
        ]
    ),
}


def _us(text: str) -> int | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _insert(db: sqlite3.Connection, stream: Stream, n: int, cells: dict[str, Any]) -> None:
    """A row as an older slacore may have stored it: any cells, its main time in ISO 8601 with
    an offset and ``time_us`` its instant (every slacore wrote both from one aware time)."""
    time_column = {"handoffs": "notified_at", "touches": "at"}[stream.value]
    text = cells.pop("time")
    cells[time_column] = text
    names = ["source_name", "key", "digest", "seen_from", "last_seen", "time_us", *cells]
    values = ["crm", f"k{n}", "d", 1, 1, _us(text), *cells.values()]
    marks = ", ".join("?" for _ in names)
    db.execute(f"INSERT INTO {stream.value} ({', '.join(names)}) VALUES ({marks})", values)


ROWS = {
    Stream.TOUCHES: st.fixed_dictionaries(
        {name: CELLS[name] for name in ("lead_id", "rep_id", "channel", "time")}
    ),
    Stream.HANDOFFS: st.fixed_dictionaries(
        {
            name: CELLS[name]
            for name in ("lead_id", "stage", "owner_id", "from_team", "to_team", "hand_raiser")
        }
        | {"time": CELLS["time"], "source": st.sampled_from(["web", ""])}
    ),
}


def _read(read: Any) -> tuple[str, Any, list[str]]:
    """How a read ended: ``("ok", rows, errors)`` or ``("StoreError", message, [])``."""
    skipped: list[ValidationError] = []
    try:
        result = read(skipped.append)
    except StoreError as error:
        return "StoreError", str(error), []
    return "ok", result, [str(error) for error in skipped]


@pytest.mark.parametrize("stream", list(ROWS), ids=str)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rows_the_model_converts_or_refuses_go_through_the_model(
    stream: Stream, data: st.DataObject
) -> None:
    rows = data.draw(st.lists(ROWS[stream], min_size=1, max_size=6))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sla.db"
        SQLiteStore(path).close()
        with sqlite3.connect(path) as db:
            for n, cells in enumerate(rows):
                _insert(db, stream, n, dict(cells))
        with SQLiteStore(path, read_only=True) as store:
            for give_invalid, arrow_reads in itertools.product((True, False), (True, False)):
                store._arrow_reads = arrow_reads

                def records(invalid: Any, give: bool = give_invalid) -> Any:
                    found = store.records(stream, invalid=invalid if give else None)
                    return expected(stream, list(found))

                def columns(invalid: Any, give: bool = give_invalid) -> Any:
                    return store.columns(stream, invalid=invalid if give else None).to_pylist()

                assert _read(columns) == _read(records)


@pytest.mark.parametrize("arrow_reads", [True, False], ids=["adbc", "sqlite3"])
def test_a_blob_among_text_cells_is_refused_as_records_refuses_it(
    tmp_path: Path, arrow_reads: bool
) -> None:
    # pyarrow takes bytes as text when told a column is text: a blob id read as 'L1'.
    path = tmp_path / "sla.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        for n, lead in enumerate([b"L1", "L2"]):
            cells = {"lead_id": lead, "rep_id": "R1", "channel": "call"}
            _insert(db, Stream.TOUCHES, n, cells | {"time": "2020-07-01T09:00:00+00:00"})
    with SQLiteStore(path, read_only=True) as store:
        store._arrow_reads = arrow_reads
        refused: list[ValidationError] = []
        table = store.columns(Stream.TOUCHES, invalid=refused.append)
        assert table.column("lead_id").to_pylist() == ["L2"]
        assert [e.field for e in refused] == ["lead_id"]
        assert len(list(store.records(Stream.TOUCHES, invalid=lambda _: None))) == 1


def test_adbcs_driver_reads_a_store_into_arrow(tmp_path: Path) -> None:
    pytest.importorskip("adbc_driver_sqlite")
    path = tmp_path / "sla.db"
    with SQLiteStore(path) as store:
        touch = Touch(lead_id="L'1", rep_id="R1", at=T0, channel="call")
        _write(store, Stream.TOUCHES, [touch], SEEN[0], 1)
        query, args = store._select(
            TABLES[Stream.TOUCHES], source_name="crm", since=T0, chunked=True, typed=True
        )
    found = read_arrow(str(path), query, args)
    assert found is not None
    assert found.column_names == ["row_id", "lead_id", "rep_id", "time_us", "channel", "typed"]
    assert found.column("lead_id").to_pylist() == ["L'1"]
    assert found.column("typed").to_pylist() == [1]
    assert read_arrow(str(tmp_path / "missing.db"), query, args) is None


def test_no_character_past_the_checked_ones_is_white_space() -> None:
    assert not any(chr(code).isspace() for code in range(SPACE_END, sys.maxunicode + 1))


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    folder = run_demo(tmp_path_factory.mktemp("demo"))
    with SQLiteStore(folder / "slacore.db", read_only=True) as store:
        yield store


@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_a_synced_store_reads_the_same_in_columns(synced: SQLiteStore, stream: Stream) -> None:
    (run,) = synced.runs()
    later = run.started_at + timedelta(days=1)
    reads: list[dict[str, Any]] = [
        {},
        {"as_of": later},
        {"as_of": run.started_at - timedelta(days=1)},
        {"source_name": run.source_name},
        {"source_name": "nobody"},
        {"since": datetime(2020, 5, 1, tzinfo=UTC), "until": datetime(2020, 6, 1, tzinfo=UTC)},
    ]
    rows = [assert_same(synced, stream, **read).num_rows for read in reads]
    assert rows[0] == rows[1] == rows[3] == synced.count(stream)
    assert rows[2] == rows[4] == 0


def test_money_keeps_every_place(tmp_path: Path) -> None:
    deals = [
        Deal(id="D1", amount=Decimal("12.345"), opened_at=T0),
        Deal(id="D2", amount=Decimal("7"), opened_at=T0),
    ]
    with SQLiteStore(tmp_path / "sla.db") as store:
        _write(store, Stream.DEALS, deals, SEEN[0], 1)
        amounts = store.columns("deals").column("amount")
    assert amounts.to_pylist() == [Decimal("12.345"), Decimal("7.000")]


# --- Rows an older slacore wrote to SQLite, copied into DuckDB by `slacore store migrate` ------

ODD = [
    Handoff(lead_id="L1", notified_at=T0, stage="mql", owner_id="R1", hand_raiser=True),
    Handoff(lead_id="L2", notified_at=T0 + timedelta(hours=1), stage="sql", owner_id="R2"),
    Handoff(lead_id="L3", notified_at=T0 + timedelta(hours=2), stage="mql"),
]
"""Three rows of each stream below; the middle one (``L2``, ``D2``) is altered."""

ODD_RECORDS: dict[Stream, list[Any]] = {
    Stream.HANDOFFS: ODD,
    Stream.TOUCHES: [
        Touch(lead_id=f"L{n}", rep_id="R1", at=T0 + timedelta(hours=n), channel=channel)
        for n, channel in ((1, "email"), (2, "call"), (3, "meeting"))
    ],
    Stream.LEADS: [
        Lead(id=f"L{n}", created_at=T0 + timedelta(hours=n), hand_raiser=n == 1) for n in (1, 2, 3)
    ],
    Stream.STAGE_CHANGES: [
        StageChange(lead_id=f"L{n}", to_stage="sal", at=T0 + timedelta(hours=n), owner_id="R1")
        for n in (1, 2, 3)
    ],
    Stream.DEALS: [
        Deal(id=f"D{n}", amount=Decimal(n), opened_at=T0 + timedelta(hours=n), lead_id="L1")
        for n in (1, 2, 3)
    ],
}

ALTERED: dict[str, tuple[Stream, str]] = {
    "channel in capitals": (Stream.TOUCHES, "channel = 'CALL'"),
    "channel of mixed case": (Stream.TOUCHES, "channel = 'Email'"),
    "equal teams": (Stream.HANDOFFS, "to_team = from_team"),
    "team in capitals": (Stream.HANDOFFS, "from_team = 'MARKETING'"),
    "blank lead id": (Stream.HANDOFFS, "lead_id = ''"),
    "white space lead id": (Stream.TOUCHES, "lead_id = ' \t'"),
    "white space rep id": (Stream.TOUCHES, "rep_id = '\u3000'"),
    "white space stage": (Stream.STAGE_CHANGES, "to_stage = ' '"),
    "blank owner id": (Stream.HANDOFFS, "owner_id = ''"),
    "white space lead's id": (Stream.LEADS, "id = '\u2003'"),
    "white space deal id": (Stream.DEALS, "id = ' '"),
    "missing flag": (Stream.HANDOFFS, "hand_raiser = NULL"),
    "flag of 2": (Stream.LEADS, "hand_raiser = 2"),
}
"""An SQL assignment to the middle row, as an older slacore may have left it."""


@pytest.fixture(scope="module")
def odd_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Stream, Path, Path]]:
    """Per case of :data:`ALTERED`: the stream, an SQLite store holding the altered row and
    its copy into DuckDB."""
    made = {}
    for n, (case, (stream, assignment)) in enumerate(ALTERED.items()):
        folder = tmp_path_factory.mktemp(f"odd{n}")
        sqlite_path, duckdb_path = folder / "sla.db", folder / "sla.duckdb"
        with SQLiteStore(sqlite_path) as store:
            _write(store, stream, ODD_RECORDS[stream], SEEN[0], 1)
        middle = "id = 'D2'" if stream is Stream.DEALS else "key LIKE '%2%' AND row_id = 2"
        with sqlite3.connect(sqlite_path) as db:
            done = db.execute(f"UPDATE {stream.value} SET {assignment} WHERE {middle}")
            assert done.rowcount == 1, case
        db.close()
        copy_store(sqlite_path, duckdb_path)
        made[case] = (stream, sqlite_path, duckdb_path)
    return made


def _both_ways(store: Store, stream: Stream) -> list[tuple[str, Any, list[str]]]:
    """How ``columns()`` and ``records()`` read ``stream``, with ``invalid`` and without."""
    ends = []
    for give in (True, False):

        def records(invalid: Any, give: bool = give) -> Any:
            found = store.records(stream, invalid=invalid if give else None)
            return expected(stream, list(found))

        def columns(invalid: Any, give: bool = give) -> Any:
            return store.columns(stream, invalid=invalid if give else None).to_pylist()

        ends.append(_read(records))
        assert _read(columns) == ends[-1]
    # The same on either engine, but for the store's path a StoreError names.
    path = str(store.path)
    return [(status, _unplaced(got, path), errors) for status, got, errors in ends]


def _unplaced(got: Any, path: str) -> Any:
    return got.replace(path, "<store>") if isinstance(got, str) else got


@pytest.mark.parametrize("case", list(ALTERED))
def test_rows_an_older_slacore_wrote_read_as_records_from_sqlite_and_duckdb(
    odd_stores: dict[str, tuple[Stream, Path, Path]], case: str
) -> None:
    stream, sqlite_path, duckdb_path = odd_stores[case]
    with SQLiteStore(sqlite_path, read_only=True) as store:
        store._arrow_reads = False
        from_sqlite = _both_ways(store, stream)
        store._arrow_reads = True
        assert _both_ways(store, stream) == from_sqlite
    with open_store(f"duckdb:///{duckdb_path.as_posix()}", read_only=True) as store:
        assert _both_ways(store, stream) == from_sqlite
    (status, rows, errors), (raised, _, _) = from_sqlite
    assert status == "ok"
    if errors:  # refused: left out, in order, and a StoreError without ``invalid``
        assert raised == "StoreError"
        assert len(rows) == 2
    else:  # converted (or kept as it was) by the model
        assert raised == "ok"
        assert len(rows) == 3


def test_a_converted_row_holds_the_records_values_in_duckdb(
    odd_stores: dict[str, tuple[Stream, Path, Path]],
) -> None:
    _, _, duckdb_path = odd_stores["channel in capitals"]
    with open_store(f"duckdb:///{duckdb_path.as_posix()}", read_only=True) as store:
        assert store.columns("touches").column("channel").to_pylist() == [
            "email",
            "call",
            "meeting",
        ]
    _, _, duckdb_path = odd_stores["equal teams"]
    with open_store(f"duckdb:///{duckdb_path.as_posix()}", read_only=True) as store:
        refused: list[ValidationError] = []
        table = store.columns("handoffs", invalid=refused.append)
        assert table.column("lead_id").to_pylist() == ["L1", "L3"]
        assert len(refused) == 1


def test_a_row_changed_in_duckdb_reads_as_its_record(tmp_path: Path) -> None:
    with open_store(f"duckdb:///{(tmp_path / 'sla.duckdb').as_posix()}") as store:
        _write(store, Stream.HANDOFFS, ODD, SEEN[0], 1)
        db = store._db  # type: ignore[attr-defined]
        db.execute("UPDATE handoffs SET to_team = from_team WHERE lead_id = 'L1'")
        db.execute(
            "UPDATE handoffs SET from_team = 'SALES', to_team = 'Marketing' WHERE lead_id = 'L2'"
        )
        db.execute("UPDATE handoffs SET stage = '\t', hand_raiser = NULL WHERE lead_id = 'L3'")
        ends = _both_ways(store, Stream.HANDOFFS)
    assert [status for status, _, _ in ends] == ["ok", "StoreError"]


@pytest.mark.parametrize(
    ("assignment", "status"),
    [
        ("notified_at = substr(notified_at, 1, 19)", "StoreError"),  # no offset: refused
        ("notified_at = '2020-07-01T09:00:00-04:00'", "ok"),  # not time_us's instant
        ("notified_at = '2020-07-01 10:00:00+00:00'", "ok"),  # not as isoformat() writes it
    ],
)
def test_a_main_time_duckdb_holds_as_other_text_reads_as_its_record(
    tmp_path: Path, assignment: str, status: str
) -> None:
    # DuckDB's columns() takes the instant from time_us only when the stored text agrees.
    with open_store(f"duckdb:///{(tmp_path / 'sla.duckdb').as_posix()}") as store:
        _write(store, Stream.HANDOFFS, ODD, SEEN[0], 1)
        store._db.execute(  # type: ignore[attr-defined]
            f"UPDATE handoffs SET {assignment} WHERE lead_id = 'L2'"
        )
        ends = _both_ways(store, Stream.HANDOFFS)
    assert [end[0] for end in ends] == ["ok", status]
