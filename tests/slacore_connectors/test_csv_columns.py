"""The csv connector's column path (``read_columns``) against its row path (``read_stream``):
the same records, rejected rows, notices and cursors, whatever the file holds."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacore.connector import (
    ColumnBatch,
    Cursor,
    Stream,
    column_schema,
    empty_table,
    records_table,
)
from slacore.errors import ValidationError
from slacore_connectors.csvfile import CsvConnector

HEADERS = {
    "touches": ["lead_id", "rep_id", "at", "channel"],
    "handoffs": [
        "lead_id",
        "notified_at",
        "stage",
        "owner_id",
        "from_team",
        "to_team",
        "hand_raiser",
    ],
    "leads": ["id", "created_at", "source", "stage", "hand_raiser"],
    "deals": ["id", "amount", "opened_at", "closed_at", "won"],
}

TIMES = st.sampled_from(
    [
        "2020-07-01T09:00:00-04:00",
        "2020-07-01T09:00:00Z",
        "2020-07-01 09:30:15.5+05:30",
        "2020-07-01T09:00:00.123456+00:00",
        "2020-07-01T09:00:00-00:00",
        "2020-02-29T23:59:59+14:00",
        "2021-02-29T10:00:00Z",  # no such day
        "2020-07-01T24:00:00Z",
        "2020-07-01T09:00",  # naive: the zone setting
        "2026-03-29 02:30",  # naive, in Berlin's spring gap
        "2026-10-25 02:30",  # naive, Berlin's repeated hour
        "2026-03-29 02:30:00",  # the same with seconds: read on columns
        "2026-03-29T01:59:59.999999",
        "2026-03-29 03:00:00",
        "2026-10-25T02:30:00.5",
        "2026-10-25 01:59:59",
        "2026-10-25 03:00:00",
        "1893-04-01 00:00:00",  # Berlin leaves its local mean time (+00:53:28)
        "1893-03-31 23:30:00",
        "1900-01-01 00:30:00",  # 1899 in UTC
        "1899-12-31T23:00:00-02:00",  # 1900 in UTC
        "1899-12-31T23:00:00Z",
        "2099-12-31T23:59:59Z",
        "2099-12-31T23:00:00-02:00",
        "0001-01-01T00:00:00+05:00",
        "0000-01-01T00:00:00Z",
        "2020-07-01T09:00:00+05:30:15",
        "2020-07-01X09:00:00Z",
        "20200701T090000Z",
        "1593594000",
        "soon",
        "",
        " 2020-07-01T09:00:00Z ",
    ]
)
TEXT = st.sampled_from(["L1", "L2", "L3", " L1", "R1", "é1", "", "  ", "\u00a0", "x\u2003"])
STAGES = st.sampled_from(["mql", "MQL", " sal ", "Marketing Qualified", "nope", ""])
CHANNELS = st.sampled_from(["call", "EMAIL", " meeting", "Phone call", "fax", ""])
TEAMS = st.sampled_from(["sales", "Marketing", "SALES", "ops", ""])
FLAGS = st.sampled_from(["true", "0", "Yes", "n", "maybe", ""])
AMOUNTS = st.sampled_from(["5", "1,250.50", "1.50", "-3", "12,5", "1e5", "$7", ""])
VALUES = {
    "lead_id": TEXT,
    "id": TEXT,
    "rep_id": TEXT,
    "owner_id": TEXT,
    "source": TEXT,
    "at": TIMES,
    "notified_at": TIMES,
    "created_at": TIMES,
    "opened_at": TIMES,
    "closed_at": TIMES,
    "channel": CHANNELS,
    "stage": STAGES,
    "from_team": TEAMS,
    "to_team": TEAMS,
    "hand_raiser": FLAGS,
    "won": FLAGS,
    "amount": AMOUNTS,
}
QUOTED_EXTRA = st.sampled_from(["", "", "", ",x", '"', 'a""b'])
ODD_LINES = st.sampled_from(
    [
        "",
        "   ",
        ",,,",
        "L9",
        "L9,R1,2020-07-01T09:00:00Z,call,extra",
        '"L9","R1","2020-07-01T09:00:00Z","call"',
        '"L9"x,R1,2020-07-01T09:00:00Z,call',
        ' "L9",R1,2020-07-01T09:00:00Z,call',
        'L"9,R1,2020-07-01T09:00:00Z,call',
        '"L9","R1","2020-07-01T09:00:00Z","call",""',
        '"L9,R1\nstill L9",R1,2020-07-01T09:00:00Z,call',
        'L9,"R1,2020-07-01T09:00:00Z,call',
        "L9,R1\x00,2020-07-01T09:00:00Z,call",
        "L9,\ufeffR1,2020-07-01T09:00:00Z,call",
        "L9,R1\r,2020-07-01T09:00:00Z,call",
    ]
)
SETTINGS = {
    "timezone": "Europe/Berlin",
    "stage_values": {"Marketing Qualified": "mql"},
    "channel_values": {"Phone call": "call"},
}


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bytes]:
    """A stream and its CSV file: good and bad values, odd lines, BOM, CRLF, a last line."""
    stream = draw(st.sampled_from(sorted(HEADERS)))
    header = HEADERS[stream]
    lines = [",".join(header)]
    quoting = draw(st.sampled_from(["none", "some", "all"]))
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(ODD_LINES))
            continue
        values = [draw(VALUES[name]) for name in header]
        if quoting != "none":
            # Quoted as csv writes them (a quote doubled), a delimiter or quote inside too.
            values = [
                '"' + (value + draw(QUOTED_EXTRA)).replace('"', '""') + '"'
                if quoting == "all" or draw(st.booleans())
                else value
                for value in values
            ]
        lines.append(",".join(values))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.booleans()):
        text += newline  # else the last line has none
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data += newline.encode() + b"L9,\xff,2020-07-01T09:00:00Z,call\n"
    return stream, data


def _fields(record: Any) -> tuple[Any, ...]:
    # A time as the store keeps it, instant and offset: a zone's time in a gap or a fold
    # compares unequal to every other zone's time (PEP 495), even to its own instant.
    return tuple(
        (v.isoformat(), type(v.tzinfo) is not type(None)) if isinstance(v, datetime) else v
        for v in attrs.astuple(record, recurse=False)
    )


def _same(folder: Path, stream: str, columns: list[Any], rows: list[Any], **extra: Any) -> None:
    """Both reads gave the same records, rejected rows and notices, and end at one cursor,
    or the column path's is past lines that give nothing (a blank line, a row of blanks):
    the row path yields no batch for those when its last batch is full."""
    *by_columns, end = _rows(columns)
    *by_rows, row_end = _rows(rows)
    assert by_columns == by_rows
    if end != row_end:
        *rest, rest_end = _rows(_both(folder, stream, row_end, **extra)[0])
        assert rest == [[], [], []]
        assert rest_end == end


def _rows(batches: list[Any]) -> tuple[list[Any], list[Any], list[str], Cursor | None]:
    records: list[Any] = []
    rejected: list[Any] = []
    notices: list[str] = []
    for batch in batches:
        records.extend(batch.records() if isinstance(batch, ColumnBatch) else batch.records)
        rejected.extend(item.to_dict() for item in batch.rejected)
        notices.extend(batch.notices)
    return [_fields(r) for r in records], rejected, notices, batches[-1].cursor if batches else None


def _both(
    folder: Path, stream: str, cursor: Cursor | None, **extra: Any
) -> tuple[list[Any], list[Any]]:
    connector = CsvConnector({"path": str(folder), **SETTINGS, **extra})
    rows = list(connector.read_stream(Stream(stream), cursor))
    columns = list(connector.read_columns(Stream(stream), cursor))
    return rows, columns


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=files(), size=st.integers(1, 6), lines=st.integers(1, 6), wait=st.booleans())
def test_read_columns_gives_what_read_stream_gives(
    tmp_path_factory: pytest.TempPathFactory,
    file: tuple[str, bytes],
    size: int,
    lines: int,
    wait: bool,
) -> None:
    stream, data = file
    folder = tmp_path_factory.mktemp("csv")
    (folder / f"{stream}.csv").write_bytes(data)
    # A repeated id of leads and deals is refused within one of the row path's batches
    # (batch_size records and rejected rows), whatever the column path's blocks.
    extra = {"batch_size": size, "column_batch_size": lines, "wait_for_newline": wait}
    rows, columns = _both(folder, stream, None, **extra)
    _same(folder, stream, columns, rows, **extra)
    assert columns[0].from_start
    assert not any(b.from_start for b in columns[1:])
    for batch in columns:
        assert batch.lines is not None
        assert len(batch.lines) == batch.table.num_rows
        assert list(batch.lines) == sorted(batch.lines)
    # Resumed from any cursor of the column path, both paths read the same rest.
    for batch in columns:
        again_rows, again_columns = _both(folder, stream, batch.cursor, **extra)
        _same(folder, stream, again_columns, again_rows, **extra)


def test_a_plain_block_is_read_on_columns_and_named_by_line(tmp_path: Path) -> None:
    (tmp_path / "touches.csv").write_text(
        "lead_id,rep_id,at,channel\n"
        "L1,R1,2020-07-01T09:00:00-04:00,call\n"
        "\n"
        "L2,R2,2020-07-01T09:00:00.5Z,EMAIL\n"
        "L3,R1,2020-07-01T09:00:00Z,fax\n"
        "L4,R1\n"
        "L5,R1,2020-07-01 09:00,call\n",
        encoding="utf-8",
    )
    connector = CsvConnector({"path": str(tmp_path), "timezone": "Europe/Berlin"})
    [batch] = connector.read_columns(Stream.TOUCHES, None)
    assert batch.table.schema == column_schema("touches")
    assert batch.lines == (2, 4, 7)
    assert batch.table.column("lead_id").to_pylist() == ["L1", "L2", "L5"]
    assert batch.table.column("at_offset").cast("int64").to_pylist() == [
        -4 * 3600 * 10**6,
        0,
        2 * 3600 * 10**6,  # Berlin's summer time, from the zone setting
    ]
    assert [str(r) for r in batch.rejected] == [
        "touches.csv:5: record L3: channel: unknown channel 'fax': expected one of call, "
        "email, meeting, other or a name mapped in channel_values",
        "touches.csv:6: record L4: the row has 2 fields, the header 4",
    ]
    assert batch.cursor.state["line"] == 7
    assert [r.at.isoformat() for r in batch.records()] == [
        "2020-07-01T09:00:00-04:00",
        "2020-07-01T09:00:00.500000+00:00",
        "2020-07-01T09:00:00+02:00",
    ]


def test_a_repeated_id_in_a_column_batch_is_rejected_as_in_a_batch(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        "id,created_at\nL1,2020-07-01T09:00:00Z\nL2,2020-07-01T09:00:00Z\n"
        "L1,2020-07-02T09:00:00Z\n",
        encoding="utf-8",
    )
    [batch] = CsvConnector({"path": str(tmp_path)}).read_columns(Stream.LEADS, None)
    assert batch.table.column("id").to_pylist() == ["L1", "L2"]
    assert [str(r) for r in batch.rejected] == [
        "leads.csv:4: record L1: id: duplicate id 'L1': line 2 has it too"
    ]
    assert batch.rejected[0].raw == {"id": "L1", "created_at": "2020-07-02T09:00:00Z"}


@pytest.mark.parametrize(("batch_size", "lines"), [(10_000, 100_000), (2, 100_000), (3, 2)])
def test_a_repeated_id_is_judged_in_the_row_paths_batches(
    tmp_path: Path, batch_size: int, lines: int
) -> None:
    # An id repeated past a batch of the row path is an update (stored, the later winning);
    # within one it is refused; blank lines count for neither path's batch.
    rows = [f"L{i},2020-07-01T09:00:00Z" for i in range(batch_size)]  # a whole batch
    rows += ["", "L1,2020-07-02T09:00:00Z", "L1,2020-07-03T09:00:00Z"]  # the next one
    (tmp_path / "leads.csv").write_text("id,created_at\n" + "\n".join(rows) + "\n")
    settings = {"batch_size": batch_size, "column_batch_size": lines}
    rows_read, columns_read = _both(tmp_path, "leads", None, **settings)
    _same(tmp_path, "leads", columns_read, rows_read, **settings)
    # L1 of the second batch is an update of the first batch's; its repeat is refused.
    assert [str(r) for b in rows_read for r in b.rejected] == [
        f"leads.csv:{batch_size + 4}: record L1: id: duplicate id 'L1': line "
        f"{batch_size + 3} has it too"
    ]
    assert sum(len(b.records) for b in rows_read) == batch_size + 1


def test_records_table_and_records_round_trip(tmp_path: Path) -> None:
    (tmp_path / "deals.csv").write_text(
        "id,amount,opened_at,closed_at,won\nD1,1.50,2020-07-01T09:00:00+02:00,,\n"
        "D2,7,2020-07-01T09:00:00Z,2020-07-03T09:00:00-05:00,yes\n",
        encoding="utf-8",
    )
    [batch] = CsvConnector({"path": str(tmp_path)}).read_columns(Stream.DEALS, None)
    records = batch.records()
    assert [str(d.amount) for d in records] == ["1.50", "7"]
    assert records_table("deals", records).equals(batch.table)


def test_a_column_batch_refuses_a_table_of_another_schema() -> None:
    cursor = Cursor(stream="touches", state={})
    with pytest.raises(ValidationError, match="column_schema"):
        ColumnBatch(stream="touches", table=pa.table({"lead_id": ["L1"]}), cursor=cursor)
    with pytest.raises(ValidationError, match="lines gives 2 lines for 0 rows"):
        ColumnBatch(
            stream="touches",
            table=empty_table("touches"),
            cursor=cursor,
            lines=(1, 2),
        )


@pytest.mark.parametrize("zone", ["Australia/Lord_Howe", "America/New_York", "Asia/Kolkata"])
def test_times_without_an_offset_take_the_zones_offset_as_the_row_path_does(
    tmp_path: Path, zone: str
) -> None:
    # Lord Howe moves its clocks by half an hour at 02:00: within an hour, the offset of a
    # wall time changes, which the column path must not take from the hour's start.
    times = [
        f"2026-{month}-{day} {hour}:{minute}:00"
        for month, day in (("04", "05"), ("10", "04"), ("03", "08"), ("11", "01"))
        for hour in ("00", "01", "02", "03")
        for minute in ("00", "15", "29", "30", "45", "59")
    ]
    (tmp_path / "touches.csv").write_text(
        "lead_id,rep_id,at,channel\n" + "".join(f"L1,R1,{at},call\n" for at in times),
        encoding="utf-8",
    )
    connector = CsvConnector({"path": str(tmp_path), "timezone": zone})
    [batch] = connector.read_as_columns(Stream.TOUCHES)
    by_rows = [r.at.isoformat() for b in connector.read(Stream.TOUCHES) for r in b.records]
    assert [r.at.isoformat() for r in batch.records()] == by_rows
