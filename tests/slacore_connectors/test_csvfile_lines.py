"""The csv connector's lines under bad input: stray quotes, unfinished last lines, rewrites."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore.connector import Cursor, Record, RejectedRecord
from slacore.errors import SlacoreError, ValidationError
from slacore_connectors.csvfile import _SETTLED_NS, CsvConnector
from slacore_connectors.store.sqlite import SQLiteStore
from slacore_connectors.sync import JobConfig, run_sync

HEADER = "id,created_at,source\n"
ROW = "L-{n},2026-01-05T09:00:00Z,web\n"


def read_all(
    connector: CsvConnector, cursor: Cursor | None = None
) -> tuple[list[str], list[tuple[int | None, str]], Cursor]:
    """The ids read, the (line, reason) of each rejection, and the last cursor."""
    records: list[Record] = []
    rejected: list[RejectedRecord] = []
    last = None
    for batch in connector.read("leads", cursor):
        records.extend(batch.records)
        rejected.extend(batch.rejected)
        last = batch.cursor
    assert last is not None
    ids = [str(getattr(record, "id", "")) for record in records]
    return ids, [(r.line, r.reason) for r in rejected], last


def leads(tmp_path: Path, text: str | bytes, **settings: object) -> CsvConnector:
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "leads.csv").write_bytes(data)
    return CsvConnector({"path": str(tmp_path), **settings})


def append(tmp_path: Path, text: str) -> None:
    with (tmp_path / "leads.csv").open("ab") as file:
        file.write(text.encode())


# --- stray quotes ----------------------------------------------------------------------------


def test_an_unclosed_quote_rejects_its_line_and_the_rows_after_it_are_read(
    tmp_path: Path,
) -> None:
    text = HEADER + ROW.format(n=1) + 'L-2,"2026-01-05T09:00:00Z,web\n' + ROW.format(n=3)
    connector = leads(tmp_path, text + ROW.format(n=4))
    ids, rejected, cursor = read_all(connector)
    assert ids == ["L-1", "L-3", "L-4"]
    assert rejected == [
        (3, "malformed CSV: unexpected end of data (a quote opened on this line is never closed)")
    ]
    assert cursor.state["line"] == 5
    append(tmp_path, ROW.format(n=5))
    assert read_all(connector, cursor)[:2] == (["L-5"], [])


def test_a_stray_quote_closed_by_a_later_quote_costs_one_line(tmp_path: Path) -> None:
    text = (
        HEADER
        + 'L-1,2026-01-05T09:00:00Z,"web\n'
        + ROW.format(n=2)
        + 'L-3,2026-01-05T09:00:00Z,"say ""hi"""\n'
        + ROW.format(n=4)
    )
    ids, rejected, _ = read_all(leads(tmp_path, text))
    assert ids == ["L-2", "L-3", "L-4"]
    assert rejected == [
        (
            2,
            "malformed CSV: ',' expected after '\"' (a closing quote is followed by more text "
            "(a stray quote?))",
        )
    ]


def test_a_stray_quote_giving_too_few_fields_costs_one_line(tmp_path: Path) -> None:
    text = HEADER + 'L-1,"web\n' + 'L-2,2026-01-05T09:00:00Z,x"\n' + ROW.format(n=3)
    ids, rejected, _ = read_all(leads(tmp_path, text))
    assert ids == ["L-2", "L-3"]  # L-2's source is x" (a quote inside a value is a character)
    assert rejected == [
        (
            2,
            "the row has 2 fields, the header 3 (a quoted value runs from this line over 2 "
            "lines; a stray quote?)",
        )
    ]


def test_a_writer_stopping_inside_a_quoted_value_after_a_line_break(tmp_path: Path) -> None:
    # The documented cost of reading on after a stray quote: complete lines that open a quote
    # nothing closes are rejected, even if the writer had not finished the value yet.
    connector = leads(tmp_path, HEADER + 'L-1,2026-01-05T09:00:00Z,"two\n')
    ids, rejected, cursor = read_all(connector)
    assert (ids, [line for line, _ in rejected]) == ([], [2])
    append(tmp_path, 'lines"\n' + ROW.format(n=2))
    ids, rejected, _ = read_all(connector, cursor)
    assert ids == ["L-2"]
    assert rejected == [(3, "the row has 1 fields, the header 3")]


