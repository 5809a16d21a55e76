"""The reads of :class:`~slacore_connectors.store.sqlite.SQLiteStore`: records, columns,
counts, rejected records and dumps, a mixin of the store.

Private to :mod:`slacore_connectors.store.sqlite`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from slacore._arrow import pyarrow
from slacore.connector import RejectedRecord, Stream
from slacore.errors import ValidationError
from slacore_connectors.store import _columns
from slacore_connectors.store._open import _Opening
from slacore_connectors.store._runs import _CONNECTORS_FROM
from slacore_connectors.store._staging import rejected_record
from slacore_connectors.store._tables import TABLES, _Table, _us, refuse_row, row_filter

_REJECTED_CLOSED_FROM = 2
"""The schema version from which rejected records have ``seen_to``."""


class _Reads(_Opening):
    """What :class:`SQLiteStore` reads: the records and columns of a stream, counts,
    rejected records and dumps."""

    _held_columns: dict[str, set[str]]
    _arrow_reads: bool

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
        """The records of a stream as the store knows them now, or knew them ``as_of``.

        Args:
            stream: Which records (``"leads"``, ``Stream.TOUCHES``...).
            as_of: Return the versions current at that moment (what the store knew then).
            since: Only records whose main time (created, notified, at, opened) is at or
                after this.
            until: ... and before this.
            source_name: Only records of this source.
            invalid: Called with the error of each stored row this slacore's model refuses (a
                placeholder date such as 9999-12-31 that an older slacore stored), which is
                then skipped; without it, such a row is a :class:`StoreError`.

        Yields:
            Core objects, in order of their main time (reps by id).

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.

        """
        table = TABLES[Stream.parse(stream)]
        query, args = self._select(
            table, as_of=as_of, since=since, until=until, source_name=source_name
        )
        read = table.reader()
        with self._sql("read the store"):
            rows = self._db.cursor()
            rows.row_factory = None  # plain tuples: cheaper than sqlite3.Row
            for row in rows.execute(query, args):
                try:
                    record = read(row)
                except ValidationError as error:
                    refuse_row(self.path, table, error, invalid)
                    continue
                yield record

    def columns(
        self,
        stream: Stream | str,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        invalid: Callable[[ValidationError], object] | None = None,
    ) -> Any:
        """The records :meth:`records` reads with the same arguments, in the same order, as
        one ``pyarrow.Table`` (:meth:`Store.columns <slacore_connectors.store.Store.columns>`
        says its columns).

        Rows are fetched in chunks through the same plan as :meth:`records` (the time
        index) and checked a column at a time; the main time comes from the integer
        ``time_us`` column, not its text. A row the checks do not pass for certain is read
        again as :meth:`records` reads it, so the model converts it or refuses it (then
        ``invalid`` gets the error, or :class:`StoreError` is raised) exactly as there.

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.
            ModuleNotFoundError: pyarrow is not installed.

        """
        table = TABLES[Stream.parse(stream)]
        if not _columns.fast(table):
            found = self.records(
                table.stream,
                as_of=as_of,
                since=since,
                until=until,
                source_name=source_name,
                invalid=invalid,
            )
            return _columns.records_table(table.stream, found)
        asked: dict[str, Any] = {
            "as_of": as_of,
            "since": since,
            "until": until,
            "source_name": source_name,
        }
        query, args = self._select(table, **asked, chunked=True)
        read = table.reader()
        one = f"SELECT {self._columns(table)} FROM {table.name} WHERE row_id = ?"

        def again(chunk_row: tuple[Any, ...]) -> Any | None:
            row = self._db.execute(one, (chunk_row[0],)).fetchone()
            try:
                return read(tuple(row))
            except ValidationError as error:
                refuse_row(self.path, table, error, invalid)
                return None

        reader = _columns.ChunkReader(table, again)
        pa = pyarrow()
        if self._arrow_reads and self.path != ":memory:" and not self._db.in_transaction:
            # Straight into Arrow when ADBC's SQLite driver is installed: no Python object
            # per cell. It reads the file on a connection of its own, so not within a
            # transaction of this one (it would not see its writes).
            whole, _ = self._select(table, **asked, chunked=True, typed=True)
            fetched = _columns.read_arrow(self.path, whole, args)
            made = None if fetched is None else reader.whole(fetched)
            if made is not None:
                return pa.Table.from_batches(made, schema=reader.schema)
        with self._sql("read the store"):
            rows = self._db.cursor()
            rows.row_factory = None  # plain tuples
            rows.execute(query, args)
            batches = [reader.batch(chunk) for chunk in _columns.chunks(rows.fetchmany)]
        return pa.Table.from_batches(batches, schema=reader.schema)

    def _select(
        self,
        table: _Table,
        *,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source_name: str | None = None,
        chunked: bool = False,
        typed: bool = False,
    ) -> tuple[str, list[Any]]:
        """The query :meth:`records` runs, and its arguments; ``chunked``: the query of
        :meth:`columns`, whose SELECT list is :func:`_columns.select_list`'s.

        The plan is chosen here, not left to SQLite's planner: a table with a main time is
        read through its time index (``<table>_time``), which gives the rows in the order
        asked for, so nothing is sorted, and reads only the range asked for, however long
        the history stored. Left to itself, SQLite reads a source's rows, or a whole
        period once ``ANALYZE`` finds few current rows among many closed versions, through
        the partial index of current rows by lead (``<table>_lead``): every row looked up,
        then sorted, 1.3 s instead of 0.6 s for 300,000 touches. The plans are pinned by
        ``tests/slacore_connectors/test_store_reads.py`` on ``EXPLAIN QUERY PLAN``.
        """
        where, args = row_filter(
            table, as_of=as_of, since=since, until=until, source_name=source_name
        )
        if table.time_column:
            source = f"{table.name} INDEXED BY {table.name}_time"
            order = "time_us, row_id"
        else:
            source, order = table.name, "key"  # reps: a few rows, sorted by id
        selected = (
            _columns.select_list(table, self._present(table), typed=typed)
            if chunked
            else self._columns(table)
        )
        query = f"SELECT {selected} FROM {source} WHERE {' AND '.join(where)} ORDER BY {order}"
        return query, args

    def count(self, stream: Stream | str, *, as_of: datetime | None = None) -> int:
        """How many records of a stream the store holds (now, or ``as_of``): its rows,
        counted in SQL without reading them (a row the model would refuse is counted;
        :meth:`records` tells it)."""
        table = TABLES[Stream.parse(stream)]
        where, args = row_filter(table, as_of=as_of)
        query = f"SELECT count(*) FROM {table.name} WHERE {' AND '.join(where)}"
        with self._sql("read the store"):
            return int(self._db.execute(query, args).fetchone()[0])

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
        closed = self.schema_version >= _REJECTED_CLOSED_FROM
        if as_of is not None:
            query += " AND first_seen <= ?"
            args.append(_us(as_of))
            if closed:
                query += " AND (seen_to IS NULL OR seen_to > ?)"
                args.append(_us(as_of))
        elif closed:
            query += " AND seen_to IS NULL"
        with self._sql("read the store"):
            rows = self._db.execute(query + " ORDER BY rejected_id", args).fetchall()
        return [rejected_record(row) for row in rows]

    def _columns(self, table: _Table) -> str:
        """The SELECT list of ``table``'s record columns; a column a store of an older
        schema lacks (opened read-only, not brought up to date) reads as NULL, the field's
        default (a deal's ``owner_id`` before version 5)."""
        held = self._present(table)
        return ", ".join(c if c in held else f"NULL AS {c}" for c in table.columns)

    def _present(self, table: _Table) -> set[str]:
        """The columns ``table`` has in this file."""
        held = self._held_columns.get(table.name)
        if held is None:
            held = {row[1] for row in self._db.execute(f"PRAGMA table_info({table.name})")}
            self._held_columns[table.name] = held
        return held

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's current rows as plain tuples, bookkeeping columns left out.

        For comparing two stores row for row (e.g. after a killed and resumed sync).
        """
        with self._sql("read the store"):
            return self._dump()

    def _dump(self) -> dict[str, list[tuple[Any, ...]]]:
        result: dict[str, list[tuple[Any, ...]]] = {}
        for table in TABLES.values():
            columns = f"source_name, key, {self._columns(table)}"
            rows = self._db.execute(
                f"SELECT {columns} FROM {table.name} WHERE seen_to IS NULL ORDER BY key"
            )
            result[table.name] = [tuple(row) for row in rows]
        result["cursors"] = [
            tuple(row)
            for row in self._db.execute(
                "SELECT source_name, stream, cursor FROM cursors ORDER BY 1, 2"
            )
        ]
        if self.schema_version >= _CONNECTORS_FROM:
            result["sources"] = [
                tuple(row)
                for row in self._db.execute("SELECT source_name, connector FROM sources ORDER BY 1")
            ]
        current = "WHERE seen_to IS NULL" if self.schema_version >= _REJECTED_CLOSED_FROM else ""
        result["rejected"] = [
            tuple(row)
            for row in self._db.execute(
                "SELECT source_name, stream, origin, line, record_id, field, reason, raw "
                f"FROM rejected {current} ORDER BY source_name, identity"
            )
        ]
        return result
