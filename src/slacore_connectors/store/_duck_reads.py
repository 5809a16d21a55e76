"""Reading a DuckDB store: records as the model's objects, columns as Arrow, rejected
records, and the dump that compares two stores.

Private to :mod:`slacore_connectors.store.duckdb`: :class:`DuckDBStore` inherits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slacore.connector import RejectedRecord, Stream, core_fields
from slacore.errors import ValidationError
from slacore_connectors.store import _columns
from slacore_connectors.store._duck_open import _booleans, _DuckOpening, _q
from slacore_connectors.store._staging import rejected_record
from slacore_connectors.store._tables import TABLES, _Table, _us, refuse_row, row_filter

if TYPE_CHECKING:
    import pyarrow

_FETCH = 10_000
"""Rows fetched at a time by :meth:`_DuckReads.records`."""


def _in_order(result: pyarrow.Table, orders: list[list[Any]]) -> pyarrow.Table:
    """``result``'s rows in the order of their stored ``time_us`` (missing ones last, as
    DuckDB orders them), then ``row_id``: ``orders`` holds the ``row_id`` and ``time_us``
    arrays of each batch of rows, in the order of ``result``'s rows (the table itself when
    they are in that order already)."""
    import numpy as np
    import pyarrow as pa

    if result.num_rows < 2:
        return result
    row_ids = pa.chunked_array([row for row, _ in orders], type=pa.int64())
    stored = pa.chunked_array([time for _, time in orders], type=pa.int64())
    rows = row_ids.to_numpy()
    times = stored.fill_null(0).to_numpy()
    missing = np.asarray(stored.is_null().to_numpy(), dtype=np.int64)
    later = (missing[1:] > missing[:-1]) | (
        (missing[1:] == missing[:-1])
        & ((times[1:] > times[:-1]) | ((times[1:] == times[:-1]) & (rows[1:] > rows[:-1])))
    )
    if bool(later.all()):
        return result
    return result.take(np.lexsort((rows, times, missing)))


_ISO = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([+-][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?|Z)"
)
"""A stored main time as ``isoformat()`` writes an aware time: one whose instant is taken
from ``time_us`` in :meth:`_DuckReads.columns` when they agree (any other is read by the
model)."""

_DIGIT = "[0-9]"
_ISO_SHAPES = tuple(
    f"{_DIGIT * 4}-{_DIGIT * 2}-{_DIGIT * 2}T{_DIGIT * 2}:{_DIGIT * 2}:{_DIGIT * 2}{fraction}"
    f"[+-]{_DIGIT * 2}:{_DIGIT * 2}"
    for fraction in ("", "." + _DIGIT * 6)
)
"""GLOB patterns of the two texts ``isoformat()`` writes of a time whose offset is whole
minutes (without and with microseconds): both match :data:`_ISO`, and DuckDB tests them
for about a tenth less than the regular expression, which is asked of the others only."""


class _DuckReads(_DuckOpening):
    """The reads of a DuckDB store."""

    def _where(
        self,
        table: _Table,
        *,
        as_of: datetime | None,
        since: datetime | None,
        until: datetime | None,
        source_name: str | None,
    ) -> tuple[str, list[Any]]:
        """The WHERE clause of a read (as :meth:`SQLiteStore.records
        <slacore_connectors.store.SQLiteStore.records>` selects) and its arguments."""
        where, args = row_filter(
            table, as_of=as_of, since=since, until=until, source_name=source_name
        )
        return " AND ".join(where), args

    @staticmethod
    def _order(table: _Table) -> str:
        return "time_us, row_id" if table.time_column else "key"

    def records(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        invalid: Callable[[ValidationError], object] | None = None,
    ) -> Iterator[Any]:
        """The records of a stream as the store knows them now, or knew them ``as_of``, in
        order of their main time (reps by id); arguments as :meth:`SQLiteStore.records
        <slacore_connectors.store.SQLiteStore.records>`.

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.

        """
        table = TABLES[Stream.parse(stream)]
        where, args = self._where(
            table, as_of=as_of, since=since, until=until, source_name=source_name
        )
        query = (
            f"SELECT {self._cells(table)} FROM {table.name} WHERE {where} "
            f"ORDER BY {self._order(table)}"
        )
        yield from self._read(table, query, args, invalid)

    def _read(
        self,
        table: _Table,
        query: str,
        args: list[Any],
        invalid: Callable[[ValidationError], object] | None,
    ) -> Iterator[Any]:
        read = table.reader()
        # A cursor of its own: a caller may read another stream between two records.
        with self._sql("read the store"):
            rows = self._db.cursor()
        try:
            with self._sql("read the store"):
                rows.execute(query, args)
            while True:
                with self._sql("read the store"):
                    chunk = rows.fetchmany(_FETCH)
                if not chunk:
                    return
                for row in chunk:
                    try:
                        record = read(row)
                    except ValidationError as error:
                        refuse_row(self.path, table, error, invalid)
                        continue
                    yield record
        finally:
            rows.close()

    def columns(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        invalid: Callable[[ValidationError], object] | None = None,
    ) -> pyarrow.Table:
        """The rows :meth:`records` gives for the same arguments, in the same order, as one
        Arrow table (:meth:`Store.columns <slacore_connectors.store.Store.columns>` says its
        columns), read from DuckDB straight into Arrow.

        The rows are checked a column at a time by the checks of :meth:`SQLiteStore.columns
        <slacore_connectors.store.SQLiteStore.columns>` (:class:`_columns.ChunkReader`), the
        main time taken from ``time_us`` when its stored text is ISO 8601 with an offset
        and the same instant. A row they do not pass for certain (one an older slacore
        wrote to SQLite that ``slacore store migrate`` copied: a channel in capitals, a
        hand-off within one team) is read by the model as in :meth:`records`: converted,
        it holds the record's values; refused, it is left out and ``invalid`` gets the
        error. Deals and reps are read as records, then converted (they are few).

        Needs pyarrow (``pip install 'slacore[arrow]'``).

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.
            ImportError: pyarrow is not installed.

        """
        import pyarrow as pa

        table = TABLES[Stream.parse(stream)]
        asked: dict[str, Any] = {
            "as_of": as_of,
            "since": since,
            "until": until,
            "source_name": source_name,
        }
        if not _columns.fast(table):
            found = self.records(table.stream, **asked, invalid=invalid)
            return _columns.records_table(table.stream, found)
        where, args = self._where(table, **asked)
        fields = core_fields(table.stream)
        reader = _columns.ChunkReader(table, self._again(table, invalid))
        # row_id, the fields as the checks take them, then the main time's stored text.
        kinds = [("row_id", pa.int64())]
        select = ["row_id"]
        for field in fields:
            name = _q(field.name)
            if field.name == table.time_column:
                moment = f"TRY_CAST({name} AS TIMESTAMPTZ)"
                shaped = " OR ".join(f"{name} GLOB '{shape}'" for shape in _ISO_SHAPES)
                select.append(
                    f"CASE WHEN ({shaped} OR regexp_full_match({name}, '{_ISO}')) "
                    f"AND epoch_us({moment}) = time_us THEN time_us END"
                )
            elif field.kind == "boolean":
                select.append(f"CAST({name} AS BIGINT)")
            else:
                select.append(name)
            wanted = pa.int64() if field.kind in ("time", "boolean") else pa.string()
            kinds.append((field.name, wanted))
        select.append(f"{_q(table.time_column)} AS slacore_stored_time")
        kinds.append(("slacore_stored_time", pa.string()))
        # The order asked (main time, then row) is put right here, not by DuckDB: its sort
        # held the whole result in its memory, the rows mostly come in that order already.
        select.append("time_us AS slacore_order")
        kinds.append(("slacore_order", pa.int64()))
        query = f"SELECT {', '.join(select)} FROM {table.name} WHERE {where}"
        schema = pa.schema(kinds)
        names = [name for name, _ in kinds]
        done: list[Any] = []
        orders: list[Any] = []
        with self._sql("read the store"):
            fetched = self._db.sql(query, params=args).to_arrow_reader(_columns.WHOLE_SLICE)
            try:
                # A batch at a time: checked and kept without the columns only the checks
                # and the order need, so the read never holds the whole result twice.
                for batch in fetched:
                    found = batch.rename_columns(names).cast(schema)
                    checked, kept = reader.checked(found.columns[:-1])
                    # Copied out of DuckDB's batch, which then goes: an array of it kept
                    # would keep the whole batch (every column of it) alive.
                    done.append(
                        pa.RecordBatch.from_arrays(
                            [pa.concat_arrays([column]) for column in checked.columns],
                            schema=reader.schema,
                        )
                    )
                    order = [found.column(0), found.column(len(names) - 1)]
                    if kept is not None:
                        order = [array.take(kept) for array in order]
                    orders.append([pa.concat_arrays([array]) for array in order])
            finally:
                fetched.close()
        result = pa.Table.from_batches(done, schema=reader.schema).combine_chunks()
        return _in_order(result, orders)

    def _again(
        self, table: _Table, invalid: Callable[[ValidationError], object] | None
    ) -> Callable[[tuple[Any, ...]], Any | None]:
        """How :meth:`columns` reads a row the checks did not pass, as :meth:`records` reads
        it: its cells as read (flags 0/1, which read as the flags they were), the main
        time's stored text for the instant checked."""
        read = table.reader()
        names = table.columns
        at = names.index(table.time_column) + 1

        def again(row: tuple[Any, ...]) -> Any | None:
            cells = row[1:at] + row[-1:] + row[at + 1 : 1 + len(names)]
            try:
                return read(cells)
            except ValidationError as error:
                refuse_row(self.path, table, error, invalid)
                return None

        return again

    @staticmethod
    def _cells(table: _Table, *, flags_as_integers: bool = False) -> str:
        """The SELECT list of ``table``'s record columns (flags 0/1 as SQLite keeps them,
        with ``flags_as_integers``)."""
        flags = _booleans(table) if flags_as_integers else frozenset()
        return ", ".join(
            f"CAST({_q(c)} AS INTEGER) AS {_q(c)}" if c in flags else _q(c) for c in table.columns
        )

    def count(self, stream: Stream | str, *, as_of: datetime | None = None) -> int:
        """How many records of a stream the store holds (now, or ``as_of``): its rows,
        counted in SQL without reading them (a row the model would refuse is counted;
        :meth:`records` tells it)."""
        table = TABLES[Stream.parse(stream)]
        where, args = self._where(table, as_of=as_of, since=None, until=None, source_name=None)
        with self._sql("read the store"):
            found = self._db.execute(f"SELECT count(*) FROM {table.name} WHERE {where}", args)
            (counted,) = found.fetchone() or (0,)
        return int(counted)

    def rejected(
        self, *, source_name: str | None = None, as_of: datetime | None = None
    ) -> list[RejectedRecord]:
        """The rejected records kept now (or ``as_of``: first seen by then, and not yet
        replaced by a read of their stream from the start), in order."""
        query = "SELECT * FROM rejected WHERE 1 = 1"
        args: list[Any] = []
        if source_name is not None:
            query += " AND source_name = ?"
            args.append(source_name)
        if as_of is not None:
            query += " AND first_seen <= ? AND (seen_to IS NULL OR seen_to > ?)"
            args += [_us(as_of), _us(as_of)]
        else:
            query += " AND seen_to IS NULL"
        with self._sql("read the store"):
            return [
                rejected_record(row) for row in self._dicts(query + " ORDER BY rejected_id", args)
            ]

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's current rows as plain tuples, bookkeeping columns left out: the
        same tuples :meth:`SQLiteStore.dump <slacore_connectors.store.SQLiteStore.dump>`
        gives of the same records (flags as 0/1)."""
        result: dict[str, list[tuple[Any, ...]]] = {}
        with self._sql("read the store"):
            db = self._db
            for table in TABLES.values():
                cells = self._cells(table, flags_as_integers=True)
                result[table.name] = [
                    tuple(row)
                    for row in db.execute(
                        f"SELECT source_name, key, {cells} FROM {table.name} "
                        "WHERE seen_to IS NULL ORDER BY key"
                    ).fetchall()
                ]
            result["cursors"] = [
                tuple(row)
                for row in db.execute(
                    "SELECT source_name, stream, cursor FROM cursors ORDER BY 1, 2"
                ).fetchall()
            ]
            result["sources"] = [
                tuple(row)
                for row in db.execute(
                    "SELECT source_name, connector FROM sources ORDER BY 1"
                ).fetchall()
            ]
            result["rejected"] = [
                tuple(row)
                for row in db.execute(
                    "SELECT source_name, stream, origin, line, record_id, field, reason, raw "
                    "FROM rejected WHERE seen_to IS NULL ORDER BY source_name, identity"
                ).fetchall()
            ]
        return result