def test_a_sync_reads_past_an_unclosed_quote(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = "".join(ROW.format(n=n) for n in range(2, 6))
    (data / "leads.csv").write_text(HEADER + 'L-1,"2026-01-05T09:00:00Z,web\n' + rows)
    job = tmp_path / "slacore.toml"
    job.write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data" }\n'
    )
    (result,) = run_sync(JobConfig.load(job)).sources
    assert (result.status, result.streams["leads"].read, result.streams["leads"].rejected) == (
        "success",
        4,
        1,
    )
    with (data / "leads.csv").open("a") as file:
        file.write(ROW.format(n=6))
    (result,) = run_sync(JobConfig.load(job)).sources
    assert (result.streams["leads"].read, result.streams["leads"].rejected) == (1, 0)


# --- a last line without its newline ---------------------------------------------------------


def notices(connector: CsvConnector, cursor: Cursor | None = None) -> list[str]:
    return [notice for batch in connector.read("leads", cursor) for notice in batch.notices]


WAITS = "leads.csv:{line}: the last line has no newline yet; it waits for the next run"


def test_a_last_line_without_newline_is_said_to_wait_and_read_once_when_complete(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text(HEADER + ROW.format(n=1) + "L-2,2026-01-05T09:0")
    connector = CsvConnector({"path": str(data)})
    (said,) = notices(connector)
    assert said.startswith(WAITS.format(line=3))
    job = tmp_path / "slacore.toml"
    job.write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data" }\n'
    )
    counts = [run_sync(JobConfig.load(job)).sources[0].streams["leads"].read]
    with (data / "leads.csv").open("a") as file:
        file.write("0:00Z,web\n")
    counts += [run_sync(JobConfig.load(job)).sources[0].streams["leads"].read for _ in range(2)]
    assert counts == [1, 1, 0]  # L-2 is read once, by the run after it got its newline


def test_a_last_line_that_never_gets_its_newline_keeps_waiting(tmp_path: Path) -> None:
    # Decided: it is never read as it is by default, even when the file has not changed
    # since the last run (a writer may be slow; half a value would be stored silently).
    # Each run says it waits; wait_for_newline = false reads such a line.
    connector = leads(tmp_path, HEADER + ROW.format(n=1) + ROW.format(n=2).rstrip("\n"))
    ids, _, cursor = read_all(connector)
    assert ids == ["L-1"]
    for _ in range(2):
        ids, _, again = read_all(connector, cursor)
        assert (ids, again) == ([], cursor)
        (said,) = notices(connector, cursor)
        assert said.startswith(WAITS.format(line=3))
    assert read_all(CsvConnector({"path": str(tmp_path), "wait_for_newline": False}), cursor)[
        0
    ] == ["L-2"]
    assert notices(CsvConnector({"path": str(tmp_path), "wait_for_newline": False})) == []


def test_a_header_without_newline_is_said_to_wait(tmp_path: Path) -> None:
    connector = leads(tmp_path, HEADER.rstrip("\n"))
    assert notices(connector) == [
        "leads.csv:1: the header row has no newline yet; nothing is read until it has one"
    ]
    append(tmp_path, "\n")
    assert notices(connector) == []


def test_a_complete_file_says_nothing(tmp_path: Path) -> None:
    connector = leads(tmp_path, HEADER + ROW.format(n=1) + "\n \n")
    assert notices(connector) == []


# --- rewritten in place ----------------------------------------------------------------------


def many_rows(count: int, source: str = "web", changed: int = -1) -> str:
    return HEADER + "".join(
        ROW.format(n=n).replace("web", "ads" if n == changed else source) for n in range(count)
    )


def test_a_same_size_rewrite_in_place_is_read_again(tmp_path: Path) -> None:
    # 300 rows, about 12 KiB: the changed row is far from the file's first and last 4 KiB.
    connector = leads(tmp_path, many_rows(300))
    _, _, cursor = read_all(connector)
    before = os.stat(tmp_path / "leads.csv")
    with (tmp_path / "leads.csv").open("r+b") as file:  # written over, as cp or curl -o do
        file.write(many_rows(300, changed=150).encode())
    after = os.stat(tmp_path / "leads.csv")
    assert (after.st_ino, after.st_size) == (before.st_ino, before.st_size)
    records = [r for batch in connector.read("leads", cursor) for r in batch.records]
    assert len(records) == 300
    assert [r.source for r in records if r.id == "L-150"] == ["ads"]  # type: ignore[union-attr]
    assert notices(connector, cursor) == [
        "leads.csv: the part read at the last run changed since; it is read again from the start"
    ]


