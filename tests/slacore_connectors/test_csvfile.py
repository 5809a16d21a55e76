"""The csv connector: every stream, settings, bad input, incremental re-runs, flat memory."""

from __future__ import annotations

import csv
import os
import tempfile
import tracemalloc
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slacore_connectors.csvfile as csvfile
from slacore import Channel, Deal, Handoff, Lead, OwnerChange, Rep, StageChange, Touch
from slacore.connector import (
    Batch,
    Cursor,
    MissingColumnsError,
    Record,
    RejectedRecord,
    Stream,
    core_fields,
)
from slacore.errors import UnknownKeyError, ValidationError
from slacore.model import id_field, id_is_key, natural_key
from slacore.testing import ConnectorContract
from slacore_connectors.csvfile import CsvConnector

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read_all(
    connector: CsvConnector, stream: str = "leads", cursor: Cursor | None = None
) -> tuple[list[Record], list[RejectedRecord], Cursor]:
    records: list[Record] = []
    rejected: list[RejectedRecord] = []
    last = None
    for batch in connector.read(stream, cursor):
        records.extend(batch.records)
        rejected.extend(batch.rejected)
        last = batch.cursor
    assert last is not None
    return records, rejected, last


def leads_file(tmp_path: Path, text: str, **settings: Any) -> CsvConnector:
    write(tmp_path / "leads.csv", text)
    return CsvConnector({"path": str(tmp_path), **settings})


# --- the happy path --------------------------------------------------------------------------


def test_every_stream_from_a_folder(tmp_path: Path) -> None:
    files = {
        "leads.csv": "id,created_at,source,segment,owner_id,stage,hand_raiser\n"
        "L-1,2026-01-05T09:00:00Z,webinar,mid-market,R-1,mql,yes\n",
        "stage_changes.csv": "lead_id,to_stage,at,from_stage,owner_id\n"
        "L-1,sql,2026-01-06T10:00:00+01:00,mql,R-1\n",
        "handoffs.csv": "lead_id,notified_at,stage,owner_id,source,hand_raiser\n"
        "L-1,2026-01-05T09:05:00Z,mql,R-1,webinar,true\n",
        "touches.csv": "lead_id,rep_id,at,channel\nL-1,R-1,2026-01-05T09:20:00Z,Call\n",
        "deals.csv": "id,amount,opened_at,lead_id,closed_at,won\n"
        'D-1,"$12,500.50",2026-01-10T00:00:00Z,L-1,2026-02-01T00:00:00Z,1\n',
        "reps.csv": "id,name,email,team,active\nR-1,Ada,ada@example.com,Sales,true\n",
        "owner_changes.csv": "lead_id,owner_id,at\nL-1,R-2,2026-01-07T08:00:00Z\n",
    }
    for name, text in files.items():
        write(tmp_path / name, text)
    connector = CsvConnector({"path": tmp_path})
    assert set(connector.available_streams()) == set(Stream)
    got = {stream.value: read_all(connector, stream.value)[0] for stream in Stream}
    hour = timedelta(hours=1)
    assert got["leads"] == [
        Lead(id="L-1", created_at=T0, source="webinar", segment="mid-market", owner_id="R-1",
             stage="mql", hand_raiser=True)
    ]  # fmt: skip
    assert got["stage_changes"] == [
        StageChange(lead_id="L-1", to_stage="sql", at=T0 + 24 * hour, from_stage="mql",
                    owner_id="R-1")
    ]  # fmt: skip
    assert got["handoffs"] == [
        Handoff(lead_id="L-1", notified_at=T0 + timedelta(minutes=5), stage="mql", owner_id="R-1",
                source="webinar", hand_raiser=True)
    ]  # fmt: skip
    assert got["touches"] == [
        Touch(lead_id="L-1", rep_id="R-1", at=T0 + timedelta(minutes=20), channel=Channel.CALL)
    ]
    assert got["deals"] == [
        Deal(id="D-1", amount=Decimal("12500.50"), opened_at=datetime(2026, 1, 10, tzinfo=UTC),
             lead_id="L-1", closed_at=datetime(2026, 2, 1, tzinfo=UTC), won=True)
    ]  # fmt: skip
    assert got["reps"] == [Rep(id="R-1", name="Ada", email="ada@example.com", team="sales")]
    assert got["owner_changes"] == [OwnerChange(lead_id="L-1", owner_id="R-2", at=T0 + 47 * hour)]


