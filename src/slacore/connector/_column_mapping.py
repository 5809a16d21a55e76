"""A :class:`~slacore.connector.RowMapper` 's work done a column at a time (private).

:func:`map_columns` takes a block of rows as Arrow text columns, one per column of the header
(the values as read, not stripped), and gives the table of
:func:`~slacore.connector.column_batch.column_schema` with the mask of the rows it decided:
every value converted and checked exactly as :meth:`RowMapper.map` and the record class would,
and found good. A row it cannot decide (a value these checks do not read, such as a time
without an offset or in a format of ``time_formats``, a value the converter refuses, a
record the model refuses across fields) is left to the caller, who maps it with the row
mapper itself, so that a record refused is refused in the row path's own words.

Each check here is one of the row path's, on many values at once:

- a value is stripped of what ``str.strip()`` strips, and an empty one is missing (an error
  for a required field, the field's default otherwise);
- text with a converter (a stage, a channel, a team, a flag, an amount) is converted once per
  distinct value by the row path's own converter, then the record class's converter and its
  per-value validators (:func:`~slacore._values.identifier`,
  :func:`~slacore._values.non_negative`);
- a time is read here only in the ISO 8601 form ``YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}]`` with
  ``Z`` or ``+HH:MM`` (which ``datetime.fromisoformat`` reads the same), or without an offset
  in the mapping's ``timezone`` (its offset asked of the zone once per distinct hour), and
  must lie in the years the model allows (:func:`~slacore._values.aware`);
- the checks across fields: a hand-off's two teams differ, a won deal has ``closed_at``, a
  deal closes no earlier than it opened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from slacore._column_values import _AFTER_LAST_US, _EARLIEST_US
from slacore._values import flag, identifier, non_negative
from slacore.connector.column_batch import _cell, column_schema, offset_column
from slacore.connector.mapping import RowMapper, core_fields
from slacore.connector.streams import Stream

__all__ = ["map_columns"]

WHITESPACE: Final = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
"""Every character ``str.strip()`` strips (none lies above U+3000)."""

_ISO: Final = (
    r"^(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):"
    r"(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?(?P<tz>Z|(?P<sign>[-+])(?P<oh>[0-9]{2}):"
    r"(?P<om>[0-9]{2}))?$"
)
_SAFE_TIME: Final = "2000-01-01T00:00:00Z"
_PER_VALUE: Final = (identifier, flag, non_negative)
"""The record classes' validators that judge one value alone."""

