"""Reading a DuckDB store: records as the model's objects, columns as Arrow, rejected
records, and the dump that compares two stores.

Private to :mod:`slacore_connectors.store.duckdb`: :class:`DuckDBStore` inherits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slacore._arrow import decimals
from slacore.connector import RejectedRecord, Stream, core_fields
from slacore.errors import ValidationError
from slacore.model import Channel
from slacore_connectors.store._duck_open import _booleans, _DuckOpening, _q, _run
from slacore_connectors.store._staging import rejected_record
from slacore_connectors.store._tables import TABLES, _Table, _us, row_filter
from slacore_connectors.store.base import StoreError

if TYPE_CHECKING:
    import pyarrow

_FETCH = 10_000
"""Rows fetched at a time by :meth:`_DuckReads.records`."""

_MONEY = "DECIMAL(38, 10)"
"""What a stored amount must cast to, to be a number the model reads (a check only: the
column :meth:`_DuckReads.columns` gives holds every amount exactly)."""

_FIRST_US = _us(datetime(1900, 1, 1, tzinfo=UTC))
_END_US = _us(datetime(2100, 1, 1, tzinfo=UTC))
"""The model's years (1900 to 2099, UTC): a stored time outside them is refused by it."""

_OFFSET = r"([+-][0-9][0-9]:[0-9][0-9](:[0-9][0-9](\.[0-9]+)?)?|Z)$"
"""How a stored time ends: its offset, as ``isoformat()`` writes it."""


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
                        if invalid is None:
                            raise self._refused_row(table, error) from error
                        invalid(error)
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
        Arrow table, straight from DuckDB: no Python object per row.

        One column per core field (:func:`slacore.connector.core_fields`, same names and
        order): times ``timestamp[us, tz="UTC"]`` (the instant; the offset a record had is
        left out), money ``decimal128(38, s)`` with ``s`` the most places any amount has (as
        :meth:`SQLiteStore.columns <slacore_connectors.store.SQLiteStore.columns>`), flags
        ``bool``, enums their value as text, other text ``string``; nulls where a field is
        missing. A row the model refuses goes to ``invalid`` and is left out, as in
        :meth:`records` (found by a check of the stored times, amounts and channels in SQL,
        then read by the model).

        Needs pyarrow (``pip install 'slacore[arrow]'``).

        Raises:
            StoreError: The store cannot be read, or holds a row the model refuses and
                ``invalid`` is not given.
            ImportError: pyarrow is not installed.

        """
        import pyarrow as pa

        table = TABLES[Stream.parse(stream)]
        where, args = self._where(
            table, as_of=as_of, since=since, until=until, source_name=source_name
        )
        refused = self._refused(table, where, args, invalid)
        if refused:
            where += f" AND row_id NOT IN ({', '.join(str(r) for r in refused)})"
        select = ", ".join(
            self._column(table, field.name, field.kind) for field in core_fields(table.stream)
        )
        query = f"SELECT {select} FROM {table.name} WHERE {where} ORDER BY {self._order(table)}"
        with self._sql("read the store"):
            found = self._db.sql(query, params=args).to_arrow_table()
        utc = pa.timestamp("us", tz="UTC")
        for at, field in enumerate(core_fields(table.stream)):
            if field.kind == "time":
                found = found.set_column(at, field.name, found.column(at).cast(utc))
            elif field.kind == "money":
                # Amounts are few (deals): made exact from their stored text, in Python.
                amounts = [None if v is None else Decimal(v) for v in found.column(at).to_pylist()]
                found = found.set_column(at, field.name, decimals(amounts))
        return found

    @staticmethod
    def _column(table: _Table, name: str, kind: str) -> str:
        """The SELECT expression of one field in :meth:`columns`."""
        if kind == "time" and name == table.time_column:
            return f"make_timestamp(time_us) AS {_q(name)}"
        if kind == "time":
            return f"CAST(CAST({_q(name)} AS TIMESTAMPTZ) AS TIMESTAMP) AS {_q(name)}"
        return _q(name)

    def _refused(
        self,
        table: _Table,
        where: str,
        args: list[Any],
        invalid: Callable[[ValidationError], object] | None,
    ) -> list[int]:
        """The row ids of the rows of a read the model refuses, each error given to
        ``invalid`` in the read's order. Only rows a check in SQL finds doubtful (a time
        that is not ISO 8601 with an offset, or outside the model's years; an amount that
        is not a number; a channel the model does not know) are read by the model."""
        checks = []
        for field in core_fields(table.stream):
            name = _q(field.name)
            if field.kind == "time":
                moment = f"TRY_CAST({name} AS TIMESTAMPTZ)"
                checks.append(
                    f"({name} IS NOT NULL AND ({moment} IS NULL OR NOT regexp_matches({name}, "
                    f"'{_OFFSET}') OR epoch_us({moment}) < {_FIRST_US} "
                    f"OR epoch_us({moment}) >= {_END_US}))"
                )
            elif field.kind == "money":
                checks.append(f"({name} IS NOT NULL AND TRY_CAST({name} AS {_MONEY}) IS NULL)")
            elif field.kind == "channel":
                known = ", ".join(f"'{c.value}'" for c in Channel)
                checks.append(f"({name} IS NOT NULL AND {name} NOT IN ({known}))")
        if not checks:
            return []
        query = (
            f"SELECT row_id, {self._cells(table)} FROM {table.name} WHERE {where} "
            f"AND ({' OR '.join(checks)}) ORDER BY {self._order(table)}"
        )
        read = table.reader()
        refused = []
        with self._sql("read the store"):
            rows = _run(self._db, query, args)
        for row in rows:
            try:
                read(row[1:])
            except ValidationError as error:
                if invalid is None:
                    raise self._refused_row(table, error) from error
                invalid(error)
                refused.append(int(row[0]))
        return refused

    def _refused_row(self, table: _Table, error: ValidationError) -> StoreError:
        return StoreError(
            message=f"holds a {table.name} record this slacore refuses: {error}", path=self.path
        )

    @staticmethod
    def _cells(table: _Table, *, flags_as_integers: bool = False) -> str:
        """The SELECT list of ``table``'s record columns (flags 0/1 as SQLite keeps them,
        with ``flags_as_integers``)."""
        flags = _booleans(table) if flags_as_integers else frozenset()
        return ", ".join(
            f"CAST({_q(c)} AS INTEGER) AS {_q(c)}" if c in flags else _q(c) for c in table.columns
        )

    def count(self, stream: Stream | str, *, as_of: datetime | None = None) -> int:
        """How many records of a stream the store holds (now, or ``as_of``)."""
        return sum(1 for _ in self.records(stream, as_of=as_of))

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