def test_named_files_column_mapping_and_case_insensitive_headers(tmp_path: Path) -> None:
    write(
        tmp_path / "Lead export 2026.csv",
        "LEAD ID,Date Created,Lifecycle Stage,Unused\n"
        "L-1,2026-01-05 10:00,Marketing Qualified Lead,x\n",
    )
    connector = CsvConnector(
        {
            "path": str(tmp_path),
            "files": {"leads": "Lead export 2026.csv"},
            "fields": {
                "leads": {"id": "Lead ID", "created_at": "date created", "stage": "lifecycle stage"}
            },
            "stage_values": {"Marketing Qualified Lead": "mql"},
            "timezone": "Europe/Berlin",
        }
    )  # fmt: skip
    records, rejected, _ = read_all(connector)
    assert rejected == []
    assert records == [
        Lead(id="L-1", created_at=datetime(2026, 1, 5, 10, tzinfo=BERLIN), stage="mql")
    ]


def test_absolute_named_file_without_a_folder(tmp_path: Path) -> None:
    path = write(tmp_path / "reps.csv", "id\nR-1\n")
    connector = CsvConnector({"files": {"reps": str(path)}})
    assert connector.available_streams() == (Stream.REPS,)
    assert read_all(connector, "reps")[0] == [Rep(id="R-1")]


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize(
    ("delimiter", "setting"),
    [(",", "auto"), (";", "auto"), ("\t", "auto"), ("|", "auto"), (";", ";"), (";", "semicolon"),
     ("\t", "tab"), (",", "comma")],
)  # fmt: skip
def test_bom_and_delimiters(tmp_path: Path, bom: str, delimiter: str, setting: str) -> None:
    text = bom + delimiter.join(["id", "created_at", "source"]) + "\n"
    text += delimiter.join(["L-1", "2026-01-05T09:00:00Z", '"a, b; c"']) + "\n"
    connector = leads_file(tmp_path, text, delimiter=setting)
    records, rejected, _ = read_all(connector)
    assert rejected == []
    assert records == [Lead(id="L-1", created_at=T0, source="a, b; c")]


def test_crlf_quotes_and_multi_line_fields(tmp_path: Path) -> None:
    text = (
        'id,created_at,segment\r\nL-1,2026-01-05T09:00:00Z,"two\r\nlines"\r\n'
        'L-2,2026-01-05T09:00:00Z,"say ""hi"""\r\n'
    )
    records, rejected, cursor = read_all(leads_file(tmp_path, text))
    assert [r.segment for r in records] == ["two\r\nlines", 'say "hi"']  # type: ignore[union-attr]
    assert rejected == []
    assert cursor.state["line"] == 4
    assert cursor.state["offset"] == len(text.encode())


def test_other_time_formats_and_zones(tmp_path: Path) -> None:
    text = "id,created_at\nL-1,05.01.2026 10:00\nL-2,1767603600\nL-3,2026-01-05T10:00:00+01:00\n"
    connector = leads_file(
        tmp_path, text, time_formats=["%d.%m.%Y %H:%M", "unix"], timezone="Europe/Berlin"
    )
    records, rejected, _ = read_all(connector)
    assert rejected == []
    assert {r.created_at for r in records} == {T0}  # type: ignore[union-attr]


def test_other_encodings(tmp_path: Path) -> None:
    write(tmp_path / "reps.csv", "id,name\nR-1,Zoë\n", encoding="latin-1")
    connector = CsvConnector({"path": tmp_path, "encoding": "latin-1"})
    assert read_all(connector, "reps")[0] == [Rep(id="R-1", name="Zoë")]


# --- bad input -------------------------------------------------------------------------------


