"""Fuzzing the CSV exports through a real sync: nothing lost, nothing silent.

Small extracts of the demo exports are mutated (bad values, stray quotes, odd line endings,
truncations, empty files, garbage lines) and synced into a real SQLite store. Whatever the
mutation, every line after a header is accounted for: its record is stored, or it is rejected
at its own line (a quoted field may carry the record over several lines), or the output says
it waits for its newline. No exception but slacore's own escapes, a refused file is named, a
pristine row is stored with its values, a re-sync changes no count, and a row appended later is
read.

Set ``SLACORE_FUZZ_EXAMPLES`` to try more cases than the suite's default.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slacore.errors import SlacoreError
from slacore_connectors.store import Store, open_store
from slacore_connectors.sync import JobConfig, SyncReport, run_sync

DEMO = Path(__file__).parents[2] / "src" / "slacore_connectors" / "demo" / "data"
FILES = {"leads": "leads.csv", "deals": "deals.csv", "reps": "reps.csv"}
ROWS = 12  # data rows taken from each demo export

NASTY = [
    "",
    " ",
    '"',
    '"unclosed',
    'a"b',
    '""',
    "\x00",
    "\r",
    "\ufeff",
    "x" * 140_000,  # over the csv module's default field size limit
    "é\u2028",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:00:00-05:00",
    "2020-13-45T00:00:00Z",
    "2020-04-20T00:00:00",
    '"12,50"',
    '"1.234,56"',
    "1.234,56",
    "12,50",
    "1e308",
    "1e999999999",
    "NaN",
    "-Infinity",
    "999999999999999999999999999999999.99",
    "-0",
    "TRUE",
    "maybe",
]
# Amounts that must never be stored as a number: a decimal comma, a float's exponent.
AMBIGUOUS_AMOUNTS = {'"12,50"', '"1.234,56"', "1e308", "1e999999999", "NaN", "-Infinity"}
GARBAGE = ["", ",,,,,", '"",,,,', '"', "just some text", "\x00\x00", "a,b,c,d,e,f,g,h,i,j,k"]


def _extract(name: str) -> tuple[str, list[str]]:
    lines = (DEMO / name).read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1 : ROWS + 1]


@attrs.frozen
class Line:
    """One line written: its text, the id of the row it came from, whether it is untouched."""

    text: str
    row_id: str | None
    pristine: bool
    amount: str | None = None  # the raw amount written, for deals


@attrs.frozen
class Export:
    """One mutated file: its lines and how they are joined."""

    name: str
    header: str
    lines: tuple[Line, ...]
    newline: str = "\n"
    final_newline: bool = True
    bom: bool = False
    empty: bool = False

    def text(self) -> str:
        if self.empty:
            return ""
        body = self.newline.join([self.header, *(line.text for line in self.lines)])
        return ("\ufeff" if self.bom else "") + body + (self.newline if self.final_newline else "")


def _first_field(text: str) -> str | None:
    """The id a line would be stored under, read as the CSV module reads one line."""
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:
        return None
    return fields[0].strip() if fields else None  # cells are read without surrounding space


def _holds_no_record(text: str) -> bool:
    """Whether a line is blank or only empty fields (``,,,``, ``"",,``), which a reader skips."""
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:
        return False
    return not any(field.strip() for field in fields)


@st.composite
def exports(draw: st.DrawFn, stream: str) -> Export:
    header, rows = _extract(FILES[stream])
    lines = [
        Line(
            text=row,
            row_id=row.split(",")[0],
            pristine=True,
            amount=row.split(",")[1] if stream == "deals" else None,
        )
        for row in rows
    ]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["value", "value", "garbage", "cut"]))
        at = draw(st.integers(0, len(lines) - 1))
        if kind == "value":
            fields = lines[at].text.split(",")
            column = draw(st.integers(0, len(fields) - 1))
            value = draw(st.sampled_from(NASTY))
            fields[column] = value
            raw_amount = value if stream == "deals" and column == 1 else lines[at].amount
            text = ",".join(fields)
            lines[at] = Line(
                text=text, row_id=_first_field(text), pristine=False, amount=raw_amount
            )
        elif kind == "garbage":
            text = draw(st.sampled_from(GARBAGE))
            lines.insert(at, Line(text=text, row_id=_first_field(text), pristine=False))
        else:  # a line cut short, as by a half-written export
            text = lines[at].text
            cut = draw(st.integers(1, max(1, len(text) - 1)))
            lines[at] = Line(text=text[:cut], row_id=_first_field(text[:cut]), pristine=False)
    return Export(
        name=FILES[stream],
        header=header,
        lines=tuple(lines),
        newline=draw(st.sampled_from(["\n", "\n", "\r\n", "\r"])),
        final_newline=draw(st.booleans()),
        bom=draw(st.booleans()),
        empty=draw(st.integers(0, 9)) == 0,
    )


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _physical_lines(text: str) -> list[str]:
    """The file's lines as slacore numbers them (and grep, sed and wc do): a file with any LF
    ends its lines at LF (a CR before it dropped, a lone CR kept in the line); a file with no LF
    is an old-Mac one, its lines ending at CR."""
    if "\n" in text:
        lines = [line.removesuffix("\r") for line in text.split("\n")]
    else:
        lines = text.split("\r")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _store_of(folder: Path) -> Path:
    """The store file of the job in ``folder``: ``sla.db`` or ``sla.duckdb``."""
    (found,) = [p for p in folder.glob("sla.*") if p.suffix in (".db", ".duckdb")]
    return found


def _sync(folder: Path, *, full: bool = False, store: str = "sla.db") -> SyncReport:
    job = folder / "slacore.toml"
    if not job.exists():
        job.write_text(
            f'store = "{store}"\n\n[[sources]]\nname = "files"\nconnector = "csv"\n'
            'settings = { path = "exports" }\n'
        )
    try:
        return run_sync(JobConfig.load(job), full=full)
    except SlacoreError as error:  # a documented error is an answer, though not this one
        pytest.fail(f"the sync refused the whole job: {error}")


def _stored(store: Store) -> dict[str, dict[str, object]]:
    return {stream: {r.id: r for r in store.records(stream)} for stream in FILES}


def _check_accounted(
    exports_: dict[str, Export], folder: Path, report: SyncReport
) -> dict[str, tuple[int, int]]:
    """Every line stored, rejected at its line, or noticed; returns counts per stream."""
    output = report.to_text()
    with open_store(_store_of(folder)) as store:
        stored = _stored(store)
        rejected: dict[str, set[int]] = {name: set() for name in FILES.values()}
        for record in store.rejected():
            assert record.source is not None, record
            assert record.line is not None, record
            rejected.setdefault(Path(record.source).name, set()).add(record.line)
            assert record.reason.strip(), record
        counts = {stream: (len(stored[stream]), 0) for stream in FILES}
        for stream, export in exports_.items():
            counts[stream] = (len(stored[stream]), len(rejected[export.name]))
            text = _read(folder / "exports" / export.name)
            physical = _physical_lines(text.removeprefix("\ufeff"))
            if not physical or not physical[0].strip():
                assert export.name in output, f"{export.name} refused without a word:\n{output}"
                continue
            _check_file(export, physical, stored[stream], rejected[export.name], output, text)
    return counts


def _check_file(
    export: Export,
    physical: list[str],
    stored: dict[str, object],
    rejected: set[int],
    output: str,
    text: str,
) -> None:
    # CRs at a line's end, before its line break, end the row as the break does: same line.
    by_text = {line.text.rstrip("\r"): line for line in export.lines}
    # A file of LF lines whose last ends with a CR alone waits for its LF (a CRLF half written).
    ending = "\n" if "\n" in text else "\r"
    waiting = len(physical) if not text.endswith(ending) else None
    accounted: dict[int, bool] = {}
    for number, content in enumerate(physical[1:], start=2):
        line = by_text.get(content.rstrip("\r"))
        if number in rejected:
            accounted[number] = True
        elif number == waiting:
            accounted[number] = f"{export.name}:{number}" in output
        elif line is not None and line.row_id is not None and line.row_id in stored:
            accounted[number] = True
            if line.pristine and export.name == "deals.csv":
                deal = stored[line.row_id]
                assert deal.amount == Decimal(line.amount or ""), (line, deal)  # type: ignore[attr-defined]
            if line.amount in AMBIGUOUS_AMOUNTS:
                pytest.fail(
                    f"{export.name}:{number}: amount {line.amount!r} was stored as a number"
                )
        else:  # a blank line, or one of empty fields only, holds no record
            accounted[number] = _holds_no_record(content)
    # A quoted field may carry one record over several lines: those lines belong to it. A
    # record so carried whose field count is wrong is rejected at its first line and reading
    # goes on at the next, so every line of a span may start a span of its own.
    carried: set[int] = set()
    for number in range(2, len(physical) + 1):
        if accounted.get(number) and '"' in physical[number - 1]:
            quotes = physical[number - 1].count('"')
            end = number
            while quotes % 2 and end < len(physical):
                end += 1
                quotes += physical[end - 1].count('"')
            if quotes % 2 == 0:
                for inside in range(number + 1, end + 1):
                    accounted[inside] = True
                    carried.add(inside)
    lost = [(n, physical[n - 1][:60]) for n, ok in accounted.items() if not ok]
    assert not lost, f"{export.name}: lines neither stored, rejected nor noticed: {lost}"
    for number, content in enumerate(physical[1:-1], start=2):
        line = by_text.get(content.rstrip("\r"))
        if line is not None and line.pristine and number not in carried:
            assert line.row_id in stored, f"{export.name}: pristine row {line.row_id} not stored"


def _write(folder: Path, exports_: dict[str, Export]) -> None:
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    for export in exports_.values():
        (folder / "exports" / export.name).write_text(export.text(), encoding="utf-8", newline="")


@pytest.fixture
def workdirs(tmp_path: Path) -> Iterator[Path]:
    def numbered() -> Iterator[Path]:
        for n in range(10_000):
            folder = tmp_path / f"case{n}"
            folder.mkdir()
            yield folder

    return numbered()


@settings(
    max_examples=int(os.environ.get("SLACORE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    leads=exports("leads"),
    deals=exports("deals"),
    reps=exports("reps"),
    # Every engine keeps the promise: each example syncs into one of them.
    store=st.sampled_from(["sla.db", "sla.duckdb"]),
)
def test_every_row_stored_rejected_or_noticed(
    workdirs: Iterator[Path], leads: Export, deals: Export, reps: Export, store: str
) -> None:
    folder = next(workdirs)
    files = {"leads": leads, "deals": deals, "reps": reps}
    _write(folder, files)

    first = _sync(folder, store=store)
    counts = _check_accounted(files, folder, first)
    # Reading again, from the cursors or from scratch, finds nothing new and doubles nothing.
    assert _check_accounted(files, folder, _sync(folder)) == counts
    assert _check_accounted(files, folder, _sync(folder, full=True)) == counts

    # A row appended later is read (a waiting last line is completed by the newline).
    for stream, export in files.items():
        if export.empty:
            continue
        _, rows = _extract(FILES[stream])
        new_id = f"NEW-{stream}"
        row = ",".join([new_id, *rows[0].split(",")[1:]])
        path = folder / "exports" / export.name
        text = _read(path)
        # The writer finishes the last line first: its LF (after a CR written alone), or
        # its whole line ending.
        if "\n" in text:
            ending = "" if text.endswith("\n") else "\n" if text.endswith("\r") else export.newline
        else:
            ending = "" if text.endswith("\r") else export.newline
        path.write_text(text + ending + row + export.newline, encoding="utf-8", newline="")
        files[stream] = attrs.evolve(
            export,
            lines=(
                *export.lines,
                Line(text=row, row_id=new_id, pristine=True, amount=rows[0].split(",")[1]),
            ),
            final_newline=True,
        )
    after = _sync(folder)
    _check_accounted(files, folder, after)
    with open_store(_store_of(folder)) as store:
        stored = _stored(store)
    for stream, export in files.items():
        if not export.empty:
            assert f"NEW-{stream}" in stored[stream], f"{export.name}: the appended row is lost"


def test_fuzz_helpers_number_lines_as_grep_does() -> None:
    assert _physical_lines('a,b\r\n1,2\n3,"x\r\ny"\r\n5,\r6') == [
        "a,b",
        "1,2",
        '3,"x',
        'y"',
        "5,\r6",
    ]
    assert _physical_lines("a,b\r1,2\r") == ["a,b", "1,2"]
    assert _physical_lines("a,b\n1,2") == ["a,b", "1,2"]
