"""How each stream's records map to a table's rows and back (private to the store)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from slacore.connector import Stream, core_fields
from slacore.model import natural_key

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _us(t: datetime) -> int:
    return (t - _EPOCH) // _ONE_US


def _from_us(value: int) -> datetime:
    return _EPOCH + value * _ONE_US


def _to_cell(value: Any) -> Any:
    """A record's field value as an SQLite value: times ISO 8601 with their offset, money as
    decimal text, flags as 0/1, enums as their value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


_FROM_CELL: dict[str, Callable[[Any], Any]] = {
    "time": datetime.fromisoformat,
    "money": Decimal,
    "boolean": bool,
}


@attrs.frozen
class _Table:
    """How one stream's records map to a table: the record's own fields, in the model's
    order, as columns; the record's natural key, as the model states it; and the main time,
    for ranges and ordering.

    The tables themselves are made by the frozen migrations; a new model field needs a new
    migration (``tests/slacore_connectors/test_migrate.py`` fails until it has one).
    """

    stream: Stream
    time_column: str

    @property
    def name(self) -> str:
        return self.stream.value

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in core_fields(self.stream))

    @staticmethod
    def key(record: Any) -> str:
        """The record's natural key (:func:`slacore.model.natural_key`) as one text."""
        return _key(*natural_key(record))

    def reader(self) -> Callable[[tuple[Any, ...]], Any]:
        """A function that makes a record of the row of its ``columns``, in their order.

        The converters are looked up once, not for every row: reading a stream is the
        larger part of a report on millions of records.
        """
        make = self.stream.record_type
        names = self.columns
        converters = [_FROM_CELL.get(field.kind) for field in core_fields(self.stream)]
        converted = [(i, convert) for i, convert in enumerate(converters) if convert is not None]

        def read(row: tuple[Any, ...]) -> Any:
            values = list(row)
            for i, convert in converted:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            return make(**dict(zip(names, values, strict=True)))

        return read


def _key(*parts: object) -> str:
    # Times in keys are epoch microseconds, so one instant written in two zones is one key.
    return "\x1f".join(str(_us(p)) if isinstance(p, datetime) else str(p) for p in parts)


TABLES: dict[Stream, _Table] = {
    table.stream: table
    for table in (
        _Table(Stream.LEADS, "created_at"),
        _Table(Stream.STAGE_CHANGES, "at"),
        _Table(Stream.HANDOFFS, "notified_at"),
        _Table(Stream.TOUCHES, "at"),
        _Table(Stream.DEALS, "opened_at"),
        _Table(Stream.REPS, ""),
        _Table(Stream.OWNER_CHANGES, "at"),
    )
}