def test_a_sync_stores_the_values_of_a_rewritten_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "leads.csv").write_text(many_rows(300))
    job = tmp_path / "slacore.toml"
    job.write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data" }\n'
    )
    run_sync(JobConfig.load(job))
    with (data / "leads.csv").open("r+b") as file:
        file.write(many_rows(300, changed=150).encode())
    (result,) = run_sync(JobConfig.load(job)).sources
    assert (result.streams["leads"].read, result.streams["leads"].stored) == (300, 1)
    with SQLiteStore(tmp_path / "slacore.db") as store:
        assert [lead.source for lead in store.records("leads") if lead.id == "L-150"] == ["ads"]
    assert run_sync(JobConfig.load(job)).sources[0].streams["leads"].read == 0


def test_an_unchanged_file_goes_on_where_it_stopped(tmp_path: Path) -> None:
    connector = leads(tmp_path, many_rows(300), batch_size=70)
    batches = list(connector.read("leads"))
    middle = Cursor.from_json(batches[1].cursor.to_json())
    assert len(middle.state["sha256"]) == 64  # type: ignore[arg-type]
    ids, _, _ = read_all(connector, middle)
    assert ids == [f"L-{n}" for n in range(140, 300)]
    assert notices(connector, middle) == []


def test_a_cursor_of_the_previous_format_reads_the_file_again(tmp_path: Path) -> None:
    # Written by slacore before the whole-prefix hash: a digest of the first 4 KiB and of the
    # 4 KiB before the offset. It cannot vouch for the rest; reading again is safe (upserts).
    text = many_rows(300).encode()
    connector = leads(tmp_path, text)
    _, _, cursor = read_all(connector)
    offset = len(text)
    old = hashlib.sha256(text[:4096] + text[offset - 4096 : offset]).hexdigest()[:32]
    state = {k: v for k, v in cursor.state.items() if k != "sha256"} | {"fingerprint": old}
    previous = Cursor(stream="leads", state=state)
    assert len(read_all(connector, previous)[0]) == 300
    (said,) = notices(connector, previous)
    assert said.startswith("leads.csv: the cursor is from an older slacore")


def _settle(path: Path) -> None:
    """Wait until ``path`` was last written longer ago than a cursor needs to trust its
    status (size, modification and change times)."""
    left = os.stat(path).st_ctime_ns + _SETTLED_NS - time.time_ns()
    time.sleep(max(0, left) / 1e9 + 0.05)


def _bytes_read() -> int:
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").is_file(), reason="counts bytes read (Linux)")
def test_a_file_not_written_since_its_cursor_is_not_read_again_to_go_on(tmp_path: Path) -> None:
    # The part read is hashed again only when the file's status says it may have changed: a
    # re-sync with nothing new reads the header, not the whole export.
    connector = leads(tmp_path, many_rows(20_000))
    size = (tmp_path / "leads.csv").stat().st_size
    _settle(tmp_path / "leads.csv")
    _, _, cursor = read_all(connector)
    assert "written" in cursor.state
    before = _bytes_read()
    ids, _, again = read_all(connector, cursor)
    assert _bytes_read() - before < size // 4
    assert (ids, again.state) == ([], cursor.state)
    assert notices(connector, cursor) == []
    append(tmp_path, ROW.format(n=20_000))
    assert read_all(connector, cursor)[0] == ["L-20000"]


def test_a_rewrite_that_sets_the_modification_time_back_is_read_again(tmp_path: Path) -> None:
    # The change time moves with every write and no tool sets it back.
    path = tmp_path / "leads.csv"
    connector = leads(tmp_path, many_rows(300))
    _settle(path)
    _, _, cursor = read_all(connector)
    before = os.stat(path)
    with path.open("r+b") as file:
        file.write(many_rows(300, changed=150).encode())
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert len(read_all(connector, cursor)[0]) == 300
    assert notices(connector, cursor) == [
        "leads.csv: the part read at the last run changed since; it is read again from the start"
    ]


def test_a_file_written_just_before_its_read_has_its_status_left_out(tmp_path: Path) -> None:
    # Written in the same tick of the clock as the read, a later write could leave the times
    # as they are: only the hash vouches for such a file at the next read.
    connector = leads(tmp_path, many_rows(10))
    written = os.stat(tmp_path / "leads.csv").st_ctime_ns
    _, _, cursor = read_all(connector)
    if time.time_ns() - written < _SETTLED_NS:  # a loaded machine may take longer
        assert "written" not in cursor.state
    assert isinstance(cursor.state["sha256"], str)