_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _numbers(parts: Any, name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    return pc.cast(parts.field(name), pa.int64()).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _optional(parts: Any, name: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    # A group that took no part: an empty text (or null), read as 0.
    found = pc.fill_null(parts.field(name), "")
    found = pc.if_else(pc.equal(found, ""), "0", found)
    return pc.cast(found, pa.int64()).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def _flags(values: Any) -> np.ndarray[Any, np.dtype[np.bool_]]:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _text_bytes(text: Any, width: int | None = None) -> Any:
    """The UTF-8 bytes of a ``string`` array without nulls, one row of ``width`` bytes per
    value (``None`` unless every value has that many), or all the values' bytes end to end
    and their offsets when ``width`` is not given."""
    if not isinstance(text, pa.Array) or not pa.types.is_string(text.type):
        return None
    if text.null_count or len(text) == 0 or text.buffers()[2] is None:
        return None
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[
        text.offset : text.offset + len(text) + 1
    ]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    if width is None:
        return data, offsets
    if int(offsets[-1] - offsets[0]) != width * len(text) or (np.diff(offsets) != width).any():
        return None
    return data[offsets[0] : offsets[-1]].reshape(len(text), width)


def _trimmed(values: Any) -> Any:
    """``values`` stripped of what ``str.strip()`` strips: the values themselves when none
    starts or ends with a byte that could begin or end such a character (ASCII white space,
    the separators U+001C to U+001F, anything not ASCII), as is usual."""
    found = _text_bytes(values)
    if found is not None:
        data, offsets = found
        filled = offsets[1:] > offsets[:-1]
        firsts = data[offsets[:-1][filled]]
        lasts = data[offsets[1:][filled] - 1]
        if not (_STRIPPABLE[firsts].any() or _STRIPPABLE[lasts].any()):
            return values
    return pc.utf8_trim(values, characters=WHITESPACE)


_STRIPPABLE: Final = np.zeros(256, dtype=bool)
_STRIPPABLE[[*range(9, 14), *range(0x1C, 0x21), *range(0x80, 0x100)]] = True
"""The bytes a character ``str.strip()`` strips may start or end with, in UTF-8 (a test
checks every one of :data:`WHITESPACE`)."""

_FIXED: Final = "YYYY-MM-DDTHH:MM:SS+HH:MM"
"""The one layout :func:`_fixed_parts` reads: the usual export's (T or a space, + or -)."""
_FIXED_DIGITS: Final = np.array([i for i, c in enumerate(_FIXED) if c.isalpha() and c != "T"])
_FIXED_MARKS: Final = {4: b"-", 7: b"-", 10: b"T ", 13: b":", 16: b":", 19: b"+-", 22: b":"}


def _fixed_parts(text: Any) -> tuple[np.ndarray[Any, np.dtype[np.int64]], ...] | None:
    """Year, month, day, hour, minute, second, fraction, sign, offset hours and minutes of
    times all in :data:`_FIXED` 's layout, read from their bytes (what :data:`_ISO` 's
    groups give them); ``None`` unless every value has that layout."""
    rows = _text_bytes(text, len(_FIXED))
    if rows is None:
        return None
    digits = rows[:, _FIXED_DIGITS].astype(np.int64) - ord("0")
    if ((digits < 0) | (digits > 9)).any():
        return None
    for at, allowed in _FIXED_MARKS.items():
        if not np.isin(rows[:, at], np.frombuffer(allowed, dtype=np.uint8)).all():
            return None

    def number(first: int, count: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        value = digits[:, first]
        for column in range(first + 1, first + count):
            value = value * 10 + digits[:, column]
        return value  # type: ignore[no-any-return]

    # The digits' columns: YYYY MM DD HH MM SS HH MM.
    year, month, day = number(0, 4), number(4, 2), number(6, 2)
    hour, minute, second = number(8, 2), number(10, 2), number(12, 2)
    sign = np.where(rows[:, 19] == ord("-"), -1, 1)
    zero = np.zeros(len(rows), dtype=np.int64)
    return year, month, day, hour, minute, second, zero, sign, number(14, 2), number(16, 2)


def parse_times(
    text: Any, zone: tzinfo | None = None
) -> tuple[Any, Any, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Instants and UTC offsets (microseconds, ``int64`` arrays) of stripped ISO times, and
    whether each was read: a value of another form, or not a valid time, or outside the
    model's years, is not (its instant and offset are then 0). A time without an offset is
    in ``zone`` (at its first occurrence, as ``datetime.replace(tzinfo=zone)`` puts it), or
    not read without one."""
    fixed = _fixed_parts(text)
    if fixed is not None:
        # Every value in the usual layout (with an offset): the same figures, from the bytes.
        year, month, day, hour, minute, second, micro, sign, off_h, off_m = fixed
        matched = np.ones(len(year), dtype=bool)
        naive = np.zeros(len(year), dtype=bool)
    else:
        year, month, day, hour, minute, second, micro, sign, off_h, off_m, matched, naive = (
            _regex_parts(text)
        )
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    days_in = _DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok = (
        matched
        & (year >= 1)
        & month_ok
        & (day >= 1)
        & (day <= days_in)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
        & (off_h <= 23)
        & (off_m <= 59)
    )
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    offset = sign * (off_h * 3600 + off_m * 60) * 1_000_000
    local = ((days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000) + micro
    if naive.any():
        if zone is None:
            ok &= ~naive
        else:
            zoned, known = _zone_offsets(local[naive & ok], zone)
            where = np.flatnonzero(naive & ok)
            offset[where] = zoned
            ok[where[~known]] = False
    us = local - offset
    ok &= (us >= _EARLIEST_US) & (us < _AFTER_LAST_US)
    us = np.where(ok, us, 0)
    offset = np.where(ok, offset, 0)
    return us, offset, ok


def _regex_parts(text: Any) -> tuple[np.ndarray[Any, Any], ...]:
    """:func:`parse_times` 's figures of times in any form :data:`_ISO` reads: year, month,
    day, hour, minute, second, microseconds, sign, offset hours and minutes, whether each
    value matched, and whether it has no offset (0 and unmatched for a value of another
    form)."""
    good = pc.fill_null(pc.match_substring_regex(text, _ISO), False)
    safe = pc.if_else(good, text, _SAFE_TIME)
    parts = pc.extract_regex(safe, _ISO)
    year, month, day = (_numbers(parts, n) for n in ("y", "mo", "d"))
    hour, minute, second = (_numbers(parts, n) for n in ("h", "mi", "s"))
    fraction = pc.utf8_rpad(pc.fill_null(parts.field("f"), ""), width=6, padding="0")
    micro = pc.cast(fraction, pa.int64()).to_numpy(zero_copy_only=False)
    sign = np.where(_flags(pc.equal(parts.field("sign"), "-")), -1, 1)
    off_h, off_m = _optional(parts, "oh"), _optional(parts, "om")
    matched = np.asarray(good.to_numpy(zero_copy_only=False), dtype=bool)
    naive = ~_flags(pc.not_equal(parts.field("tz"), ""))
    return year, month, day, hour, minute, second, micro, sign, off_h, off_m, matched, naive


_HOUR: Final = 3_600_000_000
_LOCAL_EPOCH: Final = datetime(1970, 1, 1)


def _zone_offsets(
    local: np.ndarray[Any, np.dtype[np.int64]], zone: tzinfo
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """The UTC offsets (microseconds) ``zone`` gives wall times (local microseconds since
    1970), and which were found: asked once per distinct hour, at its first and its last
    microsecond; an hour in which the offset changes is not found (its times are left to
    the row path)."""
    hours, inverse = np.unique(local // _HOUR, return_inverse=True)
    offsets = np.zeros(len(hours), dtype=np.int64)
    found = np.zeros(len(hours), dtype=bool)
    last = timedelta(microseconds=_HOUR - 1)
    for index, hour in enumerate(hours.tolist()):
        start = _LOCAL_EPOCH + timedelta(hours=hour)
        before = start.replace(tzinfo=zone).utcoffset()
        after = (start + last).replace(tzinfo=zone).utcoffset()
        if before is not None and before == after:
            offsets[index] = before // timedelta(microseconds=1)
            found[index] = True
    return offsets[inverse], found[inverse]


def _validators(field: attrs.Attribute[Any]) -> tuple[Any, ...]:
    return tuple(getattr(field.validator, "_validators", (field.validator,)))


def _per_value(
    convert: Callable[[object], object] | None, field: attrs.Attribute[Any]
) -> Callable[[str], Any]:
    """The row path's conversion and the class's checks of one stripped value, as a cell."""
    model_convert: Callable[[Any], Any] | None = field.converter  # type: ignore[assignment]
    checks = [v for v in _validators(field) if v in _PER_VALUE]

    def cell(text: str) -> Any:
        value: Any = text if convert is None else convert(text)
        if model_convert is not None:
            value = model_convert(value)
        for check in checks:
            check(None, field, value)
        return _cell(value)

    return cell


_UNDECIDED = object()


def _mapped(text: Any, per_value: Callable[[str], Any], kind: Any) -> tuple[Any, Any]:
    """Each distinct value converted once: the cells, and which rows failed."""
    distinct = pc.unique(text)
    cells: list[Any] = []
    failed: list[bool] = []
    for value in distinct.to_pylist():
        try:
            cells.append(per_value(value))
            failed.append(False)
        except Exception:  # the row path raises it again, in its own words
            cells.append(None)
            failed.append(True)
    where = pc.index_in(text, value_set=distinct)
    values = pa.array(cells, type=kind).take(where)
    bad = pa.array(failed, type=pa.bool_()).take(where)
    return values, bad.to_numpy(zero_copy_only=False)


def map_columns(
    mapper: RowMapper, columns: Mapping[int, Any], rows: int, *, zone: tzinfo | None = None
) -> tuple[Any, np.ndarray[Any, np.dtype[np.bool_]]]:
    """The table of the rows (``column_schema(mapper.stream)``) and which rows it decided.

    Args:
        mapper: The row mapper of the rows' header.
        columns: The header's columns the mapper reads, by position: Arrow ``string``
            arrays of the values as read, no nulls.
        rows: How many rows.
        zone: The zone of times without an offset (the mapping's ``timezone``).

    Returns:
        The table (a row the mask says is undecided holds no meaningful values) and the
        mask of the rows decided, a numpy ``bool`` array.

    """
    stream: Stream = mapper.stream
    record_type = stream.record_type
    model = attrs.fields_dict(record_type)
    schema = column_schema(stream)
    kinds = {field.name: field.kind for field in core_fields(stream)}
    ok = np.ones(rows, dtype=bool)
    arrays: dict[str, Any] = {}
    for name, index, _column, convert, required in mapper.slots:
        field = model[name]
        text = _trimmed(columns[index])
        empty = pc.equal(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False)
        if required:
            ok &= ~empty
        default = None if required else _cell(field.default)
        kind = kinds[name]
        if kind == "time":
            us, offset, parsed = parse_times(text, zone)
            ok &= parsed | empty
            missing = empty if empty.any() else None
            arrays[name] = pa.array(us, type=pa.int64(), mask=missing).cast(schema.field(name).type)
            arrays[offset_column(name)] = pa.array(offset, mask=missing).cast(pa.duration("us"))
            continue
        target = schema.field(name).type
        if convert is None and field.converter is None:
            # Plain text: a non-empty stripped value passes identifier() as it is.
            values = text
        else:
            values, bad = _mapped(text, _per_value(convert, field), target)
            ok &= ~bad | empty
        if empty.any():
            values = pc.if_else(pa.array(empty), pa.scalar(default, type=target), values)
        arrays[name] = values
    for core in core_fields(stream):
        if core.name not in arrays:  # not mapped: the class's default on every row
            default = _cell(model[core.name].default)
            target = schema.field(core.name).type
            arrays[core.name] = pa.array([default] * rows, type=target)
            if core.kind == "time":
                arrays[offset_column(core.name)] = pa.nulls(rows, pa.duration("us"))
    ok &= _across(stream, arrays)
    table = pa.Table.from_arrays([arrays[f.name].cast(f.type) for f in schema], schema=schema)
    return table, ok


def _across(stream: Stream, arrays: Mapping[str, Any]) -> Any:
    """The record class's checks across fields, per row (``True``: passed)."""
    if stream is Stream.HANDOFFS:
        same = pc.fill_null(pc.equal(arrays["from_team"], arrays["to_team"]), False)
        return ~same.to_numpy(zero_copy_only=False)
    if stream is Stream.DEALS:
        closed = arrays["closed_at"]
        won = pc.fill_null(arrays["won"], False)
        open_won = pc.and_(won, pc.is_null(closed))
        early = pc.fill_null(pc.less(closed, arrays["opened_at"]), False)
        return ~pc.or_(open_won, early).to_numpy(zero_copy_only=False)
    return True