def test_missing_column_fails_fast_listing_the_columns(tmp_path: Path) -> None:
    connector = leads_file(tmp_path, "ID,Created,Source\nL-1,2026-01-05T09:00:00Z,web\n")
    with pytest.raises(MissingColumnsError) as info:
        connector.read("leads")  # raised at the call, before any batch
    assert str(info.value) == (
        "leads.csv:1: missing required column created_at for leads; "
        "the file has: ID, Created, Source"
    )
    assert info.value.columns == ("ID", "Created", "Source")


@pytest.mark.parametrize(
    ("stream", "text", "line", "record_id", "field", "reason"),
    [
        ("leads", "id,created_at\nL-1,2026-13-45T00:00:00Z\n", 2, "L-1", "created_at",
         "expected a time like 2026-01-05T09:30:00+01:00, got '2026-13-45T00:00:00Z'"),
        ("leads", "id,created_at\nL-1,2026-01-05 09:00\n", 2, "L-1", "created_at",
         "naive time '2026-01-05 09:00' has no offset and no timezone is set"),
        ("deals", "id,amount,opened_at\nD-1,-250,2026-01-05T09:00:00Z\n", 2, "D-1", "amount",
         "must not be negative, got -250"),
        ("deals", "id,amount,opened_at\nD-1,lots,2026-01-05T09:00:00Z\n", 2, "D-1", "amount",
         "expected an amount of money like 5000 or 1250000.50, got 'lots'"),
        ("leads", "id,created_at,stage\nL-1,2026-01-05T09:00:00Z,Hot Lead\n", 2, "L-1", "stage",
         "unknown stage 'Hot Lead': expected one of subscriber, lead, mql, sal, sql, opportunity, "
         "customer or a name mapped in stage_values"),
        ("touches", "lead_id,rep_id,at,channel\nL-1,R-1,2026-01-05T09:00:00Z,fax\n", 2, "L-1",
         "channel", "unknown channel 'fax'"),
        ("leads", "id,created_at\n,2026-01-05T09:00:00Z\n", 2, None, "id", "missing value"),
        ("handoffs", "lead_id,notified_at,stage,from_team,to_team\n"
         "L-1,2026-01-05T09:00:00Z,mql,sales,sales\n", 2, "L-1", "to_team",
         "a hand-off goes from one team to the other"),
    ],
)  # fmt: skip
def test_a_bad_row_is_rejected_naming_file_line_column_and_reason(
    tmp_path: Path,
    stream: str,
    text: str,
    line: int,
    record_id: str | None,
    field: str,
    reason: str,
) -> None:
    write(tmp_path / f"{stream}.csv", text)
    good = {
        "leads": "L-9,2026-01-05T09:00:00Z",
        "deals": "D-9,5,2026-01-05T09:00:00Z",
        "touches": "L-9,R-1,2026-01-05T09:00:00Z,call",
        "handoffs": "L-9,2026-01-05T09:00:00Z,mql,marketing,sales",
    }[stream]
    with (tmp_path / f"{stream}.csv").open("a", encoding="utf-8") as file:
        file.write(good + (",mql" if text.startswith("id,created_at,stage") else "") + "\n")
    records, rejected, _ = read_all(CsvConnector({"path": tmp_path}), stream)
    assert len(records) == 1  # the batch goes on after a bad row
    (bad,) = rejected
    assert (bad.stream.value, bad.source, bad.line, bad.record_id, bad.field) == (
        stream, f"{stream}.csv", line, record_id, field
    )  # fmt: skip
    assert bad.reason.startswith(reason)
    assert (
        bad.raw[field]
        == text.splitlines()[1].split(",")[text.splitlines()[0].split(",").index(field)]
    )


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    text = "id,created_at\n" + ROW.format(n=1) + ROW.format(n=2) + "L-1,2026-01-06T09:00:00Z\n"
    records, rejected, _ = read_all(leads_file(tmp_path, text))
    assert [r.id for r in records] == ["L-1", "L-2"]  # type: ignore[union-attr]
    assert [str(r) for r in rejected] == [
        "leads.csv:4: record L-1: id: duplicate id 'L-1': line 2 has it too"
    ]


