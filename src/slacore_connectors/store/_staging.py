"""A batch's records as the rows the store stages them in (private to the store).

Each record becomes ``(key, digest, [time_us,] *cells)``: its natural key as one text, the
digest of its cells, its main time in epoch microseconds (reps have none), then its fields
as SQLite values. This is the per-record work of a sync's writing, so it is done with what
is looked up once per table, not once per record; and it must give, byte for byte, what
earlier slacores stored (a key or digest that changed would make the first sync after an
upgrade take every stored record again as new or changed):

- the key is :func:`~slacore_connectors.store._tables._key` of the record's natural key;
- the cells are :func:`~slacore_connectors.store._tables._to_cell` of its fields;
- the digest is the BLAKE2b (16 bytes, hex) of ``json.dumps(cells, separators=(",", ":"))``,
  which :func:`row_json` writes without building a JSON encoder for every record.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any

from slacore.connector import RejectedRecord
from slacore_connectors.store._tables import _key, _Table, _to_cell, _us

__all__ = ["rejected_record", "rejected_rows", "row_json", "stager"]

_CELLS: dict[type, Callable[[Any], Any] | None] = {
    str: None,
    int: None,
    type(None): None,
    datetime: datetime.isoformat,
    Decimal: str,
    bool: int,
}
"""The cell of a value of each exact type, as :func:`_to_cell` makes it (``None``: the value
itself); a value of another type (an enum, a subclass) goes through :func:`_to_cell`."""

_JSON: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    type(None): lambda _: "null",
}
"""How ``json.dumps`` writes a cell of each exact type (ASCII only, as its default)."""


def row_json(cells: Sequence[Any]) -> str:
    """``json.dumps(cells, separators=(",", ":"))``, the same text, about ten times faster.

    A cell of a type other than text, integer or ``None`` (none of the model's fields has
    one today) is left to ``json.dumps`` itself.

    >>> row_json(("L1", None, 3, 'a "b" é'))
    '["L1",null,3,"a \\\\"b\\\\" \\\\u00e9"]'
    """
    try:
        return "[" + ",".join([_JSON[type(cell)](cell) for cell in cells]) + "]"
    except KeyError:
        return json.dumps(cells, separators=(",", ":"))


def _cell_of(kind: type) -> Callable[[Any], Any] | None:
    """How a value of type ``kind`` becomes its cell (``None``: it is its own cell)."""
    if kind in _CELLS:
        return _CELLS[kind]
    if issubclass(kind, enum.Enum) and not issubclass(kind, datetime | Decimal | bool):
        # What _to_cell gives an enum, its value: looked up by member (Enum.value is a
        # property, about ten times slower), or asked for a member not listed (a Flag's).
        values = {member: member.value for member in kind}

        def value(member: enum.Enum) -> Any:
            try:
                return values[member]
            except KeyError:
                return member.value

        return value
    return _to_cell


@functools.cache
def stager(table: _Table) -> Callable[[Iterable[Any]], dict[str, tuple[Any, ...]]]:
    """A function that stages a batch's records of ``table``: key -> staged row, in the
    order keys first appear, the later of two records with one key winning."""
    names = table.columns
    values = operator.attrgetter(*names) if len(names) > 1 else (lambda r: (getattr(r, names[0]),))
    keys = [names.index(name) for name in table.stream.record_type.KEY_FIELDS]
    timed = table.time_column != ""
    time_at = names.index(table.time_column) if timed else -1
    cell_of: dict[type, Callable[[Any], Any] | None] = {}  # filled as types are met
    blake2b = hashlib.blake2b

    def part(value: Any) -> str:
        # One part of a key, as _key writes it (a time as epoch microseconds).
        return value if type(value) is str else _key(value)

    def stage(records: Iterable[Any]) -> dict[str, tuple[Any, ...]]:
        staged: dict[str, tuple[Any, ...]] = {}
        for record in records:
            fields = values(record)
            cells = []
            for value in fields:
                kind = type(value)
                convert = (
                    cell_of[kind] if kind in cell_of else cell_of.setdefault(kind, _cell_of(kind))
                )
                cells.append(value if convert is None else convert(value))
            hashed = blake2b(row_json(cells).encode(), digest_size=16).hexdigest()
            if timed:
                us = _us(fields[time_at])
                key = "\x1f".join([str(us) if i == time_at else part(fields[i]) for i in keys])
                staged[key] = (key, hashed, us, *cells)
            else:
                key = "\x1f".join([part(fields[i]) for i in keys])
                staged[key] = (key, hashed, *cells)
        return staged

    return stage


def rejected_rows(
    source_name: str, rejected: Sequence[RejectedRecord], run_id: int, seen: int
) -> list[tuple[Any, ...]]:
    """The rows of the table ``rejected`` for a batch's rejected records: ``(source_name,
    stream, origin, line, record_id, field, reason, raw, first_run, last_run, first_seen,
    last_seen, identity)``; ``identity`` (stream, origin, line, record id and raw record as
    JSON) is what makes a rejection seen again the same one."""
    rows = []
    for item in rejected:
        data = item.to_dict()
        identity = json.dumps(
            [data["stream"], data["source"], data["line"], data["record_id"], data["raw"]],
            sort_keys=True,
        )
        rows.append(
            (
                source_name,
                data["stream"],
                data["source"],
                data["line"],
                data["record_id"],
                data["field"],
                data["reason"],
                json.dumps(data["raw"], sort_keys=True),
                run_id,
                run_id,
                seen,
                seen,
                identity,
            )
        )
    return rows


def rejected_record(row: Mapping[str, Any]) -> RejectedRecord:
    """The rejected record of a row of the table ``rejected`` (by column name)."""
    return RejectedRecord(
        stream=row["stream"],
        reason=row["reason"],
        source=row["origin"],
        line=row["line"],
        record_id=row["record_id"],
        field=row["field"],
        raw=json.loads(row["raw"]),
    )
