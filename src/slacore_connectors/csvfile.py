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
from typing import IO, Any, ClassVar, Final

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
from slacore.model import id_field
from slacore_connectors._csv_rows import (
    _BOM,
    _CHUNK,
    _DELIMITERS,
    _Header,
    _line_ending,
    _Lines,
    _malformed,
    _Rows,
    _sniff,
)

__all__ = ["CsvConnector", "slacore_register_connectors"]

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


def _is_name(value: object) -> bool:
    return isinstance(value, str | os.PathLike) and bool(str(value).strip())


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
