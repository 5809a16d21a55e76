"""The ``csv`` connector's column path: blocks of lines as Arrow columns (private).

:meth:`CsvConnector.read_columns <slacore_connectors.csvfile.CsvConnector.read_columns>`
reads a file in blocks of up to ``column_batch_size`` complete lines and yields a
:class:`~slacore.connector.ColumnBatch` for each (a block of blank lines only yields none, as
the row path yields no batch for them). A block is *plain* when its lines end with LF or CR
LF, it is valid UTF-8, it holds no lone CR, no NUL, no byte-order mark and no line longer
than a CSV field may be, and every quote in it belongs to a field wholly quoted on its line
with its quotes doubled (``"a ""b"", c"``, as ``csv`` writes it): then every line is one row,
which pyarrow's CSV reader splits in C as ``csv`` would, and the rows' values are converted and
checked a column at a time (:func:`slacore.connector._column_mapping.map_columns`). A line
of another width, a blank line and a row those checks cannot decide go through the row
path's own code (:class:`~slacore_connectors._csv_rows._Rows`), one line each; a block that is
not plain is read by the row path whole. Either way a row gives what the row path gives: the
same record, the same rejected record in the same words, the same skipped line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from slacore.connector import (
    ColumnBatch,
    Cursor,
    Record,
    RejectedRecord,
    RowMapper,
    Stream,
    empty_table,
    records_table,
)
from slacore.connector._column_mapping import map_columns
from slacore.model import id_field, id_is_key
from slacore_connectors._csv_rows import _Header, _Lines, _Row, _Rows
from slacore_connectors.csvfile import CsvConnector, _no_rows

__all__ = ["ColumnReader"]

_BOM: Final = b"\xef\xbb\xbf"
_QUOTED: Final = r'"(?:[^"]|"")*"'
"""A wholly quoted field, its quotes doubled inside."""
_GUESS: Final = 160
"""Bytes a line is taken to hold before a file's first block says (a hand-off's is 120)."""


class _Part:
    """What one block gave: the rows decided on columns, the rows mapped one by one (with
    their values, for a duplicate's rejection), and the rejected rows."""

    def __init__(self) -> None:
        self.tables: list[Any] = []
        self.lines: list[Any] = []
        self.records: list[tuple[int, Record, list[str]]] = []
        self.rejected: list[RejectedRecord] = []
        self.values: Callable[[int], list[str]] | None = None

    def take(self, row: _Row) -> None:
        if row.rejected is not None:
            self.rejected.append(row.rejected)
        elif row.record is not None:
            self.records.append((row.line, row.record, row.values or []))


class ColumnReader:
    """Reads the data lines of one open file into column batches."""

    def __init__(
        self,
        connector: CsvConnector,
        stream: Stream,
        source: str,
        file: IO[bytes],
        header: _Header,
        mapper: RowMapper,
        cursor_at: Callable[[int, int], Cursor],
    ) -> None:
        self.connector = connector
        self.stream = stream
        self.source = source
        self.file = file
        self.header = header
        self.mapper = mapper
        self.cursor_at = cursor_at
        self.encoding: str = connector._encoding
        self.wait = bool(connector.settings["wait_for_newline"])
        self.size = connector.column_batch_size
        # The row path rejects an id repeated within one of its batches (``batch_size``
        # records and rejected rows, counted from where the read starts) and takes one
        # repeated across batches as an update: the column path keeps the same windows,
        # across its own blocks, so both answer the same.
        self.window: int = connector.settings["batch_size"]
        self.counted = 0
        self.seen: dict[str, int] = {}
        self.rows = _Rows(stream, source, self.encoding, mapper, None, header.delimiter)
        self.plain_ok = self.encoding == "utf-8" and header.newline == b"\n"
        self.used = sorted({index for _, index, *_ in mapper.slots})
        self.zone = connector.mapping(stream).timezone
        field = f'(?:{_QUOTED}|[^"{re.escape(header.delimiter)}\r\n]*)'
        self.well_quoted = f"^{field}(?:{re.escape(header.delimiter)}{field})*\r?$"

    def batches(
        self, offset: int, line: int, notices: list[str], from_start: bool
    ) -> Iterator[ColumnBatch]:
        """The batches from ``offset`` (after line ``line``) to the end of the file."""
        yielded = False
        per_line = _GUESS
        newline = self.header.newline
        while True:
            self.file.seek(offset)
            wanted = max(self.size * per_line, 1 << 16)
            data = self.file.read(wanted)
            if not data:
                break
            cut = _after_lines(data, newline, self.size)
            # The file's last line without its newline, to be read as it is: in this batch,
            # as the row path reads it in its batch.
            last = len(data) < wanted and data.find(newline, cut) < 0 < len(data) - cut
            last = last and not self.wait
            part: _Part | None = None
            if cut and self.plain_ok:
                part = self._plain(data[:cut], line)
            if part is not None:
                count = data.count(newline, 0, cut)
                end, end_line = offset + cut, line + count
                per_line = max(1, cut // max(count, 1)) + 1
                if last:
                    rest, end, end_line = self._rows(end, end_line, offset + len(data))
                    part.records += rest.records
                    part.rejected += rest.rejected
            else:
                stop = offset + (len(data) if last or not cut else cut)
                part, end, end_line = self._rows(offset, line, stop)
            table, lines, rejected = self._assemble(part)
            notices.extend(self.rows.notices)
            self.rows.notices = []
            if not (table.num_rows or rejected):
                # Blank lines only, or a last line waiting for its newline: no batch, as the
                # row path yields none for them (its last batch is its last cursor).
                if end == offset:
                    break
                offset, line = end, end_line
                continue
            yield ColumnBatch(
                stream=self.stream,
                table=table,
                cursor=self.cursor_at(end, end_line),
                lines=lines,
                rejected=rejected,
                notices=notices,
                from_start=from_start and not yielded,
            )
            notices = []
            yielded = True
            offset, line = end, end_line
        if notices or not yielded:
            yield _no_rows(
                self.stream,
                self.cursor_at(offset, line),
                notices,
                from_start=from_start and not yielded,
            )

    def _rows(self, offset: int, line: int, end: int) -> tuple[_Part, int, int]:
        """The rows from ``offset`` on, read by the row path, until one ends at ``end`` or
        after; the offset and line after them."""
        lines = _Lines(self.file, self.encoding, offset, line, self.wait, self.header.newline)
        rows = _Rows(
            self.stream, self.source, self.encoding, self.mapper, lines, self.header.delimiter
        )
        part = _Part()
        while lines.offset < end and (row := rows.step()) is not None:
            part.take(row)
        self.rows.notices.extend(rows.notices)
        return part, lines.offset, lines.line

    def _plain(self, block: bytes, line: int) -> _Part | None:
        """The rows of a block of whole lines (``line`` is the line before it), or ``None``
        when the block is not plain."""
        if b"\x00" in block or _BOM in block or block.count(b"\r") != block.count(b"\r\n"):
            return None
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            return None
        data = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(data == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        if len(ends) and int((ends - starts).max()) > csv.field_size_limit():
            return None
        if b'"' in block:
            fields = self._quoted_fields(block)
            if fields is None:
                return None
        else:
            delimiters = np.flatnonzero(data == ord(self.header.delimiter))
            fields = np.searchsorted(delimiters, ends) - np.searchsorted(delimiters, starts) + 1
        content = ends - starts - (data[np.maximum(ends - 1, 0)] == 13)
        width = self.mapper.width
        even = (fields == width) & (content > 0)
        numbers = np.arange(line + 1, line + 1 + len(ends), dtype=np.int64)
        part = _Part()

        def values(at: int) -> list[str]:
            index = at - line - 1
            text = block[starts[index] : ends[index] + 1].decode("utf-8")
            return next(csv.reader([text], delimiter=self.header.delimiter, strict=True), [])

        part.values = values
        for at in numbers[~even].tolist():
            row = values(at)
            if row and len(row) != width:
                reason = f"the row has {len(row)} fields, the header {width}"
                part.rejected.append(self.rows.refused(row, at, reason))
            elif row:
                part.take(self.rows.mapped(row, at))
        if not even.any():
            return part
        if even.all():
            kept = block
        else:
            kept = b"".join(
                block[s : e + 1]
                for s, e in zip(starts[even].tolist(), ends[even].tolist(), strict=True)
            )
        columns = self._parse(kept, width)
        if columns is None:
            return None
        good_lines = numbers[even]
        table, decided = map_columns(self.mapper, columns, len(good_lines), zone=self.zone)
        if decided.all():
            part.tables.append(table)
            part.lines.append(good_lines)
        else:
            part.tables.append(table.filter(pa.array(decided)))
            part.lines.append(good_lines[decided])
            for at in good_lines[~decided].tolist():
                part.take(self.rows.mapped(values(at), at))
        return part

    def _quoted_fields(self, block: bytes) -> Any:
        """How many fields each line of a block with quotes has, or ``None`` unless every
        line is well quoted: each field either unquoted without a quote, or wholly quoted
        with its quotes doubled (a quoted value running over lines, a stray quote, text
        after a closing quote: the row path reads the block)."""
        lines = pa.array(block.split(b"\n")[:-1], type=pa.binary()).cast(pa.string())
        if not pc.all(pc.match_substring_regex(lines, self.well_quoted)).as_py():
            return None
        bare = pc.replace_substring_regex(lines, _QUOTED, "")
        delimiter = self.header.delimiter
        return pc.count_substring(bare, delimiter).to_numpy(zero_copy_only=False) + 1

    def _parse(self, block: bytes, width: int) -> dict[int, Any] | None:
        """The used columns of a plain block's lines, as read (``None``: pyarrow refused)."""
        names = [f"c{i}" for i in range(width)]
        try:
            table = pacsv.read_csv(
                io.BytesIO(block),
                read_options=pacsv.ReadOptions(
                    column_names=names, block_size=max(len(block) + 1, 1 << 20)
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.header.delimiter,
                    # Every quote is a well-quoted field's (_quoted_fields), read as csv does.
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=False,
                    ignore_empty_lines=False,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in names},
                    include_columns=[names[i] for i in self.used],
                    null_values=[],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    check_utf8=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        return {i: table.column(names[i]).combine_chunks() for i in self.used}

    def _assemble(self, part: _Part) -> tuple[Any, Any, tuple[RejectedRecord, ...]]:
        """The block's rows in line order (a repeated id of leads, deals and reps rejected,
        as the row path rejects it in a batch), their lines, and the rejected rows."""
        tables = list(part.tables)
        lines = list(part.lines)
        if part.records:
            tables.append(records_table(self.stream, [r for _, r, _ in part.records]))
            lines.append(np.array([at for at, _, _ in part.records], dtype=np.int64))
        if not tables:
            table, numbers = empty_table(self.stream), np.zeros(0, dtype=np.int64)
        else:
            table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
            numbers = np.concatenate(lines) if len(lines) > 1 else lines[0]
            if len(tables) > 1:
                order = np.argsort(numbers, kind="stable")
                table, numbers = table.take(pa.array(order)), numbers[order]
        if id_is_key(self.stream.record_type):
            ids = table.column(id_field(self.stream.record_type)).to_pylist()
            table, numbers = self._duplicates(part, table, numbers, ids)
        rejected = sorted(part.rejected, key=lambda r: r.line or 0)
        return table, tuple(numbers.tolist()), tuple(rejected)

    def _duplicates(self, part: _Part, table: Any, numbers: Any, ids: list[str]) -> tuple[Any, Any]:
        """The rows without those whose id an earlier row of the same window has (the row
        path's batch: :attr:`window` records and rejected rows in line order, counted from
        where the read starts), each of those rejected."""
        mapped = {at: values for at, _, values in part.records}
        refused = sorted(r.line or 0 for r in part.rejected)
        keep = np.ones(len(ids), dtype=bool)
        window = self.window
        before = 0  # the refused rows counted so far

        def count(items: int) -> None:
            # Each record and rejected row is one item of the row path's batch, a
            # repeated id rejected included; a full batch starts the next window.
            self.counted += items
            if self.counted >= window:
                self.counted = 0
                self.seen = {}

        for index, (key, at) in enumerate(zip(ids, numbers.tolist(), strict=True)):
            while before < len(refused) and refused[before] < at:
                before += 1
                count(1)
            first = self.seen.setdefault(key, at)
            if first != at:
                keep[index] = False
                values = mapped.get(at)
                if values is None and part.values is not None:
                    values = part.values(at)
                row = _Row(at, values=values)
                part.rejected.append(self.rows.duplicate(key, first, row))
            count(1)
        for _ in range(before, len(refused)):
            count(1)
        if keep.all():
            return table, numbers
        return table.filter(pa.array(keep)), numbers[keep]


def _after_lines(data: bytes, newline: bytes, count: int) -> int:
    """The position after the ``count``-th newline of ``data``, or after its last one when
    it has fewer (0: none)."""
    if data.count(newline) <= count:
        return data.rfind(newline) + 1
    if newline == b"\n":
        return int(np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)[count - 1]) + 1
    position = 0
    for _ in range(count):
        found = data.find(newline, position)
        if found < 0:
            break
        position = found + 1
    return position