# --- line endings ----------------------------------------------------------------------------


def test_old_mac_files_with_cr_line_endings_are_read(tmp_path: Path) -> None:
    # Excel's "CSV (Macintosh)": lines end with a lone CR; a cell's line break may be an LF.
    mac = (
        '\ufeffid,created_at,source\rL-1,2026-01-05T09:00:00Z,web\rL-2,2026-01-05T09:00:00Z,"a\nb"\r'
        "L-3,never,web\rL-4,2026-01-05T09:00:00Z,web"
    )
    connector = leads(tmp_path, mac)
    records = [r for batch in connector.read("leads") for r in batch.records]
    assert [(r.id, r.source) for r in records] == [("L-1", "web"), ("L-2", "a\nb")]  # type: ignore[union-attr]
    _, rejected, cursor = read_all(connector)
    assert [line for line, _ in rejected] == [4]
    assert notices(connector) == [
        WAITS.format(line=5) + " (wait_for_newline = false reads it as it is)"
    ]
    append(tmp_path, "\rL-5,2026-01-05T09:00:00Z,web\r")
    assert read_all(connector, cursor)[:2] == (["L-4", "L-5"], [])


def test_a_lone_cr_in_the_header_refuses_the_file_naming_it(tmp_path: Path) -> None:
    connector = leads(tmp_path, "id,created_at\r,source\n" + ROW.format(n=1) + ROW.format(n=2))
    with pytest.raises(ValidationError) as info:
        list(connector.read("leads"))
    assert str(info.value) == (
        "leads.csv:1: the header row is not valid CSV: new-line character seen in unquoted "
        "field (a carriage return (CR) inside the line)"
    )


def test_a_lone_cr_inside_a_row_rejects_that_row(tmp_path: Path) -> None:
    text = HEADER + "L-1,2026-01-05T09:00:00Z,w\reb\n" + ROW.format(n=2) + "L-3,2026\r\n"
    ids, rejected, _ = read_all(leads(tmp_path, text))
    assert ids == ["L-2"]
    assert rejected == [
        (
            2,
            "malformed CSV: new-line character seen in unquoted field (a carriage return (CR) "
            "inside the line)",
        ),
        (4, "the row has 2 fields, the header 3"),
    ]


# --- bad bytes -------------------------------------------------------------------------------


def test_nul_bytes_and_inner_byte_order_marks_reject_their_rows(tmp_path: Path) -> None:
    # Two exports joined with cat: the second one's header starts with its byte-order mark.
    text = (
        "\ufeff"
        + HEADER
        + "L-\x001,2026-01-05T09:00:00Z,web\n"
        + ROW.format(n=2)
        + "\ufeff"
        + HEADER
        + "\ufeffL-3,2026-01-05T09:00:00Z,web\n"
        + ROW.format(n=4)
    )
    ids, rejected, _ = read_all(leads(tmp_path, text))
    assert ids == ["L-2", "L-4"]
    assert rejected == [
        (2, "the row holds a NUL byte (is it a text file?)"),
        (4, "the row holds a byte-order mark (U+FEFF) past the file's start (files joined?)"),
        (5, "the row holds a byte-order mark (U+FEFF) past the file's start (files joined?)"),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,created_at,sou\x00rce\n", "the header row holds a NUL byte (is it a text file?)"),
        (
            "id,created_at,source," + "x" * 140_000 + "\n",
            "the header row is not valid CSV: field larger than field limit (131072) (a field "
            "is too long for a CSV value)",
        ),
    ],
)
def test_bad_bytes_in_the_header_refuse_the_file_naming_it(
    tmp_path: Path, header: str, message: str
) -> None:
    connector = leads(tmp_path, header + ROW.format(n=1))
    with pytest.raises(ValidationError) as info:
        list(connector.read("leads"))
    assert str(info.value) == f"leads.csv:1: {message}"


def test_a_field_longer_than_the_csv_limit_rejects_its_row(tmp_path: Path) -> None:
    text = HEADER + "L-1,2026-01-05T09:00:00Z," + "x" * 140_000 + "\n" + ROW.format(n=2)
    ids, rejected, _ = read_all(leads(tmp_path, text))
    assert ids == ["L-2"]
    assert rejected == [
        (
            2,
            "malformed CSV: field larger than field limit (131072) (a field is too long for a "
            "CSV value)",
        )
    ]


