"""DuckDBStore.columns: the rows records() gives, in the same order, as an Arrow table."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from slacore import Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import Batch, Cursor, Stream, core_fields
from slacore.errors import ValidationError
from slacore_connectors.store import DuckDBStore, StoreError

pa = pytest.importorskip("pyarrow")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)

RECORDS: dict[Stream, list[Any]] = {
    Stream.LEADS: [
        Lead(id="L1", created_at=T0, source="web", hand_raiser=True),
        Lead(id="L2", created_at=(T0 - H).astimezone(NY), source="ads", segment="smb"),
    ],
    Stream.STAGE_CHANGES: [
        StageChange(lead_id="L1", to_stage="sal", at=T0 + H, from_stage="mql", owner_id="R1"),
        StageChange(lead_id="L2", to_stage="mql", at=T0),
    ],
    Stream.HANDOFFS: [
        Handoff(lead_id="L1", notified_at=T0, stage="mql", owner_id="R1", hand_raiser=True),
        Handoff(lead_id="L2", notified_at=(T0 + 2 * H).astimezone(NY), stage="sal"),
    ],
    Stream.TOUCHES: [
        Touch(lead_id="L1", rep_id="R1", at=T0 + 3 * H, channel="call"),
        Touch(lead_id="L2", rep_id="R2", at=T0 + H, channel="email"),
        Touch(lead_id="L1", rep_id="R1", at=T0 + H, channel="meeting"),
    ],
    Stream.DEALS: [
        Deal(id="D1", amount=Decimal("1200.50"), opened_at=T0, lead_id="L1"),
        Deal(
            id="D2",
            amount=Decimal("99"),
            opened_at=T0 - H,
            closed_at=(T0 + 5 * H).astimezone(NY),
            won=True,
            owner_id="R2",
        ),
    ],
    Stream.REPS: [
        Rep(id="R2", name="Bo", team="sales"),
        Rep(id="R1", name="Al", email="al@example.com", team="sales", active=False),
    ],
    Stream.OWNER_CHANGES: [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + H)],
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    with DuckDBStore(tmp_path / "sla.duckdb") as opened:
        for source, later in (("crm", 0), ("other", 1)):
            for stream, records in RECORDS.items():
                batch = Batch(stream=stream, records=records, cursor=Cursor(stream=stream))
                opened.write_batch(source, batch, run_id=1, seen_at=T0 + later * 24 * H)
        yield opened


def plain(value: Any) -> Any:
    """A record's field value as the column holds it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


READS: list[dict[str, Any]] = [
    {},
    {"as_of": T0 + H},
    {"since": T0, "until": T0 + 2 * H},
    {"source_name": "other"},
]


@pytest.mark.parametrize("read", READS, ids=lambda read: "+".join(read) or "now")
@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_columns_hold_what_records_gives(
    store: DuckDBStore, stream: Stream, read: dict[str, Any]
) -> None:
    records = list(store.records(stream, **read))
    table = store.columns(stream, **read)
    names = [field.name for field in core_fields(stream)]
    assert table.column_names == names
    assert table.num_rows == len(records)
    assert records, "every read finds rows"
    for field in core_fields(stream):
        column = table.column(field.name)
        expected = [plain(getattr(record, field.name)) for record in records]
        assert column.to_pylist() == expected, field.name
        kind = {
            "time": pa.timestamp("us", tz="UTC"),
            "money": pa.decimal128(38, 2),  # the most places an amount has (1200.50)
            "boolean": pa.bool_(),
        }.get(field.kind, pa.string())
        assert column.type == kind, field.name


def test_a_row_the_model_refuses_goes_to_invalid_as_in_records(store: DuckDBStore) -> None:
    # A placeholder time an older slacore stored, as SQLite's tests leave one by hand.
    store._db.execute("UPDATE touches SET \"at\" = '9999-12-31T00:00:00+00:00' WHERE row_id = 1")
    from_records: list[ValidationError] = []
    from_columns: list[ValidationError] = []
    kept = list(store.records("touches", invalid=from_records.append))
    table = store.columns("touches", invalid=from_columns.append)
    assert [str(e) for e in from_columns] == [str(e) for e in from_records] != []
    assert all(isinstance(e, ValidationError) for e in from_columns)
    assert table.num_rows == len(kept)
    assert table.column("at").to_pylist() == [t.at.astimezone(UTC) for t in kept]
    with pytest.raises(StoreError, match="holds a touches record this slacore refuses"):
        store.columns("touches")


def test_rows_read_a_batch_at_a_time_come_in_order_with_refused_ones_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Touches stored out of time order (several batches), some at one instant, two
    # refused by the model: columns() orders what it keeps as records() does, whatever
    # batches DuckDB hands the rows over in.
    from slacore_connectors.store import _columns

    monkeypatch.setattr(_columns, "WHOLE_SLICE", 7)
    minutes = [(n * 37) % 50 for n in range(50)]  # every minute once, shuffled
    touches = [
        Touch(lead_id=f"L{n}", rep_id="R1", at=T0 + timedelta(minutes=m // 2), channel="call")
        for n, m in enumerate(minutes)
    ]
    with DuckDBStore(tmp_path / "sla.duckdb") as opened:
        batch = Batch(stream=Stream.TOUCHES, records=touches, cursor=Cursor(stream=Stream.TOUCHES))
        opened.write_batch("crm", batch, run_id=1, seen_at=T0)
        opened._db.execute(
            "UPDATE touches SET \"at\" = '9999-12-31T00:00:00+00:00' WHERE row_id IN (9, 30)"
        )
        # A row without its time_us (none this slacore writes): last, as DuckDB orders it.
        opened._db.execute("UPDATE touches SET time_us = NULL WHERE row_id = 20")
        refused: list[ValidationError] = []
        kept = list(opened.records("touches", invalid=lambda error: None))
        table = opened.columns("touches", invalid=refused.append)
    assert len(refused) == 2
    assert len(kept) == table.num_rows == 48
    assert table.column("lead_id").to_pylist() == [t.lead_id for t in kept]
    assert table.column("at").to_pylist() == [t.at for t in kept]
    assert kept[-1].lead_id == table.column("lead_id")[-1].as_py() == "L19"
    assert table.column("lead_id").num_chunks == 1  # one chunk: the engine copies none


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T12:00:00+00:00",  # as isoformat() writes it
        "2026-03-02T07:00:00.250000-05:00",  # with microseconds
        "2026-03-02T12:00:00Z",  # the other forms ISO 8601 allows
        "2026-03-02T12:00:00.25+00:00",
        "2026-03-02T17:30:00+05:30:00",
        "2026-03-02 12:00:00+00:00",  # not ISO 8601 by the pattern: read by the model
        "2026-03-02T12:00:00",  # naive: refused by the model
    ],
)
def test_a_stored_time_of_any_form_reads_as_records_reads_it(store: DuckDBStore, text: str) -> None:
    store._db.execute(f"UPDATE touches SET \"at\" = '{text}' WHERE row_id = 1")
    from_records: list[ValidationError] = []
    from_columns: list[ValidationError] = []
    kept = list(store.records("touches", invalid=from_records.append))
    table = store.columns("touches", invalid=from_columns.append)
    assert [str(e) for e in from_columns] == [str(e) for e in from_records]
    assert table.column("at").to_pylist() == [t.at.astimezone(UTC) for t in kept]
    assert table.column("lead_id").to_pylist() == [t.lead_id for t in kept]
