"""A batch of records as Arrow columns: what a connector with a column path yields.

A :class:`ColumnBatch` is a :class:`~slacore.connector.Batch` whose records are the rows of
a ``pyarrow.Table`` rather than record objects: a store or a rule that works on columns takes
them without a Python object per record, and :meth:`ColumnBatch.records` gives the objects to
whoever wants them. The table's columns are :func:`column_schema` 's: the core fields of the
stream (:func:`~slacore.connector.core_fields`), in their order, then one
``<field>_offset`` column per time field.

pyarrow (and numpy) are imported when a table is first made or read, never by
``import slacore``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

from slacore._trusted import trusted_maker
from slacore.connector.mapping import core_fields
from slacore.connector.streams import (
    Batch,
    Cursor,
    Record,
    RejectedRecord,
    Stream,
    _batch_cursor,
    _deleted,
    _notices,
    _rejected,
    _stream,
)
from slacore.errors import ValidationError
from slacore.model import id_field

__all__ = ["ColumnBatch", "column_schema", "empty_table", "records_table"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def offset_column(field: str) -> str:
    """The name of the column holding the UTC offsets of time field ``field``."""
    return f"{field}_offset"


@functools.cache
def column_schema(stream: Stream | str) -> Any:
    """The ``pyarrow.Schema`` of a :class:`ColumnBatch` 's table for ``stream``.

    One column per core field, in :func:`~slacore.connector.core_fields` order: text (ids,
    names, stages, and a team or channel as its value, ``"sales"``, ``"call"``) as
    ``string``; flags as ``bool``; money as ``string``, the amount's exact decimal text
    (``"1250000.50"``: a Decimal keeps its places, which a fixed-scale decimal type would
    not); times as ``timestamp[us, tz=UTC]``, the instant. Then, for each time field in that
    order, ``<field>_offset``, a ``duration[us]``: the UTC offset the time was written with
    (``-04:00``), so that every time keeps its offset as its record object has it. A missing
    optional value is null; a required one never is.

    Examples:
        >>> column_schema("touches").names
        ['lead_id', 'rep_id', 'at', 'channel', 'at_offset']

    Raises:
        ModuleNotFoundError: pyarrow is not installed.

    """
    from slacore._arrow import pyarrow

    pa = pyarrow()
    fields = core_fields(stream)
    types = {"time": pa.timestamp("us", tz="UTC"), "boolean": pa.bool_()}
    columns = [
        pa.field(field.name, types.get(field.kind, pa.string()), nullable=not field.required)
        for field in fields
    ]
    columns += [
        pa.field(offset_column(field.name), pa.duration("us"), nullable=not field.required)
        for field in fields
        if field.kind == "time"
    ]
    return pa.schema(columns)


def empty_table(stream: Stream | str) -> Any:
    """A table of :func:`column_schema` with no rows.

    (Made of no record batches: ``Schema.empty_table()`` and ``pyarrow.array([])`` import
    pandas, a third of a second, which a re-sync with nothing new need not pay.)
    """
    from slacore._arrow import pyarrow

    return pyarrow().Table.from_batches([], schema=column_schema(stream))


def _cell(value: Any) -> Any:
    """A record's field value as a table cell (a time is split by :func:`records_table`)."""
    if value is None or type(value) in (str, bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return getattr(value, "value", value)  # a team or channel: its value


def records_table(stream: Stream | str, records: Iterable[Record]) -> Any:
    """Records of ``stream`` as a table of :func:`column_schema`, a row per record in order.

    Raises:
        ModuleNotFoundError: pyarrow is not installed.

    """
    from slacore._arrow import pyarrow

    pa = pyarrow()
    kind = Stream.parse(stream)
    fields = core_fields(kind)
    items = list(records)
    columns: dict[str, list[Any]] = {}
    offsets: dict[str, list[Any]] = {}
    for field in fields:
        values = [getattr(record, field.name) for record in items]
        if field.kind == "time":
            columns[field.name] = [None if t is None else (t - _EPOCH) // _ONE_US for t in values]
            offsets[offset_column(field.name)] = [
                None if t is None else t.utcoffset() // _ONE_US for t in values
            ]
        else:
            columns[field.name] = [_cell(v) for v in values]
    columns.update(offsets)
    schema = column_schema(kind)
    arrays = [
        pa.array(columns[f.name], type=pa.int64()).cast(f.type)
        if pa.types.is_timestamp(f.type) or pa.types.is_duration(f.type)
        else pa.array(columns[f.name], type=f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_ZONES: dict[int, timezone] = {0: UTC}


def _zone(offset_us: int) -> timezone:
    zone = _ZONES.get(offset_us)
    if zone is None:
        zone = _ZONES.setdefault(offset_us, timezone(offset_us * _ONE_US))
    return zone


def _times(us: Sequence[int | None], offsets: Sequence[int | None]) -> list[datetime | None]:
    """Aware datetimes of instants and offsets (microseconds), each in its own offset."""
    naive = datetime(1970, 1, 1)
    return [
        None
        if at is None or offset is None
        else (naive + (at + offset) * _ONE_US).replace(tzinfo=_zone(offset))
        for at, offset in zip(us, offsets, strict=True)
    ]


def table_records(stream: Stream | str, table: Any) -> list[Record]:
    """The record objects of a table of :func:`column_schema`, in row order.

    Raises:
        ValidationError: A row is not a valid record (the model's own error).

    """
    kind = Stream.parse(stream)
    fields = core_fields(kind)
    record_type = kind.record_type
    columns: list[list[Any]] = []
    for field in fields:
        column = table.column(field.name)
        if field.kind == "time":
            offsets = table.column(offset_column(field.name)).cast("int64").to_pylist()
            columns.append(_times(column.cast("int64").to_pylist(), offsets))
        elif field.kind == "money":
            columns.append([None if v is None else Decimal(v) for v in column.to_pylist()])
        else:
            columns.append(column.to_pylist())
    trusted = trusted_maker(record_type)
    names = [field.name for field in fields]
    made: list[Record] = []
    for values in zip(*columns, strict=True):
        record = None if trusted is None else trusted(*values)
        if record is None:
            kwargs = {n: v for n, v in zip(names, values, strict=True) if v is not None}
            record = record_type(**kwargs)
        made.append(record)
    return made


def _lines(value: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if value is None else tuple(value)


def _check_table(instance: ColumnBatch, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:  # no rows
        if instance.lines:
            raise ValidationError(
                message=f"lines gives {len(instance.lines)} lines for 0 rows", field="lines"
            )
        return
    expected = column_schema(instance.stream)
    schema = getattr(value, "schema", None)
    if schema is None or not schema.equals(expected):
        got = "no table" if schema is None else ", ".join(f"{f.name}: {f.type}" for f in schema)
        raise ValidationError(
            message=f"a {instance.stream} column batch needs a pyarrow Table of "
            f"column_schema({instance.stream.value!r}), got {got}",
            field="table",
        )
    if instance.lines is not None and len(instance.lines) != value.num_rows:
        raise ValidationError(
            message=f"lines gives {len(instance.lines)} lines for {value.num_rows} rows",
            field="lines",
        )


@attrs.frozen(kw_only=True, hash=False, eq=False)  # holds a table: compared by records()
class ColumnBatch:
    """One step of a read on the column path: records as Arrow columns, records rejected,
    and the cursor after them.

    Everything but ``table`` and ``lines`` means what it means on a
    :class:`~slacore.connector.Batch`: store the rows and the rejected records, then keep
    ``cursor``. A stream read either way gives the same records, rejected records, notices
    and cursors, the batches aside (a column batch is larger).

    Attributes:
        stream: The stream read.
        table: The records, a ``pyarrow.Table`` of :func:`column_schema` (``stream``), a row
            per record in vendor order. Every row is valid: the model's checks were run on
            the columns (or on the record, for a row they could not decide). A batch of no
            rows may be made without one (``None``, the default): :attr:`table` then gives
            an empty table, made when asked for, so that a read with nothing new (a cursor
            at the end of a file) loads no pyarrow.
        cursor: The position after this batch.
        lines: The source line of each row (a file's line, from 1), or ``None`` when the
            source has no lines.
        rejected: The records that could not be mapped, with their reasons.
        notices: As :attr:`Batch.notices`.
        from_start: As :attr:`Batch.from_start`.
        deleted: As :attr:`Batch.deleted`.

    Raises:
        ValidationError: The table is not of the stream's schema, ``lines`` does not give a
            line per row, the cursor is another stream's, or ``deleted`` is not allowed (as
            for a :class:`~slacore.connector.Batch`).

    """

    stream: Stream = attrs.field(converter=_stream)
    _table: Any = attrs.field(default=None, alias="table", validator=_check_table)
    cursor: Cursor = attrs.field(validator=_batch_cursor)
    lines: tuple[int, ...] | None = attrs.field(default=None, converter=_lines)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)
    notices: tuple[str, ...] = attrs.field(default=(), converter=_notices)
    from_start: bool = False
    deleted: tuple[str, ...] = attrs.field(default=(), converter=_deleted)

    def __attrs_post_init__(self) -> None:
        if not self.deleted:
            return
        # The ids' own checks are the row batch's.
        Batch(stream=self.stream, records=(), cursor=self.cursor, deleted=self.deleted)
        held = set(self.table.column(id_field(self.stream.record_type)).to_pylist())
        # (with no rows, an empty table: nothing is held)
        both = sorted(item for item in self.deleted if item in held)
        if both:
            raise ValidationError(
                message=f"a {self.stream} batch both holds and deletes {', '.join(both[:3])}"
                + (", ..." if len(both) > 3 else "")
                + ": a record is either current or deleted",
                field="deleted",
            )

    @property
    def table(self) -> Any:
        """The rows, a ``pyarrow.Table`` of :func:`column_schema` (an empty one when the
        batch was made without)."""
        return empty_table(self.stream) if self._table is None else self._table

    @property
    def num_rows(self) -> int:
        """How many rows (records) the batch holds."""
        return 0 if self._table is None else int(self._table.num_rows)

    def __len__(self) -> int:
        """The vendor records the batch speaks of: rows, rejected and deleted."""
        return self.num_rows + len(self.rejected) + len(self.deleted)

    def records(self) -> list[Record]:
        """The rows as record objects, in order (for stores and users without a column
        path): each equal to the one the row path maps from the same vendor record."""
        return [] if self._table is None else table_records(self.stream, self._table)

    def to_batch(self) -> Batch:
        """The same batch with record objects: a :class:`~slacore.connector.Batch`."""
        return Batch(
            stream=self.stream,
            records=self.records(),
            cursor=self.cursor,
            rejected=self.rejected,
            notices=self.notices,
            from_start=self.from_start,
            deleted=self.deleted,
        )
