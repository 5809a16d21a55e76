"""The ``csv`` connector: CRM exports as CSV files, read incrementally in flat memory.

A folder holds one file per stream (``leads.csv``, ``stage_changes.csv``, ``handoffs.csv``,
``touches.csv``, ``deals.csv``, ``reps.csv``, ``owner_changes.csv``), or settings name the files.
Headers match the mapping ignoring case; files are UTF-8 with or without a byte-order mark (or
another ASCII-compatible encoding named in settings); the delimiter is a comma, a semicolon, a
tab or a bar, found from the header unless set; lines end with LF, CR LF or (old-Mac files)
a lone CR, found from the header.

Rows are streamed: a batch (10,000 rows by default) is mapped and yielded before the next is
read. The cursor after a batch is the file's identity (path, device and inode, the SHA-256 of
every byte before the offset) and the byte offset and line after the last complete row, so a
re-run after rows were appended reads only the new rows, and a file that was replaced or
rewritten, even at the same size, is read again from the start. The hash is checked only
when the file may have been written since the cursor was made: on POSIX systems a file whose
size, modification time and change time are those the cursor holds (taken when it had not
been written for two seconds) is not read again to hash it. A last line without a
newline is taken for a row still being written and left for the next run (setting
``wait_for_newline``); nothing else is: a malformed row (a quote that never closes) has its
first line rejected, and reading goes on at the next line.

It never reports a deletion (:attr:`~slacore.connector.Batch.deleted`): an export holds what
its query selected, so a row missing from it is not a record deleted in the CRM.

Registered as a plugin through the ``slacore`` entry-point group, like a third-party connector.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import importlib.util
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar, Final, NamedTuple

import attrs

from slacore import hookimpl
from slacore.connector import (
    MAPPING_SETTINGS,
    Batch,
    ColumnBatch,
    Connector,
    Cursor,
    Record,
    RejectedRecord,
    RowMapper,
    Setting,
    SettingKind,
    Stream,
)
from slacore.errors import ValidationError
from slacore.model import id_field, id_is_key

__all__ = ["CsvConnector", "slacore_register_connectors"]

_BOM: Final = codecs.BOM_UTF8
_NUL: Final = "holds a NUL byte (is it a text file?)"
_INNER_BOM: Final = "holds a byte-order mark (U+FEFF) past the file's start (files joined?)"
_DELIMITERS: Final = {"comma": ",", "semicolon": ";", "tab": "\t", "bar": "|"}
_CHUNK: Final = 1 << 20
_HEAD_BYTES: Final = 1 << 16
_COLUMN_BATCH: Final = 100_000
"""Lines per column batch unless the settings say otherwise: what the column path's fixed
costs per batch (a pyarrow read, the store's statements) need to fade."""
_SETTLED_NS: Final = 2_000_000_000
"""How long before a read a file must have been last written for its status (size, and
modification and change times) to vouch for its content at the next read."""


@hookimpl
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the ``csv`` connector."""
    register(CsvConnector)


class _Lines:
    """The complete lines of a binary file, decoded, counting bytes and lines consumed.

    ``csv.reader`` pulls exactly the lines a record needs, so after each row ``offset`` is the
    byte position just after it. A line ends with ``newline``: ``b"\\n"`` (also ending
    ``b"\\r\\n"``), or ``b"\\r"`` in old-Mac files. A last line without one is held back when
    ``wait`` (``cut`` then holds its bytes, ``offset`` stays before it); otherwise it is given
    as is.
    """

    __slots__ = (
        "buffer",
        "cut",
        "encoding",
        "file",
        "line",
        "newline",
        "odd",
        "offset",
        "position",
        "read",
        "undecodable",
        "wait",
    )

    def __init__(
        self,
        file: IO[bytes],
        encoding: str,
        offset: int,
        line: int,
        wait: bool,
        newline: bytes = b"\n",
    ) -> None:
        self.file = file
        self.encoding = encoding
        self.offset = offset
        self.line = line
        self.wait = wait
        self.newline = newline
        self.cut = b""
        self.undecodable = False
        self.odd = ""
        self.buffer = b""
        self.position = 0
        self.read: Callable[[], bytes] = file.readline if newline == b"\n" else self._read_until
        file.seek(offset)

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.read()
        if not raw.endswith(self.newline) and (self.wait or not raw):
            self.cut = raw
            if raw:  # held back: asked again, give the same answer
                self.file.seek(self.offset)
                self.buffer, self.position = b"", 0
            raise StopIteration
        start = self.offset
        self.offset += len(raw)
        self.line += 1
        if start == 0 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            self.undecodable = True
            return raw.decode(self.encoding, "replace")
        if "\x00" in text or "\ufeff" in text:
            self.odd = _NUL if "\x00" in text else _INNER_BOM
        return text

    def _read_until(self) -> bytes:
        # readline() for another line ending than b"\n": from a buffer filled in chunks.
        while True:
            end = self.buffer.find(self.newline, self.position)
            if end >= 0:
                raw = self.buffer[self.position : end + 1]
                self.position = end + 1
                return raw
            chunk = self.file.read(_CHUNK)
            rest = self.buffer[self.position :]
            self.buffer, self.position = rest + chunk, 0
            if not chunk:
                self.buffer = b""
                return rest

    def restart(self, offset: int, line: int) -> None:
        """Go on at the line after the one that starts at ``offset`` (line ``line + 1``)."""
        self.file.seek(offset)
        self.buffer, self.position = b"", 0
        self.offset = offset + len(self.read())
        self.line = line + 1
        self.cut = b""
        self.undecodable = False
        self.odd = ""


@attrs.frozen
class _Header:
    names: tuple[str, ...]
    delimiter: str
    offset: int
    line: int
    newline: bytes


def _is_name(value: object) -> bool:
    return isinstance(value, str | os.PathLike) and bool(str(value).strip())


def _sniff(text: str) -> str:
    # The delimiter is the candidate the header uses most; a one-column file is comma-separated.
    counts = {delimiter: text.count(delimiter) for delimiter in _DELIMITERS.values()}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _line_ending(head: bytes) -> bytes:
    """``b"\\r"`` for old-Mac files (Excel's "CSV (Macintosh)"), else ``b"\\n"``.

    A file is one when its header row ends with a lone CR and its start holds more lone CRs
    than LFs (an LF may break a line inside a quoted value). In other files a lone CR is a
    malformed row.
    """
    cr, lf = head.find(b"\r"), head.find(b"\n")
    lone = head.count(b"\r") - head.count(b"\r\n")
    if cr >= 0 and (lf < 0 or cr + 1 < lf) and lone > head.count(b"\n"):
        return b"\r"
    return b"\n"


def _malformed(error: csv.Error) -> str:
    """What a ``csv`` parsing error means, in words a user can act on."""
    text = str(error).split(" - ")[0]
    hints = {
        "unexpected end of data": "a quote opened on this line is never closed",
        "expected after": "a closing quote is followed by more text (a stray quote?)",
        "new-line character": "a carriage return (CR) inside the line",
        "field larger than field limit": "a field is too long for a CSV value",
    }
    for start, hint in hints.items():
        if start in text:
            return f"{text} ({hint})"
    return text


class _Prefix:
    """The SHA-256 of a file's bytes before an offset, extended as the offset grows.

    Reading from ``file`` (a handle of its own) in large chunks costs far less than the
    parsing; going back to an earlier offset starts again from the first byte.
    """

    __slots__ = ("digest", "end", "file", "known")

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.end = 0
        self.known: tuple[int, str] | None = None

    def at(self, offset: int) -> str:
        """The hex digest of the bytes before ``offset``."""
        if self.known is not None and offset == self.known[0]:
            return self.known[1]
        if offset < self.end:
            self.digest, self.end = hashlib.sha256(), 0
        self.file.seek(self.end)
        while self.end < offset:
            chunk = self.file.read(min(offset - self.end, _CHUNK))
            if not chunk:  # cut shorter while read: the digest cannot match it again
                self.digest.update(b"\0")
                break
            self.digest.update(chunk)
            self.end += len(chunk)
        self.end = offset
        return self.digest.hexdigest()


class _Row(NamedTuple):
    """One CSV row read: mapped (``record``), rejected, or neither (a blank line)."""

    line: int
    record: Record | None = None
    rejected: RejectedRecord | None = None
    values: list[str] | None = None


class _Rows:
    """The row path: the CSV rows of a file from a position, each mapped or rejected.

    :meth:`step` reads one row, exactly as a read always did: a malformed row has its first
    line rejected and reading goes on at the next line; a row of the wrong width, or not
    of the file's encoding, or holding a NUL or a byte-order mark, is rejected; a blank
    line is skipped; any other row is mapped, or rejected with the mapper's error (a row of
    blank values only is skipped). A repeated id is the caller's to judge (per batch).
    """

    __slots__ = ("encoding", "lines", "mapper", "notices", "reader", "source", "stream", "unique")

    def __init__(
        self,
        stream: Stream,
        source: str,
        encoding: str,
        mapper: RowMapper,
        lines: _Lines | None,
        delimiter: str,
    ) -> None:
        self.stream = stream
        self.source = source
        self.encoding = encoding
        self.mapper = mapper
        self.lines = lines
        # Without lines, only rows read elsewhere are mapped (mapped(), refused()).
        self.reader = csv.reader(lines or (), delimiter=delimiter, strict=True)
        self.unique = id_is_key(stream.record_type)
        self.notices: list[str] = []

    def step(self) -> _Row | None:
        """The next row, or ``None`` at the end (a last line waiting for its newline is
        then in :attr:`notices`)."""
        lines, stream, source, mapper = self.lines, self.stream, self.source, self.mapper
        if lines is None:
            return None
        before_offset, before_line = lines.offset, lines.line
        first_line = before_line + 1
        try:
            row = next(self.reader)
        except StopIteration:
            if lines.cut.strip():
                self.notices.append(
                    f"{source}:{lines.line + 1}: the last line has no newline yet; it "
                    "waits for the next run (wait_for_newline = false reads it as it is)"
                )
            return None
        except csv.Error as error:
            if lines.line > before_line + 1:
                # Only the first line is rejected: a stray quote must not swallow
                # the lines after it, which are read as rows of their own.
                lines.restart(before_offset, before_line)
            lines.undecodable, lines.odd = False, ""
            return _Row(
                first_line,
                rejected=RejectedRecord(
                    stream=stream,
                    reason=f"malformed CSV: {_malformed(error)}",
                    source=source,
                    line=first_line,
                ),
            )
        if lines.undecodable or lines.odd or (row and len(row) != mapper.width):
            if lines.undecodable:
                reason = f"the row is not valid {self.encoding}"
            elif lines.odd:
                reason = f"the row {lines.odd}"
            else:
                reason = f"the row has {len(row)} fields, the header {mapper.width}"
            lines.undecodable, lines.odd = False, ""
            if lines.line > first_line:
                reason += (
                    f" (a quoted value runs from this line over {lines.line - before_line}"
                    " lines; a stray quote?)"
                )
                lines.restart(before_offset, before_line)  # as for malformed CSV
            return _Row(first_line, rejected=self.refused(row, first_line, reason))
        if not row:
            return _Row(first_line)  # a blank line
        return self.mapped(row, first_line)

    def mapped(self, row: list[str], line: int) -> _Row:
        """A row of the header's width mapped, or rejected with the mapper's error; a row
        of blank values only is neither."""
        try:
            record = self.mapper.map(row)
        except ValidationError as error:
            if not any(value.strip() for value in row):
                return _Row(line)
            return _Row(
                line,
                rejected=RejectedRecord.from_error(
                    error,
                    stream=self.stream,
                    raw=self.mapper.raw(row),
                    source=self.source,
                    line=line,
                    record_id=self.mapper.record_id(row),
                ),
            )
        return _Row(line, record=record, values=row)

    def refused(self, row: list[str], line: int, reason: str) -> RejectedRecord:
        """The rejected record of a row refused for ``reason``."""
        return RejectedRecord(
            stream=self.stream,
            reason=reason,
            source=self.source,
            line=line,
            record_id=self.mapper.record_id(row),
            raw=self.mapper.raw(row),
        )

    def duplicate(self, key: str | None, first: int, row: _Row) -> RejectedRecord:
        """The rejected record of a row whose id an earlier row of the batch has."""
        return RejectedRecord(
            stream=self.stream,
            reason=f"duplicate id {key!r}: line {first} has it too",
            source=self.source,
            line=row.line,
            record_id=key,
            field=self.mapper.column(id_field(self.stream.record_type)),
            raw=self.mapper.raw(row.values or []),
        )


class CsvConnector(Connector):
    """Read leads, stage changes, hand-offs, touches, deals, reps and owner changes from CSV.

    Settings (see ``docs/guide/csv.md``): ``path`` (a folder) and/or ``files`` (stream ->
    file), ``delimiter``, ``encoding``, ``batch_size``, ``wait_for_newline``, ``decimal_mark``
    and the mapping settings ``fields``, ``stage_values``, ``channel_values``, ``stages``,
    ``timezone``, ``time_formats``.

    Raises:
        ValidationError: The settings are invalid.

    """

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "CSV files: one per stream (leads.csv, touches.csv, ...)"
    streams: ClassVar[tuple[Stream, ...]] = tuple(Stream)
    settings_schema: ClassVar[tuple[Setting, ...]] = (
        Setting(
            name="path",
            kind=SettingKind.PATH,
            help="a folder holding leads.csv, stage_changes.csv, touches.csv, ...",
        ),
        Setting(
            name="files",
            kind=SettingKind.TABLE,
            help='stream -> file, relative to path: {leads = "Leads export.csv"}',
        ),
        Setting(
            name="delimiter",
            kind=SettingKind.TEXT,
            default="auto",
            choices=("auto", ",", ";", "\t", "|", *_DELIMITERS),
            help="the field separator, or auto to find it from the header",
        ),
        Setting(
            name="encoding",
            kind=SettingKind.TEXT,
            default="utf-8",
            help="an ASCII-compatible encoding; a UTF-8 byte-order mark is always skipped",
        ),
        Setting(
            name="batch_size",
            kind=SettingKind.INTEGER,
            default=10_000,
            minimum=1,
            help="rows per batch",
        ),
        Setting(
            name="column_batch_size",
            kind=SettingKind.INTEGER,
            minimum=1,
            help="lines per batch on the column path (read_columns); default batch_size "
            f"when that is set, else {_COLUMN_BATCH:,}",
        ),
        Setting(
            name="wait_for_newline",
            kind=SettingKind.BOOLEAN,
            default=True,
            help="leave a last line without a newline for the next run (false: read it)",
        ),
        Setting(
            name="decimal_mark",
            kind=SettingKind.TEXT,
            default=".",
            choices=(".", ","),
            help='the decimal mark of amounts: "." (1,234.56) or "," (1.234,56)',
        ),
        *MAPPING_SETTINGS,
    )

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        base: Path | None = self.settings["path"]
        named = self.settings["files"] or {}
        if base is None and not named:
            raise ValidationError(
                message="connector csv needs path (a folder) or files (stream -> file)",
                field="path",
            )
        self._files: dict[Stream, Path] = {}
        for stream, value in self.stream_table("files", expected="a file name", accepts=_is_name):
            path = Path(value).expanduser()
            self._files[stream] = path if path.is_absolute() or base is None else base / path
        self._base = base
        encoding = self.settings["encoding"]
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ValidationError(
                message=f"unknown encoding {encoding!r}", field="encoding", value=encoding
            ) from None
        if '\n,;\t|"'.encode(codec.name, errors="replace") != b'\n,;\t|"':
            raise ValidationError(
                message=f"encoding {encoding!r} is not ASCII-compatible (UTF-16 and the like "
                "are not supported; convert the file to UTF-8)",
                field="encoding",
                value=encoding,
            )
        self._encoding = "utf-8" if codec.name == "utf-8-sig" else codec.name
        given = settings or {}
        # A batch size the user chose bounds the column batches too, unless they choose theirs.
        self.column_batch_size: int = self.settings["column_batch_size"] or (
            self.settings["batch_size"] if given.get("batch_size") is not None else _COLUMN_BATCH
        )
        delimiter = self.settings["delimiter"]
        self._delimiter: str | None = (
            None if delimiter == "auto" else _DELIMITERS.get(delimiter, delimiter)
        )

    def file(self, stream: Stream | str) -> Path | None:
        """The file ``stream`` is read from, or ``None`` when the settings give none."""
        stream = Stream.parse(stream)
        if stream in self._files:
            return self._files[stream]
        if self._base is not None:
            return self._base / f"{stream.value}.csv"
        return None

    def available_streams(self) -> tuple[Stream, ...]:
        """The streams named in ``files``, and those whose file is in the ``path`` folder.

        Raises:
            ValidationError: The ``path`` folder does not exist, or holds no file of any
                stream while ``files`` names none: a sync would otherwise read nothing and
                report success.

        """
        folder = self.settings.get("path")
        if folder is not None and not Path(folder).is_dir():
            raise ValidationError(message=f"no such folder: {folder}", field="path")
        found: list[Stream] = []
        for stream in self.streams:
            path = self.file(stream)
            if stream in self._files or (path is not None and path.is_file()):
                found.append(stream)
        if not found:
            expected = ", ".join(f"{s.value}.csv" for s in self.streams)
            raise ValidationError(
                message=f"no file of any stream in {folder} (expected some of {expected})",
                field="path",
            )
        return tuple(found)

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Check the file and its header now, then stream its rows in batches.

        Raises:
            ValidationError: The file is missing or empty (no header row).
            MissingColumnsError: The header lacks a required column; the message lists the
                columns the file has.

        """
        path, has_header = self._checked(stream)
        return self._batches(stream, path, has_header, cursor)

    @classmethod
    def offers_columns(cls) -> bool:
        """Whether the column path can run here: pyarrow is installed (``slacore[arrow]``)."""
        return importlib.util.find_spec("pyarrow") is not None

    def read_columns(self, stream: Stream, cursor: Cursor | None) -> Iterator[ColumnBatch]:
        """:meth:`read_stream` on the column path: the same rows, rejected rows, notices and
        cursors, in :class:`~slacore.connector.ColumnBatch` es of up to
        ``column_batch_size`` lines (setting), each a pyarrow table.

        A block of lines in UTF-8 with no lone carriage return, no NUL and no byte-order
        mark, whose quoted fields are each wholly quoted on their line, is parsed by
        pyarrow's CSV reader and its values converted and
        checked a column at a time; a row those checks cannot decide is mapped by the row
        path's mapper (so it is refused in the same words), and any other block is read by
        the row path itself. Needs pyarrow and numpy.

        Raises:
            ValidationError: The file is missing or empty (no header row).
            MissingColumnsError: The header lacks a required column.

        """
        path, has_header = self._checked(stream)
        return self._batches(stream, path, has_header, cursor, columns=True)

    def _checked(self, stream: Stream) -> tuple[Path, bool]:
        """The stream's file, checked now, and whether it has a header row yet."""
        path = self.file(stream)
        if path is None or not path.is_file():
            raise ValidationError(
                message=f"no such file: {path} (the {stream} stream is read from it)",
                file=str(path),
                field=f"files.{stream}",
            )
        return path, self._check_header(stream, path) is not None

    def _check_header(self, stream: Stream, path: Path) -> RowMapper | None:
        with path.open("rb") as file:
            header = self._header(file, path)
        if header is None:
            return None
        return self.mapping(stream).for_columns(header.names, source=path.name)

    def _header(self, file: IO[bytes], path: Path) -> _Header | None:
        file.seek(0)
        head = file.read(_HEAD_BYTES)
        newline = _line_ending(head)
        first = head.split(newline, 1)[0]
        if not first.removeprefix(_BOM).strip():
            raise ValidationError(
                message="the file is empty: expected a header row naming the columns",
                file=path.name,
                line=1,
            )
        wait = bool(self.settings["wait_for_newline"])
        delimiter = self._delimiter or _sniff(
            first.removeprefix(_BOM).decode(self._encoding, "replace")
        )
        lines = _Lines(file, self._encoding, 0, 0, wait, newline)
        try:
            row = next(csv.reader(lines, delimiter=delimiter, strict=True), None)
        except csv.Error as error:
            raise ValidationError(
                message=f"the header row is not valid CSV: {_malformed(error)}",
                file=path.name,
                line=1,
            ) from None
        if row is None:
            return None
        if lines.odd:
            raise ValidationError(message=f"the header row {lines.odd}", file=path.name, line=1)
        names = tuple(name.strip() for name in row)
        return _Header(
            names=names,
            delimiter=delimiter,
            offset=lines.offset,
            line=lines.line,
            newline=newline,
        )

    def _batches(
        self,
        stream: Stream,
        path: Path,
        has_header: bool,
        cursor: Cursor | None,
        *,
        columns: bool = False,
    ) -> Iterator[Any]:
        batch_size: int = self.settings["batch_size"]
        wait = bool(self.settings["wait_for_newline"])
        source = path.name
        with path.open("rb") as file, path.open("rb") as probe:
            status = os.fstat(file.fileno())
            settled = time.time_ns() - status.st_ctime_ns > _SETTLED_NS
            prefix = _Prefix(probe)
            identity: dict[str, str | int] = {
                "path": str(path.resolve()),
                "device": status.st_dev,
                "inode": status.st_ino,
            }

            def cursor_at(offset: int, line: int) -> Cursor:
                state: dict[str, str | int] = {
                    **identity,
                    "offset": offset,
                    "line": line,
                    "sha256": prefix.at(offset),
                }
                if settled and _VOUCHES:
                    state["written"] = _written(status)
                return Cursor(stream=stream, state=state)

            header = self._header(file, path) if has_header else None
            if header is None:
                waiting = (
                    f"{source}:1: the header row has no newline yet; nothing is read until it "
                    "has one"
                )
                if columns:
                    yield _no_rows(stream, cursor_at(0, 0), [waiting], from_start=True)
                    return
                yield Batch(
                    stream=stream,
                    records=(),
                    cursor=cursor_at(0, 0),
                    notices=[waiting],
                    from_start=True,
                )
                return
            mapper = self.mapping(stream).for_columns(header.names, source=source)
            offset, line = header.offset, header.line
            notices: list[str] = []
            if cursor is not None:
                resumed = self._resume(cursor, identity, status, prefix)
                if isinstance(resumed, str):
                    notices.append(f"{source}: {resumed}; it is read again from the start")
                elif resumed[0] >= offset:
                    offset, line = resumed
            from_start = offset == header.offset  # the first batch says so
            if columns and offset >= status.st_size:
                # Nothing after the cursor (a re-sync with nothing new): no parser to load.
                yield _no_rows(stream, cursor_at(offset, line), notices, from_start=from_start)
                return
            if columns:
                from slacore_connectors._csv_columns import ColumnReader

                reader = ColumnReader(self, stream, source, file, header, mapper, cursor_at)
                yield from reader.batches(offset, line, notices, from_start)
                return
            lines = _Lines(file, self._encoding, offset, line, wait, header.newline)
            rows = _Rows(stream, source, self._encoding, mapper, lines, header.delimiter)
            id_name = id_field(stream.record_type)
            records: list[Record] = []
            rejected: list[RejectedRecord] = []
            seen: dict[str, int] = {}
            yielded = False
            while (row := rows.step()) is not None:
                if row.rejected is not None:
                    rejected.append(row.rejected)
                elif row.record is not None:
                    # Within a batch a repeated id is an error; across batches it is an
                    # update (the store upserts by id). Remembering every id ever read
                    # would make memory grow with the file.
                    key: str | None = getattr(row.record, id_name) if rows.unique else None
                    first = row.line if key is None else seen.setdefault(key, row.line)
                    if first == row.line:
                        records.append(row.record)
                    else:
                        rejected.append(rows.duplicate(key, first, row))
                if len(records) + len(rejected) >= batch_size:
                    yield Batch(
                        stream=stream,
                        records=records,
                        rejected=rejected,
                        cursor=cursor_at(lines.offset, lines.line),
                        notices=notices,
                        from_start=from_start and not yielded,
                    )
                    records, rejected, seen, notices = [], [], {}, []
                    yielded = True
            notices.extend(rows.notices)
            if records or rejected or notices or not yielded:
                yield Batch(
                    stream=stream,
                    records=records,
                    rejected=rejected,
                    cursor=cursor_at(lines.offset, lines.line),
                    notices=notices,
                    from_start=from_start and not yielded,
                )

    def _resume(
        self,
        cursor: Cursor,
        identity: Mapping[str, str | int],
        status: os.stat_result,
        prefix: _Prefix,
    ) -> tuple[int, int] | str:
        """Where to go on from ``cursor``, or why the file is read again from the start.

        The cursor holds the SHA-256 of every byte before its offset: any change to the part
        already read (a same-size export written over the file, one value edited) is seen.
        Reading that part again to hash it costs what the file holds, so it is skipped when
        the file was not written since the cursor was made: its size, modification time and
        change time (which no tool sets back) are still those the cursor holds, taken when
        the file had not been written for :data:`_SETTLED_NS` (a write in the same tick of
        the clock as the one before would leave the times as they were).
        """
        size = status.st_size
        state = cursor.state
        offset, line = state.get("offset"), state.get("line")
        changed = [key for key, value in identity.items() if state.get(key) != value]
        if not isinstance(offset, int) or not isinstance(line, int) or offset < 0:
            return "the cursor holds no offset"
        if changed:
            return f"its {' and '.join(changed)} changed since the last run"
        if size < offset:
            return "it is shorter than at the last run"
        hashed = state.get("sha256")
        if not isinstance(hashed, str):
            return "the cursor is from an older slacore, without the hash of the part read"
        if _VOUCHES and state.get("written") == _written(status):
            prefix.known = (offset, hashed)
            return offset, line
        if prefix.at(offset) != hashed:
            return "the part read at the last run changed since"
        return offset, line


def _no_rows(
    stream: Stream, cursor: Cursor, notices: list[str], *, from_start: bool
) -> ColumnBatch:
    """A column batch of no rows (made without pyarrow)."""
    return ColumnBatch(
        stream=stream,
        cursor=cursor,
        lines=(),
        notices=notices,
        from_start=from_start,
    )


_VOUCHES: Final = os.name == "posix"
"""Whether a file's status can vouch that it was not written: on POSIX systems its change
time (``st_ctime``) moves with every write and cannot be set back; on Windows it is the
creation time."""


def _written(status: os.stat_result) -> str:
    """What changes when a file is written: its size, modification and change times."""
    return f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"
