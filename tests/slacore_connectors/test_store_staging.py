"""A batch's records as the store stages them: the keys and digests stores already hold.

A store compares each record's digest with the one it stored; a digest written differently
by this slacore would make the first sync after an upgrade rewrite every record as changed.
The digests below are those slacore 0.x stored (``json.dumps`` of the cells, then BLAKE2b).
"""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import Batch, Cursor, Stream
from slacore.model import Channel
from slacore_connectors.store import SQLiteStore
from slacore_connectors.store._staging import _cell_of, row_json, stager
from slacore_connectors.store._tables import TABLES, _to_cell

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EST = timezone(timedelta(hours=-5))
US = "1772442000000000"  # T0 in epoch microseconds

RECORDS = {
    Stream.LEADS: Lead(
        id="L1",
        created_at=T0,
        source='wéb "x"',
        owner_id="R1",
        stage="mql",
        hand_raiser=True,
    ),
    Stream.STAGE_CHANGES: StageChange(
        lead_id="L1", to_stage="sql", at=T0.astimezone(EST), from_stage="mql"
    ),
    Stream.HANDOFFS: Handoff(lead_id="L1", notified_at=T0, stage="mql", owner_id="R1"),
    Stream.TOUCHES: Touch(lead_id="L1", rep_id="R1", at=T0.astimezone(EST), channel="call"),
    Stream.DEALS: Deal(
        id="D1",
        amount=Decimal("1234.50"),
        opened_at=T0,
        lead_id="L1",
        closed_at=T0 + timedelta(days=3),
        won=True,
        owner_id="R2",
    ),
    Stream.REPS: Rep(id="R1", name="Zoë Ng", email="zoe@example.com", team="sales"),
    Stream.OWNER_CHANGES: OwnerChange(lead_id="L1", owner_id="R2", at=T0),
}

STORED = {
    Stream.LEADS: ("L1", "5832e31e2e535a29fc0f4b5ec19df749"),
    Stream.STAGE_CHANGES: (f"L1\x1f{US}\x1fsql", "36298e26f175b63f99df95b80be61253"),
    Stream.HANDOFFS: (f"L1\x1f{US}\x1fmql", "5483dc4d10dad9d84cc231857476b540"),
    Stream.TOUCHES: (f"L1\x1fR1\x1f{US}\x1fcall", "0018347625b2c1a86b81b5e28ab9b628"),
    Stream.DEALS: ("D1", "6537ebab7fc0a668a7d9812247875d8f"),
    Stream.REPS: ("R1", "9ba8a484bf44d98d049cdbd01b348b3b"),
    Stream.OWNER_CHANGES: (f"L1\x1f{US}", "da2dd21b56b375b976b6252b178d0323"),
}
"""Each record's key and digest as slacore stored them before staging was rewritten."""

CELLS = {
    Stream.LEADS: ("L1", "2026-03-02T09:00:00+00:00", 'wéb "x"', None, "R1", "mql", 1),
    Stream.STAGE_CHANGES: ("L1", "sql", "2026-03-02T04:00:00-05:00", "mql", None),
    Stream.TOUCHES: ("L1", "R1", "2026-03-02T04:00:00-05:00", "call"),
    Stream.DEALS: (
        "D1",
        "1234.50",
        "2026-03-02T09:00:00+00:00",
        "L1",
        "2026-03-05T09:00:00+00:00",
        1,
        "R2",
    ),
    Stream.REPS: ("R1", "Zoë Ng", "zoe@example.com", "sales", 1),
}
"""The cells (SQLite values) of some of them: times as ISO text, money as text, flags 0/1."""


def test_keys_and_digests_are_those_stores_hold() -> None:
    for stream, record in RECORDS.items():
        staged = stager(TABLES[stream])([record])
        [(key, row)] = staged.items()
        assert (key, row[1]) == STORED[stream], stream
        assert row[0] == key
        if TABLES[stream].time_column:
            assert row[2] == int(US)
        if stream in CELLS:
            assert row[-len(CELLS[stream]) :] == CELLS[stream]


def test_a_record_stored_by_an_older_slacore_is_unchanged(tmp_path: Path) -> None:
    # A store holding the digest an older slacore wrote takes the same touch as unchanged.
    touch = RECORDS[Stream.TOUCHES]
    key, old_digest = STORED[Stream.TOUCHES]
    batch = Batch(stream="touches", records=[touch], cursor=Cursor(stream="touches", state={}))
    with SQLiteStore(tmp_path / "sla.db") as store:
        store.write_batch("crm", batch, run_id=1, seen_at=T0)
        store._db.execute("UPDATE touches SET digest = 'other' WHERE key = ?", (key,))
        changed = store.write_batch("crm", batch, run_id=2, seen_at=T0 + timedelta(hours=1))
        current = "WHERE key = ? AND seen_to IS NULL"
        store._db.execute(f"UPDATE touches SET digest = ? {current}", (old_digest, key))
        again = store.write_batch("crm", batch, run_id=3, seen_at=T0 + timedelta(hours=2))
    assert (changed.updated, changed.unchanged) == (1, 0)
    assert (again.updated, again.unchanged) == (0, 1)


def test_the_later_of_two_records_with_one_key_wins_in_first_place() -> None:
    first, other, second = (
        Lead(id="L1", created_at=T0, source="a"),
        Lead(id="L2", created_at=T0),
        Lead(id="L1", created_at=T0, source="b"),
    )
    staged = stager(TABLES[Stream.LEADS])([first, other, second])
    assert list(staged) == ["L1", "L2"]
    assert staged["L1"][5] == "b"  # key, digest, time, id, created_at, source


cell = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.booleans(),
)


@given(st.lists(cell, max_size=8))
def test_rows_are_written_as_json_dumps_writes_them(cells: list[object]) -> None:
    assert row_json(tuple(cells)) == json.dumps(tuple(cells), separators=(",", ":"))


class _Color(enum.Flag):
    RED = 1
    BLUE = 2


class _Size(enum.IntEnum):
    SMALL = 1


@pytest.mark.parametrize(
    "value",
    [_Color.RED, _Color.RED | _Color.BLUE, _Size.SMALL, Channel.CALL, True, Decimal("1.50"), T0],
)
def test_each_value_becomes_the_cell_it_became_before(value: object) -> None:
    convert = _cell_of(type(value))
    assert (value if convert is None else convert(value)) == _to_cell(value)
