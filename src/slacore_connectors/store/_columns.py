"""A stream's rows as Arrow columns: what :meth:`SQLiteStore.columns` and
:meth:`DuckDBStore.columns` read (private).

Reading millions of rows into record objects was most of a report's cost. Here the rows come
into Arrow arrays, one per column, either straight from SQLite by ADBC's driver
(:func:`read_arrow`, when ``adbc-driver-sqlite`` is installed) or fetched by ``sqlite3`` in
chunks of plain tuples, and are checked a column at a time: a row whose values pass the
record class's checks for certain (the tests of :mod:`slacore._trusted`, done by Arrow's
compute functions) is kept as it is; any other row (a placeholder date an older slacore
stored, a channel in capitals) is read again by
:meth:`_Table.reader`, exactly as :meth:`SQLiteStore.records` reads it, so the class converts
it or refuses it with the model's own error. The main time is read from the integer
``time_us`` column (the instant, in epoch microseconds), never parsed from its text.

A DuckDB store gives its rows as Arrow record batches the same checks go through
(:meth:`ChunkReader.checked`), so a row an older slacore wrote to SQLite and ``slacore store
migrate`` copied reads the same from either store.

Streams whose records have no trusted maker (deals: their amounts are parsed by the class)
or no main time (reps, a few rows) are read as records and converted: they are few.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slacore import _arrow
from slacore._column_values import visible_starts
from slacore._trusted import trusted_maker
from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.connector import Stream, core_fields
from slacore.model import Channel, Team
from slacore_connectors.store._tables import _Table, _us

CHUNK = 16_384
"""Rows fetched at a time: large enough that each fetch and each Arrow conversion is one C
loop over many rows, small enough that a chunk's Python tuples stay a few MiB (reading
100,000 hand-offs, 300,000 touches and 200,000 stage changes peaked at 173 MiB with chunks of
8,192 rows, 221 MiB with 65,536, in the same time: this is between them)."""

_SAFE_FIRST = _us(datetime(FIRST_YEAR + 1, 1, 2, tzinfo=UTC))
_SAFE_END = _us(datetime(LAST_YEAR - 1, 12, 30, tzinfo=UTC))
"""Main times in ``[_SAFE_FIRST, _SAFE_END)`` (UTC) have a local year strictly inside the
years covered in any zone, which the trusted makers ask; others go to the record class."""


SPACE_END = 0x3001
"""No character from here on is white space to ``str.isspace``."""


@functools.cache
def _not_all_space() -> str:
    """An RE2 class of the characters Python's ``str.isspace`` does not count as white
    space: a text holding one is an id for :func:`slacore._values.identifier` (not empty,
    not all space). The last such character is U+3000 (a test pins it)."""
    space = (code for code in range(SPACE_END) if chr(code).isspace())
    return "[^" + "".join(f"\\x{{{code:x}}}" for code in space) + "]"


def _not_blank(column: Any) -> Any:
    """Whether each value of a text column holds a character that is not white space
    (null for null): proven for every value at once when each begins with a visible ASCII
    character (:func:`slacore._column_values.visible_starts`), else by a regular
    expression per value."""
    pc = _arrow.compute()
    if visible_starts(column):
        return pc.is_valid(column)  # false, not null, for null: the checks fill null as false
    return pc.match_substring_regex(column, _not_all_space())


_ENUMS: dict[str, tuple[str, ...]] = {
    "channel": tuple(member.value for member in Channel),
    "from_team": tuple(member.value for member in Team),
    "to_team": tuple(member.value for member in Team),
}
"""Fields whose stored text must be one of these exact values (a member's value)."""

_IDS: dict[Stream, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Stream.HANDOFFS: (("lead_id", "stage"), ("owner_id",)),
    Stream.TOUCHES: (("lead_id", "rep_id"), ()),
    Stream.STAGE_CHANGES: (("lead_id", "to_stage"), ("owner_id",)),
    Stream.OWNER_CHANGES: (("lead_id", "owner_id"), ()),
    Stream.LEADS: (("id",), ("owner_id",)),
}
"""Per stream the fields the trusted maker checks as ids: required, and optional (null is
fine). ``tests/slacore_connectors/test_store_columns.py`` holds ``columns()`` to ``records()``
on generated rows of every odd kind: a row passing these checks must be one the trusted
maker makes, with the same values."""

_TEAMS_DIFFER = {Stream.HANDOFFS}
"""Streams whose ``from_team`` and ``to_team`` must differ."""


def arrow_type(kind: str) -> Any:
    """The Arrow type of a core field's kind in :meth:`SQLiteStore.columns`'s tables."""
    pa = _arrow.pyarrow()
    if kind == "time":
        return pa.timestamp("us", tz="UTC")
    if kind == "boolean":
        return pa.bool_()
    return pa.string()


WHOLE_SLICE = 1 << 18
"""Rows checked at a time in a table read whole (:meth:`ChunkReader.whole`)."""


def read_arrow(path: str, query: str, args: Sequence[Any]) -> Any | None:
    """The rows of ``query`` (``?`` parameters ``args``: integers and text) read from the
    SQLite file ``path`` straight into one Arrow table by ADBC's SQLite driver
    (``adbc-driver-sqlite``), with no Python object per cell; ``None`` when the driver is
    not installed or could not read it (then read the rows with ``sqlite3``).

    The driver types each column by its cells; the whole result is one batch, so a column
    is typed by all its cells, not the first thousand.
    """
    try:
        import adbc_driver_manager
        import adbc_driver_sqlite
    except ModuleNotFoundError:
        return None
    pa = _arrow.pyarrow()
    uri = Path(path).absolute().as_uri() + "?mode=ro"  # as the store opens it to read
    try:
        with contextlib.ExitStack() as opened:
            database = adbc_driver_sqlite.connect(uri)
            opened.callback(database.close)
            connection = adbc_driver_manager.AdbcConnection(database)
            opened.callback(connection.close)
            statement = adbc_driver_manager.AdbcStatement(connection)
            opened.callback(statement.close)
            statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
            statement.set_sql_query(query)
            if args:
                kinds = [pa.int64() if isinstance(a, int) else pa.string() for a in args]
                values = [pa.array([a], type=k) for a, k in zip(args, kinds, strict=True)]
                statement.bind(pa.record_batch(values, names=[str(n) for n in range(len(args))]))
            stream, _ = statement.execute_query()
            return pa.RecordBatchReader.from_stream(stream).read_all()
    except (adbc_driver_manager.Error, OSError):
        return None


def fast(table: _Table) -> bool:
    """Whether ``table`` is read a chunk at a time (else as records, converted)."""
    record_type = table.stream.record_type
    return bool(table.time_column) and trusted_maker(record_type) is not None


def select_list(table: _Table, held: set[str], *, typed: bool = False) -> str:
    """The SELECT list of a chunked read: ``row_id``, then the record's columns with the main
    time as ``time_us`` (a column an older store lacks reads as NULL); with ``typed``, last
    a column ``typed``: 1 when every text cell of the row is text or missing.

    ``typed`` is for :func:`read_arrow`, which types a column by its cells and would turn a
    number in a text column into text without a word (a number is less than any text in
    SQLite's order, so ``x >= ''`` holds for text only, and blobs, which make the column
    binary). A number where one is due needs no check: a cell of another type there makes
    the whole column another type, which :meth:`ChunkReader.whole` refuses.
    """
    names = ["row_id"]
    texts = []
    for field in core_fields(table.stream):
        name = "time_us" if field.name == table.time_column else field.name
        if name != "time_us" and name not in held:
            names.append(f"NULL AS {name}")
            continue
        names.append(name)
        if field.kind not in ("time", "boolean"):
            texts.append(f"coalesce({name} >= '', 1)")
    if typed:
        names.append(f"({' AND '.join(texts)}) AS typed")
    return ", ".join(names)


def _cells(record: Any, table: _Table) -> tuple[Any, ...]:
    """A record's values as a chunk row holds them (``row_id`` left out): times as epoch
    microseconds, enums as their values, the rest as they are."""
    cells: list[Any] = []
    for field in core_fields(table.stream):
        value = getattr(record, field.name)
        if isinstance(value, datetime):
            value = _us(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, bool):
            value = int(value)
        cells.append(value)
    return tuple(cells)


class ChunkReader:
    """Turns chunks of rows (``row_id`` first, as :func:`select_list` selects them) into
    Arrow record batches, sending each row the checks do not pass through ``again``.

    Args:
        table: The table read.
        again: Reads a row again as the store's ``records()`` does, given the row as read
            (``row_id``, the fields as :func:`select_list` selects them, then any further
            columns of a table given to :meth:`whole`): the record, or ``None`` when the
            model refused it (and the refusal was reported).

    """

    def __init__(self, table: _Table, again: Callable[[tuple[Any, ...]], Any | None]) -> None:
        self.table = table
        self.again = again
        self.fields = core_fields(table.stream)
        pa = _arrow.pyarrow()
        self.schema = pa.schema([(f.name, arrow_type(f.kind)) for f in self.fields])
        self.required, self.optional = _IDS[table.stream]

    def batch(self, rows: Sequence[tuple[Any, ...]]) -> Any:
        """The rows as one ``pyarrow.RecordBatch`` of the stream's schema."""
        pa = _arrow.pyarrow()
        columns = list(zip(*rows, strict=True))
        try:
            arrays = self._arrays(columns[1 : 1 + len(self.fields)])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
            arrays = None  # a cell of another type than this slacore stores: row by row
        if arrays is not None:
            ok = self._passes(arrays)
            if ok is None:
                return self._finish(arrays)
        else:
            ok = [False] * len(rows)
        return self._slow(rows, ok)[0]

    def whole(self, found: Any, *, typed: bool = True) -> list[Any] | None:
        """A table read whole as record batches of the stream's schema, or ``None`` when a
        cell is not of the storage type this slacore writes (``typed`` says so) or a column
        came in another type: read it the other way then.

        ``found`` holds ``row_id``, the fields as :func:`select_list` selects them, then
        ``typed`` (as :func:`read_arrow` reads it; left out with ``typed=False``, for a
        store whose every column has one type), then any further columns, which only
        ``again`` is given (with the row)."""
        pa, pc = _arrow.pyarrow(), _arrow.compute()
        if typed:
            at = found.schema.get_field_index("typed")
            if found.num_rows and pc.min(found.column(at)).as_py() != 1:
                return None
            found = found.remove_column(at)
        columns = [column.combine_chunks() for column in found.columns]
        arrays = [columns[0]]
        width = 1 + len(self.fields)
        for f, column in zip(self.fields, columns[1:width], strict=True):
            wanted = pa.int64() if f.kind in ("time", "boolean") else pa.string()
            if column.type != wanted:
                if column.null_count != len(column):
                    return None
                column = pa.nulls(len(column), wanted)  # all missing: typed by the first cell
            arrays.append(column)
        arrays += columns[width:]
        batches = []
        for start in range(0, max(len(arrays[0]), 1), WHOLE_SLICE):
            part = [array.slice(start, WHOLE_SLICE) for array in arrays]
            batches.append(self.checked(part)[0])
        return batches

    def checked(self, arrays: Sequence[Any]) -> tuple[Any, list[int] | None]:
        """``row_id``, the fields' arrays and any further ones (as :meth:`whole` takes
        them) as a record batch of the fields, each row the checks do not pass read again
        (as Python values, then by the model); and which rows the batch holds: ``None``
        for all of them, else their positions (a row the model refused is left out)."""
        fields = list(arrays[1 : 1 + len(self.fields)])
        ok = self._passes(fields)
        if ok is None:
            return self._finish(fields), None
        rows = list(zip(*(array.to_pylist() for array in arrays), strict=True))
        return self._slow(rows, ok)

    def _arrays(self, columns: Sequence[Sequence[Any]]) -> list[Any]:
        """An Arrow array of each field's cells (times and flags as integers still)."""
        return [self._array(f.kind, cells) for f, cells in zip(self.fields, columns, strict=True)]

    def _array(self, kind: str, values: Sequence[Any]) -> Any:
        pa = _arrow.pyarrow()
        if kind == "time":
            return pa.array(values, type=pa.int64())
        if kind == "boolean":
            return pa.array(values, type=pa.int64())
        # Typed by its cells: a blob among them (bytes, which pyarrow would take as text if
        # told the column is text) makes the column binary, refused below like a number.
        array = pa.array(values)
        if pa.types.is_string(array.type):
            return array
        if pa.types.is_null(array.type):
            return array.cast(pa.string())
        raise TypeError(f"a text column with cells of type {array.type}")

    def _passes(self, arrays: list[Any]) -> list[bool] | None:
        """``None`` if every row passes the checks, else whether each does."""
        pc = _arrow.compute()
        by_name = {f.name: array for f, array in zip(self.fields, arrays, strict=True)}
        checks = [_not_blank(by_name[n]) for n in self.required]
        for name in self.optional:
            column = by_name[name]
            checks.append(pc.or_kleene(pc.is_null(column), _not_blank(column)))
        for f in self.fields:
            column = by_name[f.name]
            if f.name in _ENUMS:
                checks.append(pc.is_in(column, value_set=_arrow.pyarrow().array(_ENUMS[f.name])))
            elif f.kind == "boolean":
                checks.append(pc.is_in(column, value_set=_arrow.pyarrow().array([0, 1])))
            elif f.kind == "time":
                checks.append(
                    pc.and_(pc.greater_equal(column, _SAFE_FIRST), pc.less(column, _SAFE_END))
                )
        if self.table.stream in _TEAMS_DIFFER:
            checks.append(pc.not_equal(by_name["from_team"], by_name["to_team"]))
        passed = checks[0]
        for check in checks[1:]:
            passed = pc.and_(passed, check)
        passed = pc.fill_null(passed, False)
        if pc.all(passed).as_py():
            return None
        flags: list[bool] = passed.to_pylist()
        return flags

    def _finish(self, arrays: list[Any]) -> Any:
        pa = _arrow.pyarrow()
        done = []
        for f, array in zip(self.fields, arrays, strict=True):
            if f.kind == "time":
                array = array.cast(pa.timestamp("us", tz="UTC"))
            elif f.kind == "boolean":
                array = array.cast(pa.bool_())
            done.append(array)
        return pa.RecordBatch.from_arrays(done, schema=self.schema)

    def _slow(self, rows: Sequence[tuple[Any, ...]], ok: Sequence[bool]) -> tuple[Any, list[int]]:
        """The chunk with each row that failed the checks read again by the record class:
        kept with the class's values, or left out if the class refused it; and the
        positions of the rows kept."""
        kept: list[tuple[Any, ...]] = []
        positions: list[int] = []
        width = 1 + len(self.fields)
        for position, (row, passed) in enumerate(zip(rows, ok, strict=True)):
            if passed:
                kept.append(row[1:width])
            else:
                record = self.again(row)
                if record is None:
                    continue
                kept.append(_cells(record, self.table))
            positions.append(position)
        columns = list(zip(*kept, strict=True)) if kept else [() for _ in self.fields]
        return self._finish(self._arrays(columns)), positions


def records_table(stream: Stream, records: Iterable[Any]) -> Any:
    """Records of ``stream`` as a ``pyarrow.Table`` of :meth:`SQLiteStore.columns`'s form."""
    pa = _arrow.pyarrow()
    fields = core_fields(stream)
    rows = [tuple(getattr(record, f.name) for f in fields) for record in records]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    arrays = []
    for f, values in zip(fields, columns, strict=True):
        if f.kind == "time":
            arrays.append(_arrow.timestamps(values))
        elif f.kind == "money":
            arrays.append(_arrow.decimals(values))
        elif f.kind == "boolean":
            arrays.append(pa.array(values, type=pa.bool_()))
        else:
            text = [None if v is None else str(getattr(v, "value", v)) for v in values]
            arrays.append(pa.array(text, type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[f.name for f in fields])


def chunks(fetch: Callable[[int], list[tuple[Any, ...]]]) -> Iterator[list[tuple[Any, ...]]]:
    """``fetch(CHUNK)`` until it gives nothing."""
    while True:
        rows = fetch(CHUNK)
        if not rows:
            return
        yield rows
