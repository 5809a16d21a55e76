"""The CSV connector's row path: a file's lines decoded and counted, its header's delimiter
and line ending found, and each row read, mapped or rejected exactly as a read always did.

Private to :mod:`slacore_connectors.csvfile` (and its column path,
:mod:`slacore_connectors._csv_columns`, which sends every row it does not take to the same code).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from typing import IO, Final, NamedTuple

import attrs

from slacore.connector import Record, RejectedRecord, RowMapper, Stream
from slacore.errors import ValidationError
from slacore.model import id_field, id_is_key

_BOM: Final = codecs.BOM_UTF8
_NUL: Final = "holds a NUL byte (is it a text file?)"
_INNER_BOM: Final = "holds a byte-order mark (U+FEFF) past the file's start (files joined?)"
_DELIMITERS: Final = {"comma": ",", "semicolon": ";", "tab": "\t", "bar": "|"}
_CHUNK: Final = 1 << 20


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
