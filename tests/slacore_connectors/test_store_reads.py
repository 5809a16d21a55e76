"""Reading the SQLite store: the plan of each read is pinned, stored times share one zone
object per offset, and rows the model refuses still go through the model."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacore import Channel, Handoff, StageChange, Touch
from slacore.connector import Batch, Cursor, Stream
from slacore.errors import ValidationError
from slacore_connectors.store import SQLiteStore, StoreError
from slacore_connectors.store._tables import TABLES, _stored_time

NY = ZoneInfo("America/New_York")
T0 = datetime(2020, 7, 1, 9, tzinfo=NY)
TIMED = [stream for stream, table in TABLES.items() if table.time_column]


def _write(store: SQLiteStore, stream: Stream, records: list[object]) -> None:
    cursor = Cursor(stream=stream, state={"line": len(records)})
    batch = Batch(stream=stream, records=records, cursor=cursor)
    store.write_batch("crm", batch, run_id=1, seen_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "sla.db") as opened:
        touches = [
            Touch(
                lead_id=f"L{n % 40}",
                rep_id=f"R{n % 3}",
                at=T0 + n * timedelta(hours=7),
                channel="call",
            )
            for n in range(400)
        ]
        _write(opened, Stream.TOUCHES, touches)
        yield opened


def _plan(store: SQLiteStore, stream: Stream, **kwargs: object) -> list[str]:
    query, args = store._select(TABLES[stream], **kwargs)  # type: ignore[arg-type]
    return [row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {query}", args)]


READS = [
    {},
    {"since": datetime(1900, 1, 1, tzinfo=UTC), "until": datetime(2100, 1, 1, tzinfo=UTC)},
    {"since": T0 + timedelta(days=30), "until": T0 + timedelta(days=31)},
    {"until": datetime(1900, 1, 1, tzinfo=UTC)},
    {"since": datetime(2100, 1, 1, tzinfo=UTC)},
    {"source_name": "crm"},
    {"source_name": "crm", "since": T0, "until": T0 + timedelta(days=400)},
    {"as_of": datetime(2026, 6, 1, tzinfo=UTC), "since": T0},
    # The reads of columns(): row_id and time_us selected, the same plan.
    {"chunked": True},
    {"chunked": True, "source_name": "crm", "since": T0, "until": T0 + timedelta(days=400)},
    {"chunked": True, "as_of": datetime(2026, 6, 1, tzinfo=UTC), "since": T0},
    {"chunked": True, "typed": True, "source_name": "crm", "since": T0},
]


@pytest.mark.parametrize("stream", TIMED, ids=str)
@pytest.mark.parametrize("read", READS, ids=lambda read: "+".join(read) or "everything")
def test_a_read_goes_through_the_time_index_whatever_the_statistics(
    store: SQLiteStore, stream: Stream, read: dict[str, object]
) -> None:
    # Statistics as ANALYZE leaves them on a store whose history of closed versions is much
    # larger than its current rows: the partial index of current rows by lead then looks
    # cheap, and SQLite alone reads whole periods through it, looks every row up and sorts.
    store._db.execute("ANALYZE")
    store._db.execute("DELETE FROM sqlite_stat1 WHERE tbl = ?", (stream.value,))
    store._db.executemany(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
        [
            (stream.value, f"{stream.value}_time", "1000000 10"),
            (stream.value, f"{stream.value}_lead", "3 1 1"),
            (stream.value, f"{stream.value}_current", "3 1"),
        ],
    )
    store._db.commit()
    store._db.execute("ANALYZE sqlite_schema")  # the planner reads the statistics again
    (step,) = _plan(store, stream, **read)
    assert f"USING INDEX {stream.value}_time" in step
    assert "TEMP B-TREE" not in step


def test_the_reps_are_read_by_their_key(store: SQLiteStore) -> None:
    plan = _plan(store, Stream.REPS)
    assert "USING INDEX reps_current" in plan[0]


def test_stored_times_share_one_zone_object_per_offset(tmp_path: Path) -> None:
    offsets = [timezone(timedelta(hours=h)) for h in (-4, -5, 0, 5.5)]
    written = [
        Touch(
            lead_id=f"L{n}",
            rep_id="R1",
            at=(T0 + n * timedelta(days=20) + late).astimezone(zone),
            channel="email",
        )
        for n in range(20)
        for zone, late in [(offsets[n % 4], timedelta(0)), (NY, timedelta(minutes=1))]
    ]
    with SQLiteStore(tmp_path / "sla.db") as store:
        _write(store, Stream.TOUCHES, written)
        read = list(store.records("touches"))
    assert read == sorted(written, key=lambda touch: touch.at)
    by_key = {(t.lead_id, t.at): t for t in written}
    for touch in read:
        # The same instant and the same offset as stored, so it prints the same.
        assert touch.at.isoformat() == by_key[touch.lead_id, touch.at].at.isoformat()
    zones = {id(touch.at.tzinfo) for touch in read}
    assert len(zones) == len({touch.at.utcoffset() for touch in read}) == 4


def test_every_stream_reads_back_what_was_written(tmp_path: Path) -> None:
    handoffs = [
        Handoff(
            lead_id="L1", notified_at=T0, stage="mql", owner_id="R1", source="web", hand_raiser=True
        ),
        Handoff(
            lead_id="L2",
            notified_at=T0 + timedelta(hours=1),
            stage="sal",
            from_team="sales",
            to_team="marketing",
        ),
    ]
    changes = [StageChange(lead_id="L1", to_stage="sal", at=T0, from_stage="mql")]
    with SQLiteStore(tmp_path / "sla.db") as store:
        _write(store, Stream.HANDOFFS, handoffs)
        _write(store, Stream.STAGE_CHANGES, changes)
        assert list(store.records("handoffs")) == handoffs
        assert list(store.records("stage_changes")) == changes


def _touch_row(db: sqlite3.Connection, **cells: str) -> None:
    """Change the one stored touch as an older slacore (or a hand) may have left it."""
    for column, value in cells.items():
        db.execute(f"UPDATE touches SET {column} = ? WHERE row_id = 1", (value,))
    db.commit()


def test_a_row_the_class_converts_is_read_through_the_class(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "sla.db") as store:
        _write(store, Stream.TOUCHES, [Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")])
        _touch_row(store._db, channel="Meeting", at="2020-07-01T09:00:00-04:56:02")
        (touch,) = store.records("touches")
    assert touch.channel is Channel.MEETING
    assert touch.at.isoformat() == "2020-07-01T09:00:00-04:56:02"


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"rep_id": " "}, "rep_id"),
        ({"channel": "fax"}, "channel"),
        ({"at": "2020-07-01T09:00:00"}, "at"),
        ({"at": "0001-01-01T00:00:00+05:00"}, "at"),
        ({"at": "2100-01-01T00:30:00-01:00"}, "at"),
    ],
)
def test_a_row_the_model_refuses_is_refused_as_before(
    tmp_path: Path, cells: dict[str, str], field: str
) -> None:
    with SQLiteStore(tmp_path / "sla.db") as store:
        _write(store, Stream.TOUCHES, [Touch(lead_id="L1", rep_id="R1", at=T0, channel="call")])
        _touch_row(store._db, **cells)
        with pytest.raises(StoreError, match="holds a touches record this slacore refuses"):
            list(store.records("touches"))
        skipped: list[ValidationError] = []
        assert list(store.records("touches", invalid=skipped.append)) == []
    (error,) = skipped
    assert error.field == field


TEXTS = [
    "2020-07-01T09:00:00-04:00",
    "2020-07-01T09:00:00.000250-04:00",
    "2020-12-01T09:00:00-05:00",
    "2020-07-01T13:00:00+00:00",
    "2020-07-01T13:00:00Z",
    "2020-07-01T18:30:00+05:30",
    "1900-01-01T09:00:00-04:56:02",
    "2020-07-01T09:00-04:00",
    "2020-07-01T09:00:00",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:00:00-05:00",
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_stored_time_is_the_time_written(text: str) -> None:
    for _ in range(2):  # the first of an offset, then one that finds its zone shared
        moment = _stored_time(text)
        expected = datetime.fromisoformat(text)
        assert moment == expected
        assert moment.isoformat() == expected.isoformat()
        assert moment.utcoffset() == expected.utcoffset()
    if expected.tzinfo is not None:
        assert _stored_time(text).tzinfo is moment.tzinfo


@pytest.mark.parametrize(
    "text", ["2020-13-01T09:00:00-04:00", "not a time-04:00", "2020-07-01T25:00:00+00:00", ""]
)
def test_a_stored_time_that_is_no_time_fails_as_before(text: str) -> None:
    _stored_time("2020-07-01T09:00:00-04:00")  # the offsets of the others are known
    _stored_time("2020-07-01T09:00:00+00:00")
    try:
        datetime.fromisoformat(text)
    except ValueError as error:
        expected = str(error)
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        _stored_time(text)


def test_a_read_keeps_one_string_per_value(store: SQLiteStore) -> None:
    touches = list(store.records("touches"))
    assert len(touches) == 400
    assert len({id(touch.lead_id) for touch in touches}) == 40
    assert len({id(touch.rep_id) for touch in touches}) == 3