@pytest.mark.parametrize("stream", list(Stream), ids=str)
def test_identity_of_every_stream_comes_from_the_model(tmp_path: Path, stream: Stream) -> None:
    # A repeated row is a duplicate exactly where the model says the id is the whole key,
    # and a rejected row is named by the model's id field, under the column mapped to it.
    name = id_field(stream.record_type)
    values = {"time": "2026-01-05T09:00:00Z", "money": "10", "stage": "mql", "channel": "call"}
    required = {f.name: values.get(f.kind, "X-1") for f in core_fields(stream) if f.required}
    header = ["Vendor ID" if key == name else key for key in required]
    row = ",".join(required.values())
    write(tmp_path / f"{stream}.csv", ",".join(header) + f"\n{row}\n{row}\n")
    connector = CsvConnector({"path": str(tmp_path), "fields": {stream.value: {name: "Vendor ID"}}})
    records, rejected, _ = read_all(connector, stream.value)
    assert natural_key(records[0]) == natural_key(records[-1])
    if id_is_key(stream.record_type):
        assert len(records) == 1
        assert [str(r) for r in rejected] == [
            f"{stream}.csv:3: record X-1: Vendor ID: duplicate id 'X-1': line 2 has it too"
        ]
    else:
        assert (len(records), rejected) == (2, [])


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    for content in ("", "\ufeff", "\n\n"):
        connector = leads_file(tmp_path, content)
        with pytest.raises(ValidationError, match=r"leads.csv:1: the file is empty"):
            connector.read("leads")


def test_header_only_file_gives_one_empty_batch(tmp_path: Path) -> None:
    connector = leads_file(tmp_path, "id,created_at\n")
    (batch,) = connector.read("leads")
    assert batch.records == batch.rejected == ()
    assert batch.cursor.state["offset"] == len("id,created_at\n")


def test_truncated_last_line_is_left_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    connector = leads_file(tmp_path, "id,created_at\nL-1,2026-01-05T09:00:00Z\nL-2,2026-01-0")
    records, rejected, cursor = read_all(connector)
    assert [r.id for r in records] == ["L-1"]  # type: ignore[union-attr]
    assert rejected == []
    assert cursor.state["offset"] == len("id,created_at\nL-1,2026-01-05T09:00:00Z\n")
    (notice,) = list(connector.read("leads"))[-1].notices
    assert notice.startswith("leads.csv:3: the last line has no newline yet")
    with path.open("a", encoding="utf-8") as file:
        file.write("5T10:00:00Z\n")
    records, rejected, _ = read_all(connector, cursor=cursor)
    assert records == [Lead(id="L-2", created_at=T0 + timedelta(hours=1))]
    assert rejected == []


def test_a_quote_open_at_the_end_rejects_its_line_only_the_last_line_waits(
    tmp_path: Path,
) -> None:
    # Only a last line without its newline is "still being written"; the complete line 3
    # opens a quote that nothing closes: it is rejected, and line 4 waits for its newline.
    text = 'id,created_at,segment\nL-1,2026-01-05T09:00:00Z,ok\nL-2,2026-01-05T09:00:00Z,"a\nb'
    records, rejected, cursor = read_all(leads_file(tmp_path, text))
    assert [r.id for r in records] == ["L-1"]  # type: ignore[union-attr]
    assert [(r.line, r.reason) for r in rejected] == [
        (3, "malformed CSV: unexpected end of data (a quote opened on this line is never closed)")
    ]
    assert cursor.state["line"] == 3


def test_last_line_without_newline_can_be_read(tmp_path: Path) -> None:
    connector = leads_file(
        tmp_path, "id,created_at\nL-1,2026-01-05T09:00:00Z", wait_for_newline=False
    )
    records, _, cursor = read_all(connector)
    assert len(records) == 1
    assert read_all(connector, cursor=cursor)[0] == []


def test_header_without_newline_reads_nothing_yet(tmp_path: Path) -> None:
    connector = leads_file(tmp_path, "id,created_at")
    (batch,) = connector.read("leads")
    assert batch.records == ()
    assert batch.cursor.state["offset"] == 0
    with (tmp_path / "leads.csv").open("a", encoding="utf-8") as file:
        file.write("\nL-1,2026-01-05T09:00:00Z\n")
    assert len(read_all(connector, cursor=batch.cursor)[0]) == 1