def sync_cli(tmp_path: Path, content: bytes) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "leads.csv").write_bytes(content)
    (tmp_path / "slacore.toml").write_text(
        'store = "slacore.db"\n[[sources]]\nname = "crm"\nconnector = "csv"\n'
        'settings = { path = "data" }\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "slacore_connectors", "sync"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "leads.csv:1: the file is empty"),
        (b"\xef\xbb\xbf\n", "leads.csv:1: the file is empty"),
        (b"id,created_at\x00\n", "leads.csv:1: the header row holds a NUL byte"),
        (b"id,created_at\r,source\nL-1,2026-01-05T09:00:00Z,web\n", "leads.csv:1: the header"),
    ],
)
def test_a_refused_file_is_named_by_the_sync_without_a_traceback(
    tmp_path: Path, content: bytes, said: str
) -> None:
    done = sync_cli(tmp_path, content)
    assert "Traceback" not in done.stderr
    assert said in done.stdout + done.stderr
    assert done.returncode == 1


def test_a_header_only_file_is_a_successful_sync_of_nothing(tmp_path: Path) -> None:
    done = sync_cli(tmp_path, HEADER.encode())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


# --- the property: every line stored or rejected, no exception but slacore's own -------------

# Row kinds: (template, good). {n} is the row's number (ids never repeat), {nl} the line break.
KINDS = [
    ("L-{n},2026-01-05T09:00:00Z,web", True),
    ('L-{n},2026-01-05T09:00:00Z,"a\nb"', True),  # a quoted value over two lines
    ("L-{n},not a time,web", False),
    ("L-{n},2026-01-05T09:00:00Z", False),  # too few fields
    ('L-{n},"2026-01-05T09:00:00Z,web', False),  # a quote that never closes
    ('L-{n},"20"26-01-05T09:00:00Z,web', False),  # text after a closing quote
    ("L-{n},2026-01-05T09:00:00Z,w\reb", False),  # a lone CR (not in old-Mac files)
    ("L-{n},2026-01-05T09:00:00Z,w\x00eb", False),
    ("L-{n},2026-01-05T09:00:00Z," + "x" * 140_000, False),  # past csv.field_size_limit()
    ("L-{n},2026-01-05T09:00:00Z,caf\udce9", False),  # the byte E9: not UTF-8
    ("\ufeffL-{n},2026-01-05T09:00:00Z,web", False),
    ("", False),  # blank
]


@settings(max_examples=50, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(KINDS), max_size=10),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    last_newline=st.booleans(),
    wait=st.booleans(),
)
def test_every_line_is_read_rejected_or_said_to_wait(
    kinds: list[tuple[str, bool]], newline: str, last_newline: bool, wait: bool
) -> None:
    if newline == "\r":  # in old-Mac files a lone CR ends a line
        kinds = [kind for kind in kinds if "\r" not in kind[0]]
    rows = [template.replace("{n}", str(n)) for n, (template, _) in enumerate(kinds)]
    text = HEADER.rstrip("\n") + "".join(newline + row for row in rows)
    if last_newline:
        text += newline
    starts, line = [], 2  # the first line of each row
    for row in rows:
        starts.append(line)
        line += 1 + row.count(newline[-1])  # a line break inside the quoted value
    with tempfile.TemporaryDirectory() as folder:
        connector = leads(
            Path(folder),
            text.encode("utf-8", "surrogateescape"),
            wait_for_newline=wait,
            batch_size=3,
        )
        try:
            batches = list(connector.read("leads"))
        except SlacoreError:
            return  # a refused file, named in the error
    read = {str(getattr(r, "id", "")) for batch in batches for r in batch.records}
    rejected = {r.line for batch in batches for r in batch.rejected}
    waiting = {int(notice.split(":")[1]) for batch in batches for notice in batch.notices}
    for n, ((_, good), row, first) in enumerate(zip(kinds, rows, starts, strict=True)):
        if not row:
            continue
        assert f"L-{n}" in read or first in rejected or first in waiting, (n, row[:40])
        if good and first not in waiting and not (n == len(rows) - 1 and not last_newline):
            assert f"L-{n}" in read, (n, row)
    assert read <= {f"L-{n}" for n, (_, good) in enumerate(kinds) if good}
    assert len(waiting) <= 1
