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

import numpy as np
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


_MINUTE_US: Final = 60_000_000
_DAY_US: Final = 86_400_000_000


def _iso_whole_seconds(local: Any, offset: Any) -> Any:
    """``_iso`` 's texts of times none of which is null or has a fraction of a second, all
    in the years 1 to 9999 with offsets of whole minutes under a day, as a ``string`` array
    of 25 bytes a value (``2020-07-01T09:00:00-04:00``) written with numpy; ``None`` when one
    is not."""
    if (
        (local % 1_000_000).any()
        or (offset % _MINUTE_US).any()
        or (np.abs(offset) >= _DAY_US).any()
    ):
        return None
    seconds = local // 1_000_000
    days, second = np.divmod(seconds, 86400)
    # The civil date of a day count since 1970-01-01 (H. Hinnant's civil_from_days).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    if ((year < 1) | (year > 9999)).any():
        return None
    minutes = np.abs(offset) // _MINUTE_US
    out = np.empty((len(local), 25), dtype=np.uint8)
    for at, value, width in (
        (0, year, 4),
        (5, month, 2),
        (8, day, 2),
        (11, second // 3600, 2),
        (14, second // 60 % 60, 2),
        (17, second % 60, 2),
        (20, minutes // 60, 2),
        (23, minutes % 60, 2),
    ):
        for place in range(width - 1, -1, -1):
            out[:, at + place] = value % 10 + ord("0")
            value = value // 10
    for at, mark in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":"), (22, ":")):
        out[:, at] = ord(mark)
    out[:, 19] = np.where(offset < 0, ord("-"), ord("+"))
    ends = np.arange(0, 25 * (len(local) + 1), 25, dtype=np.int32)
    return pa.StringArray.from_buffers(len(local), pa.py_buffer(ends), pa.py_buffer(out))


def _iso(instants: Any, offsets: Any) -> Any:
    """Times as ``isoformat()`` writes them, of instants and offsets (nulls stay null)."""
    valid = pc.is_valid(instants)
    us = pc.fill_null(pc.cast(instants, pa.int64()), 0).to_numpy()
    off_array = pc.fill_null(pc.cast(offsets, pa.int64()), 0)
    local = us + off_array.to_numpy()
    if instants.null_count == 0 and len(local):
        written = _iso_whole_seconds(local, off_array.to_numpy())
        if written is not None:
            return written
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


_JSON_PLAIN: Final = np.zeros(256, dtype=bool)
_JSON_PLAIN[[c for c in range(0x20, 0x7F) if c not in b'"\\']] = True
"""The bytes :data:`_PLAIN` allows, for a check of a whole column's bytes at once."""


def _all_plain(values: Any) -> bool:
    """Whether every value of a ``string`` array (no nulls) is :data:`_PLAIN` text, by its
    bytes."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    if len(values) == 0 or offsets[-1] == offsets[0]:
        return True
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return bool(_JSON_PLAIN[data].all())


def _row_parts(field_kind: str, cells: Any) -> list[Any]:
    """The parts of the cells' JSON texts (``binary_join_element_wise`` 's operands: the
    cells themselves between quotes where that is their text, as is usual)."""
    if field_kind == "time":
        if cells.null_count == 0:
            return ['"', cells, '"']
        return [pc.fill_null(pc.binary_join_element_wise('"', cells, '"', ""), "null")]
    if field_kind == "boolean":
        return [pc.fill_null(pc.cast(cells, pa.string()), "null")]
    if cells.null_count == 0 and pa.types.is_string(cells.type) and _all_plain(cells):
        return ['"', cells, '"']
    return [_json_text(cells)]


def _joined(parts: list[Any]) -> Any:
    """The texts of ``parts`` (texts and text arrays) end to end, by row; the texts next to
    each other joined first."""
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return pc.binary_join_element_wise(*merged, "")


def staged_table(spec: _Table, table: Any) -> Any:
    """The staged rows of ``table`` (a column batch's, of ``spec`` 's stream) as a pyarrow
    table: ``key``, ``digest``, [``time_us``,] then a column per cell named as ``spec`` 's
    columns; one row per key, in the order keys first appear, the later of two rows with
    one key winning (as :func:`stager` does). What :func:`stage_columns` gives as tuples,
    for a store that takes Arrow (DuckDB) without a Python object per cell."""
    fields = core_fields(spec.stream)
    cells: list[Any] = []
    parts: list[Any] = ["["]
    key_text: dict[str, Any] = {}
    for field in fields:
        column = table.column(field.name).combine_chunks()
        if field.kind == "time":
            cell = _iso(column, table.column(offset_column(field.name)).combine_chunks())
            key_text[field.name] = pc.cast(pc.cast(column, pa.int64()), pa.string())
        elif field.kind == "boolean":
            cell = pc.cast(column, pa.int64())
        else:
            cell = column
            key_text[field.name] = column
        cells.append(cell)
        parts += [*([","] if len(parts) > 1 else []), *_row_parts(field.kind, cell)]
    # The JSON text of each row's cells, as json.dumps writes the list.
    rows = _joined([*parts, "]"])
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