def test_rows_with_the_wrong_number_of_fields(tmp_path: Path) -> None:
    text = "id,created_at\nL-1,2026-01-05T09:00:00Z,extra\nL-2\n"
    records, rejected, _ = read_all(leads_file(tmp_path, text))
    assert records == []
    assert [(r.line, r.reason) for r in rejected] == [
        (2, "the row has 3 fields, the header 2"),
        (3, "the row has 1 fields, the header 2"),
    ]
    assert rejected[0].raw == {
        "id": "L-1",
        "created_at": "2026-01-05T09:00:00Z",
        "column 3": "extra",
    }


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    text = "id,created_at\n\nL-1,2026-01-05T09:00:00Z\n , \n"
    records, rejected, cursor = read_all(leads_file(tmp_path, text))
    assert len(records) == 1
    assert rejected == []
    assert cursor.state["line"] == 4  # lines read, the header included


def test_invalid_utf8_row_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        b"id,created_at,source\nL-1,2026-01-05T09:00:00Z,caf\xe9\nL-2,2026-01-05T09:00:00Z,ok\n"
    )
    records, rejected, _ = read_all(CsvConnector({"path": tmp_path}))
    assert [r.id for r in records] == ["L-2"]  # type: ignore[union-attr]
    assert [(r.line, r.record_id, r.reason) for r in rejected] == [
        (2, "L-1", "the row is not valid utf-8")
    ]


def test_malformed_csv_is_rejected(tmp_path: Path) -> None:
    text = (
        "id,created_at,source\nL-1,2026-01-05T09:00:00Z,"
        + "x" * 200
        + "\nL-2,2026-01-05T09:00:00Z,ok\n"
    )
    connector = leads_file(tmp_path, text)
    limit = csv.field_size_limit(100)
    try:
        records, rejected, _ = read_all(connector)
    finally:
        csv.field_size_limit(limit)
    assert [r.id for r in records] == ["L-2"]  # type: ignore[union-attr]
    assert rejected[0].line == 2
    assert rejected[0].reason.startswith("malformed CSV: field larger than field limit")


def test_missing_files(tmp_path: Path) -> None:
    write(tmp_path / "reps.csv", "id\nR-1\n")
    connector = CsvConnector({"path": tmp_path})
    assert connector.available_streams() == (Stream.REPS,)
    with pytest.raises(UnknownKeyError, match="does not offer leads here"):
        connector.read("leads")
    named = CsvConnector({"path": tmp_path, "files": {"leads": "nowhere.csv"}})
    with pytest.raises(ValidationError, match=r"no such file: .*nowhere\.csv"):
        named.read("leads")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "needs path"),
        ({"path": "x", "files": {"contacts": "c.csv"}}, "'contacts' is not a stream"),
        ({"path": "x", "files": {"leads": 5}}, "expected a file name"),
        ({"path": "x", "delimiter": ":"}, "expected one of"),
        ({"path": "x", "encoding": "klingon"}, "unknown encoding"),
        ({"path": "x", "encoding": "utf-16"}, "not ASCII-compatible"),
        ({"path": "x", "batch_size": 0}, "at least 1"),
        ({"path": "x", "fields": {"leads": {"created": "x"}}}, "no field 'created'"),
        ({"path": "x", "timezone": "CET+1"}, "time zone"),
        ({"path": "x", "colums": {}}, "unknown setting 'colums'"),
    ],
)
def test_settings_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CsvConnector(settings)


def test_files_and_fields_check_their_stream_names_alike() -> None:
    errors = []
    for setting in ("files", "fields"):
        with pytest.raises(ValidationError) as info:
            CsvConnector({"path": "x", setting: {"contacts": {}}})
        errors.append(info.value)
    assert (
        errors[0].message
        == errors[1].message
        == (f"'contacts' is not a stream of connector csv (known: {', '.join(Stream)})")
    )
    assert [error.field for error in errors] == ["files.contacts", "fields.contacts"]


# --- incremental reads -----------------------------------------------------------------------

ROW = "L-{n},2026-01-05T09:00:00Z\n"


