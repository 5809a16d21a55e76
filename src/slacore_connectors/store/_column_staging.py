"""A column batch's rows as the rows the store stages them in, a column at a time (private).

:func:`stage_columns` gives, for the table of a :class:`~slacore.connector.ColumnBatch`,
exactly what :func:`~slacore_connectors.store._staging.stager` gives for its records, byte for
byte: ``(key, digest, [time_us,] *cells)``, the key's parts joined by U+001F (a time as epoch
microseconds), the cells as SQLite values (times ISO 8601 with their offset as
``datetime.isoformat`` writes them, money as its decimal text, flags 0 or 1, teams and
channels as their values), the digest the BLAKE2b (16 bytes, hex) of the cells' JSON as
``json.dumps`` writes it. The texts are built by Arrow's compute functions; only the digest
is taken row by row (``hashlib``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from json.encoder import encode_basestring_ascii
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from slacore.connector import core_fields
from slacore.connector.column_batch import offset_column
from slacore_connectors.store._tables import _Table

__all__ = ["stage_columns", "staged_table"]

_PLAIN: Final = r"^[ !#-\[\]-~]*$"
"""Text that JSON writes as it is, between quotes: printable ASCII but for ``"`` and ``\\``."""


def _offset_text(offset_us: int) -> str:
    """A UTC offset as ``datetime.isoformat`` ends a time with it (``-04:00``)."""
    zone = timezone(timedelta(microseconds=offset_us))
    return datetime(2000, 1, 1, tzinfo=zone).isoformat()[19:]


def _iso(instants: Any, offsets: Any) -> Any:
    """Times as ``isoformat()`` writes them, of instants and offsets (nulls stay null)."""
    valid = pc.is_valid(instants)
    us = pc.fill_null(pc.cast(instants, pa.int64()), 0).to_numpy()
    off_array = pc.fill_null(pc.cast(offsets, pa.int64()), 0)
    local = us + off_array.to_numpy()
    fraction = local % 1_000_000
    seconds = pa.array((local - fraction) // 1_000_000, type=pa.int64()).cast(pa.timestamp("s"))
    # Arrow writes "2020-07-01 09:00:00" (strftime() is twenty times slower): the T put in.
    day_time = pc.utf8_replace_slice(pc.cast(seconds, pa.string()), 10, 11, "T")
    fractions = pa.array(fraction)
    micro = pc.utf8_lpad(pc.cast(fractions, pa.string()), width=6, padding="0")
    dotted = pc.if_else(pc.equal(fractions, 0), "", pc.binary_join_element_wise(".", micro, ""))
    distinct = pc.unique(off_array)
    texts = pa.array([_offset_text(v) for v in distinct.to_pylist()], type=pa.string())
    suffix = texts.take(pc.index_in(off_array, value_set=distinct))
    joined = pc.binary_join_element_wise(day_time, dotted, suffix, "")
    return pc.if_else(valid, joined, pa.scalar(None, pa.string()))


def _json_text(values: Any) -> Any:
    """Text cells as JSON writes them (``encode_basestring_ascii``); ``null`` for none."""
    plain = pc.fill_null(pc.match_substring_regex(values, _PLAIN), True)
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    if not pc.all(plain).as_py():
        odd = [
            None if v is None or p else encode_basestring_ascii(v)
            for v, p in zip(values.to_pylist(), plain.to_pylist(), strict=True)
        ]
        quoted = pc.if_else(plain, quoted, pa.array(odd, type=pa.string()))
    return pc.fill_null(quoted, "null")


def staged_table(spec: _Table, table: Any) -> Any:
    """The staged rows of ``table`` (a column batch's, of ``spec`` 's stream) as a pyarrow
    table: ``key``, ``digest``, [``time_us``,] then a column per cell named as ``spec`` 's
    columns; one row per key, in the order keys first appear, the later of two rows with
    one key winning (as :func:`stager` does). What :func:`stage_columns` gives as tuples,
    for a store that takes Arrow (DuckDB) without a Python object per cell."""
    fields = core_fields(spec.stream)
    cells: list[Any] = []
    texts: list[Any] = []
    key_text: dict[str, Any] = {}
    for field in fields:
        column = table.column(field.name).combine_chunks()
        if field.kind == "time":
            iso = _iso(column, table.column(offset_column(field.name)).combine_chunks())
            cells.append(iso)
            texts.append(pc.fill_null(pc.binary_join_element_wise('"', iso, '"', ""), "null"))
            key_text[field.name] = pc.cast(pc.cast(column, pa.int64()), pa.string())
        elif field.kind == "boolean":
            ints = pc.cast(column, pa.int64())
            cells.append(ints)
            texts.append(pc.fill_null(pc.cast(ints, pa.string()), "null"))
        else:
            cells.append(column)
            texts.append(_json_text(column))
            key_text[field.name] = column
    rows = pc.binary_join_element_wise(*texts, ",")
    rows = pc.binary_join_element_wise("[", rows, "]", "")
    blake2b = hashlib.blake2b
    digests = pa.array(
        [blake2b(text, digest_size=16).hexdigest() for text in rows.cast(pa.binary()).to_pylist()],
        type=pa.string(),
    )
    parts = [key_text[name] for name in spec.stream.record_type.KEY_FIELDS]
    keys = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    names = ["key", "digest"]
    arrays = [keys, digests]
    if spec.time_column:
        names.append("time_us")
        arrays.append(pc.cast(table.column(spec.time_column), pa.int64()).combine_chunks())
    staged = pa.Table.from_arrays([*arrays, *cells], names=[*names, *spec.columns])
    if len(pc.unique(keys)) == len(keys):  # (count_distinct takes six times as long)
        return staged
    # A key read twice: its first place, its last row (a dict keeps where a key was first
    # put and takes the value put last).
    last = {key: at for at, key in enumerate(keys.to_pylist())}
    return staged.take(pa.array(list(last.values()), type=pa.int64()))


def stage_columns(spec: _Table, table: Any) -> list[tuple[Any, ...]]:
    """The staged rows of ``table`` (a column batch's, of ``spec`` 's stream): key, digest,
    [time in epoch microseconds,] cells; one per key, in the order keys first appear, the
    later of two rows with one key winning (as :func:`stager` does)."""
    if table.num_rows == 0:
        return []
    staged = staged_table(spec, table)
    return list(zip(*(column.to_pylist() for column in staged.columns), strict=True))
