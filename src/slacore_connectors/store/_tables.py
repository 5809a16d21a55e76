"""How each stream's records map to a table's rows and back (private to the store)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

import attrs

from slacore._trusted import trusted_maker
from slacore.connector import Stream, core_fields
from slacore.errors import ValidationError
from slacore.model import id_field, natural_key
from slacore_connectors.store.base import StoreError

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


_ZONES: dict[tzinfo, tzinfo] = {}
"""One shared ``timezone`` per offset, for every time read from a store."""

_OFFSETS: dict[str, tzinfo] = {}
"""The shared zones by the offset as a stored time ends with it (``"-04:00"``)."""


def _stored_time(text: str) -> datetime:
    """A stored time (ISO 8601 with its offset) with the one shared time zone of its offset.

    ``datetime.fromisoformat`` gives each time a zone object of its own. Two times whose
    zones are one object compare field by field; with two zone objects Python works out
    both offsets first: about 230 ns a comparison instead of 30, in rules that compare
    millions of times, and a zone object (about 100 bytes) kept for every time. The time
    keeps its instant and its offset, so it prints and compares exactly as before.
    """
    zone = _OFFSETS.get(text[-6:])
    if zone is not None:
        try:
            local = datetime.fromisoformat(text[:-6])
        except ValueError:
            pass  # not a time: refused below, in fromisoformat's own words
        else:
            return datetime(
                local.year,
                local.month,
                local.day,
                local.hour,
                local.minute,
                local.second,
                local.microsecond,
                zone,
            )
    moment = datetime.fromisoformat(text)
    found = moment.tzinfo
    if found is None:
        return moment  # naive: the model refuses it, naming the field
    shared = _ZONES.setdefault(found, found)
    suffix = text[-6:]
    if suffix[0] in "+-" and suffix[3] == ":":  # +HH:MM, as isoformat() writes an offset
        _OFFSETS.setdefault(suffix, shared)
    if shared is found:
        return moment
    try:
        return moment.astimezone(shared)
    except OverflowError:  # 0001-01-01T00:00+05:00, a placeholder the model refuses anyway
        return moment


_FROM_CELL: dict[str, Callable[[Any], Any]] = {
    "time": _stored_time,
    "money": Decimal,
    "boolean": bool,
}


_SHARED = frozenset({"text", "stage"})
"""The kinds of cells a read keeps one string of per value (ids, stages, names, sources)."""


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

        Reading a stream is the larger part of a report on millions of records, so the
        function is made once per read, in source, for the table's columns: each cell
        converted by its kind (no look-ups per row), then the record made. A row whose values
        pass the model's checks for certain, as every row this slacore wrote does, is made
        without running them again (:func:`slacore._trusted.trusted_maker`); any other row is
        made by the record's class, which converts it or refuses it with the model's own
        error.

        Text is kept once per value and read: SQLite gives every cell a string of its own,
        and the ids, stages, reps and sources of millions of rows repeat a few values (a
        lead's id, once per touch). Each function keeps its own strings, which go with it.
        """
        names = self.columns
        namespace: dict[str, Any] = {
            "_make": self.stream.record_type,
            "_trusted": trusted_maker(self.stream.record_type),
            "_keep": {}.setdefault,
        }
        lines = ["def read(row):", f"    {', '.join(names)}, = row"]
        for field in core_fields(self.stream):
            if field.kind in _SHARED:
                lines.append(f"    {field.name} = _keep({field.name}, {field.name})")
            convert = _FROM_CELL.get(field.kind)
            if convert is not None:
                namespace[f"_{field.kind}"] = convert
                name = field.name
                lines.append(f"    if {name} is not None: {name} = _{field.kind}({name})")
        if namespace["_trusted"] is not None:
            lines.append(f"    record = _trusted({', '.join(names)})")
            lines.append("    if record is not None: return record")
        lines.append(f"    return _make({', '.join(f'{name}={name}' for name in names)})")
        exec("\n".join(lines), namespace)  # our own source, of the field names
        read: Callable[[tuple[Any, ...]], Any] = namespace["read"]
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


_EVENTS_OF_A_LEAD = tuple(
    TABLES[stream] for stream in Stream if id_field(stream.record_type) == "lead_id"
)
"""The tables of a lead's events, named by its id (``lead_id``): stage changes, hand-offs,
touches, owner changes. A lead deleted closes its current events of the same source."""


def row_filter(
    table: _Table,
    *,
    as_of: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    source_name: str | None = None,
) -> tuple[list[str], list[Any]]:
    """The conditions (SQL, ``?`` parameters; both engines) and arguments of a read of
    ``table``'s records: current now or ``as_of``, of a source, with a main time in
    ``[since, until)`` (a table without a main time ignores the range)."""
    where: list[str] = []
    args: list[Any] = []
    if as_of is None:
        where.append("seen_to IS NULL")
    else:
        moment = _us(as_of)
        where.append("seen_from <= ? AND (seen_to IS NULL OR seen_to > ?)")
        args += [moment, moment]
    if source_name is not None:
        where.append("source_name = ?")
        args.append(source_name)
    if since is not None and table.time_column:
        where.append("time_us >= ?")
        args.append(_us(since))
    if until is not None and table.time_column:
        where.append("time_us < ?")
        args.append(_us(until))
    return where, args


def refuse_row(
    path: str,
    table: _Table,
    error: ValidationError,
    invalid: Callable[[ValidationError], object] | None,
) -> None:
    """A stored row of ``table`` the model refused (both engines' reads): ``invalid`` is
    told, or it is a :class:`StoreError` naming the store at ``path``."""
    if invalid is None:
        raise StoreError(
            message=f"holds a {table.name} record this slacore refuses: {error}", path=path
        ) from error
    invalid(error)