def test_appended_rows_are_read_and_only_they(tmp_path: Path) -> None:
    connector = leads_file(tmp_path, "id,created_at\n" + ROW.format(n=1) + ROW.format(n=2))
    first, _, cursor = read_all(connector)
    assert len(first) == 2
    again, _, same = read_all(connector, cursor=cursor)
    assert again == []
    assert same == cursor
    with (tmp_path / "leads.csv").open("a", encoding="utf-8") as file:
        file.write(ROW.format(n=3) + "L-4,never\n")
    new, rejected, last = read_all(connector, cursor=Cursor.from_json(cursor.to_json()))
    assert [r.id for r in new] == ["L-3"]  # type: ignore[union-attr]
    assert [r.line for r in rejected] == [5]  # line numbers go on from the cursor
    assert last.state["line"] == 5


def test_a_rewritten_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    connector = leads_file(tmp_path, "id,created_at\n" + ROW.format(n=1) + ROW.format(n=2))
    _, _, cursor = read_all(connector)
    # rewritten in place (same inode), one row changed, longer than before
    with path.open("r+", encoding="utf-8") as file:
        file.write("id,created_at\n" + ROW.format(n=7) + ROW.format(n=2) + ROW.format(n=3))
    assert [r.id for r in read_all(connector, cursor=cursor)[0]] == ["L-7", "L-2", "L-3"]  # type: ignore[union-attr]


def test_a_replaced_or_shortened_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    text = "id,created_at\n" + ROW.format(n=1) + ROW.format(n=2)
    connector = leads_file(tmp_path, text)
    _, _, cursor = read_all(connector)
    replacement = tmp_path / "new.csv"
    write(replacement, text + ROW.format(n=3))
    os.replace(replacement, path)  # same content and more, but another file (inode)
    assert len(read_all(connector, cursor=cursor)[0]) == 3
    _, _, cursor = read_all(connector)
    with path.open("w", encoding="utf-8") as file:
        file.write("id,created_at\n" + ROW.format(n=9))
    assert [r.id for r in read_all(connector, cursor=cursor)[0]] == ["L-9"]  # type: ignore[union-attr]


def test_a_cursor_of_another_file_starts_from_the_beginning(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "id,created_at\n" + ROW.format(n=1))
    write(tmp_path / "b.csv", "id,created_at\n" + ROW.format(n=2))
    _, _, cursor = read_all(CsvConnector({"path": tmp_path, "files": {"leads": "a.csv"}}))
    other = CsvConnector({"path": tmp_path, "files": {"leads": "b.csv"}})
    assert len(read_all(other, cursor=cursor)[0]) == 1
    junk = Cursor(stream="leads", state={"offset": "x"})
    assert len(read_all(other, cursor=junk)[0]) == 1


def test_batches_carry_cursors_to_resume_from(tmp_path: Path) -> None:
    rows = "".join(ROW.format(n=n) for n in range(7))
    connector = leads_file(tmp_path, "id,created_at\n" + rows, batch_size=3)
    batches = list(connector.read("leads"))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [b.cursor.state["line"] for b in batches] == [4, 7, 8]
    rest = [r.id for b in connector.read("leads", batches[0].cursor) for r in b.records]  # type: ignore[union-attr]
    assert rest == [f"L-{n}" for n in range(3, 7)]


def test_duplicates_are_checked_within_a_batch(tmp_path: Path) -> None:
    rows = ROW.format(n=1) + ROW.format(n=1) + ROW.format(n=2) + ROW.format(n=1)
    connector = leads_file(tmp_path, "id,created_at\n" + rows, batch_size=3)
    batches = list(connector.read("leads"))
    assert [(len(b.records), len(b.rejected)) for b in batches] == [(2, 1), (1, 0)]


# Row templates; ids are numbered by position so that none repeats (a repeated id is checked
# within a batch only, which depends on where the batches fall).
LEAD_ROWS = st.lists(
    st.sampled_from(
        [
            "L-{n},2026-01-05T09:00:00Z,\n",
            'L-{n},2026-01-05T09:00:00Z,"a\nb"\n',
            "L-{n},not a time,\n",
            "\n",
            "L-é{n},2026-01-05T09:00:00+01:00,caf\u00e9\n",
            "L-{n},2026-01-05T09:00:00Z,x,extra\n",
        ]
    ),
    max_size=12,
)


@settings(max_examples=60)
@given(rows=LEAD_ROWS, data=st.data())
def test_reading_while_the_file_grows_equals_one_read(rows: list[str], data: st.DataObject) -> None:
    lines = "".join(row.format(n=n) for n, row in enumerate(rows))
    content = ("id,created_at,segment\n" + lines).encode()
    # A writer that stops just after a line break inside a quoted value leaves complete lines
    # that open a quote nothing closes: those are rejected (test_csvfile_lines.py). Every
    # other place a writer can stop at gives the same rows as one read.
    inside: set[int] = set()
    start = len(b"id,created_at,segment\n")
    for n, row in enumerate(rows):
        raw = row.format(n=n).encode()
        if raw.count(b"\n") > 1:
            inside.update(range(start + raw.index(b"\n") + 1, start + len(raw)))
        start += len(raw)
    places = st.integers(0, len(content)).filter(lambda cut: cut not in inside)
    cuts = sorted(data.draw(st.lists(places, max_size=5)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        path.write_bytes(content)
        connector = CsvConnector({"path": folder, "batch_size": 2})
        whole = read_all(connector)
        path.write_bytes(b"")
        pieces: list[Record] = []
        rejected: list[RejectedRecord] = []
        cursor: Cursor | None = None
        for start, end in zip([0, *cuts], [*cuts, len(content)], strict=True):
            with path.open("ab") as file:
                file.write(content[start:end])
            if not path.read_bytes().strip():
                continue
            records, bad, cursor = read_all(connector, cursor=cursor)
            pieces.extend(records)
            rejected.extend(bad)
        assert pieces == whole[0]
        assert [(r.line, r.reason) for r in rejected] == [(r.line, r.reason) for r in whole[1]]


# --- memory ----------------------------------------------------------------------------------


def _peak_reading(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8") as file:
        file.write("id,created_at,source,stage\n")
        file.writelines(f"L-{n},2026-01-05T09:00:00Z,web,mql\n" for n in range(rows))
    connector = CsvConnector({"files": {"leads": str(path)}, "batch_size": 200})
    count = 0
    tracemalloc.start()
    try:
        for batch in connector.read("leads"):
            count += len(batch.records)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == rows
    return peak


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small = _peak_reading(tmp_path / "small.csv", 2_000)
    large = _peak_reading(tmp_path / "large.csv", 16_000)
    size = (tmp_path / "large.csv").stat().st_size
    assert large < size / 2  # far less than the file: rows are streamed, not loaded
    assert large < small * 1.5  # eight times the rows, about the same peak


# --- the contract and the plugin -------------------------------------------------------------


class TestCsvContract(ConnectorContract):
    connector_class = CsvConnector
    plugin = csvfile

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Mapping[str, Any]:
        write(tmp_path / "leads.csv", "id,created_at\nL-1,2026-01-05T09:00:00Z\nL-2,bad\n")
        write(
            tmp_path / "touches.csv",
            "lead_id,rep_id,at,channel\nL-1,R-1,2026-01-05T10:00:00Z,call\n",
        )
        return {"path": str(tmp_path)}


def test_hook_registers_the_connector() -> None:
    registered: list[object] = []
    csvfile.slacore_register_connectors(registered.append)
    assert registered == [CsvConnector]


def test_repr_shows_the_settings(tmp_path: Path) -> None:
    assert repr(CsvConnector({"path": tmp_path})).startswith("CsvConnector(Settings(path=")


def test_batches_are_batches(tmp_path: Path) -> None:
    connector = leads_file(tmp_path, "id,created_at\n" + ROW.format(n=1))
    batches: Iterator[Batch] = connector.read("leads")
    assert all(isinstance(batch, Batch) for batch in batches)


def test_a_missing_or_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such folder") as info:
        CsvConnector({"path": str(tmp_path / "missing")}).available_streams()
    assert info.value.field == "path"
    with pytest.raises(ValidationError, match="no file of any stream"):
        CsvConnector({"path": str(tmp_path)}).available_streams()
