"""Reading one column of a table given to the column path (:mod:`slacore.columns`): plain
values as a numpy array, flags, and aware times as integer microseconds (:class:`TimeColumn`),
each problem a :class:`~slacore.errors.ValidationError` naming the table, the column and the row.

Private: :mod:`slacore.columns` is the public face (it exports :class:`TimeColumn`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.errors import ValidationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_EARLIEST_US = (datetime(FIRST_YEAR, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
_AFTER_LAST_US = (datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
_UNITS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": -1_000}
"""Microseconds per unit of an Arrow or numpy time unit (negative: units per microsecond)."""


@attrs.frozen(eq=False)
class TimeColumn:
    """A column of aware times as integer microseconds since the Unix epoch (UTC).

    Attributes:
        us: The instants, an ``int64`` array.
        zone: The column's time zone (Arrow and pandas columns have one), or ``None`` when the
            times were given as ``datetime`` objects, each with a zone of its own.
        given: The ``datetime`` objects as given, when given so; ``None`` otherwise.

    """

    us: np.ndarray[Any, np.dtype[np.int64]]
    zone: tzinfo | None = None
    given: np.ndarray[Any, np.dtype[np.object_]] | None = None

    def at(self, row: int) -> datetime:
        """The time at ``row``: as given, or the instant in the column's zone."""
        if self.given is not None:
            value: datetime = self.given[row]
            return value
        instant = _EPOCH + int(self.us[row]) * _ONE_US
        return instant if self.zone is UTC else instant.astimezone(self.zone)


def _error(
    table: str, column: str, row: int | None, message: str, value: object = None
) -> NoReturn:
    where = "" if row is None else f"row {row}: "
    raise ValidationError(message=where + message, field=f"{table}.{column}", value=value)


def _is_arrow(column: object) -> bool:
    return type(column).__module__.startswith("pyarrow") and hasattr(column, "null_count")


def _is_pandas(column: object) -> bool:
    return type(column).__module__.startswith("pandas") and hasattr(column, "dtype")


def _missing(value: object) -> bool:
    """Whether ``value`` stands for no value: ``None``, NaN, pandas' ``NA`` or ``NaT``."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def _objects(column: object, table: str, name: str) -> np.ndarray[Any, Any]:
    """A column of values that are not times as a one-dimensional numpy array."""
    if _is_arrow(column):
        kind = getattr(column, "type", None)
        if kind is not None and hasattr(kind, "value_type"):  # dictionary-encoded
            column = column.cast(kind.value_type)  # type: ignore[attr-defined]
        array = column.to_numpy(zero_copy_only=False)  # type: ignore[attr-defined]
    elif _is_pandas(column):
        dtype = column.dtype  # type: ignore[attr-defined]
        array = column.to_numpy(dtype=bool if dtype.kind == "b" else object)  # type: ignore[attr-defined]
    elif isinstance(column, np.ndarray):
        array = column
    elif isinstance(column, Sequence) and not isinstance(column, str | bytes):
        array = np.empty(len(column), dtype=object)
        array[:] = list(column)
    else:
        _error(table, name, None, f"expected a column (array or list), got {type(column).__name__}")
    array = np.asarray(array)
    if array.ndim != 1:
        _error(table, name, None, f"expected a one-dimensional column, got shape {array.shape}")
    return array


def _booleans(array: np.ndarray[Any, Any], table: str, name: str) -> np.ndarray[Any, Any]:
    if array.dtype == bool:
        return array
    if array.dtype == object:
        for row, value in enumerate(array.tolist()):
            if not isinstance(value, bool):
                _error(table, name, row, f"expected True or False, got {value!r}", value)
        return array.astype(bool)
    _error(table, name, 0, f"expected True or False, got a column of {array.dtype}")


def _zone(value: object) -> tzinfo:
    """A zone object of the standard library for an Arrow or pandas column's time zone."""
    if isinstance(value, ZoneInfo | timezone):
        return value
    key = getattr(value, "key", None) or getattr(value, "zone", None) or str(value)
    if key in ("UTC", "utc", "Etc/UTC", "Z", "+00:00"):
        return UTC
    if key[:1] in "+-":
        sign = -1 if key[0] == "-" else 1
        hours, _, minutes = key[1:].partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    return ZoneInfo(key)


def _scaled(raw: np.ndarray[Any, Any], unit: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Times in ``unit`` as microseconds; a value too large for them is held at the largest
    (outside the years a time may have: the range check names its row)."""
    factor = _UNITS[unit]
    ints = raw.astype(np.int64, copy=False)
    if factor > 1:
        limit = np.iinfo(np.int64).max // factor
        clipped: np.ndarray[Any, np.dtype[np.int64]] = np.clip(ints, -limit, limit)
        return clipped * factor
    return ints * factor if factor > 0 else ints // -factor


def _naive(table: str, name: str, kind: str) -> NoReturn:
    _error(
        table,
        name,
        0,
        f"expected timezone-aware times, got a naive {kind} column "
        "(give the column a zone, e.g. pandas' .dt.tz_localize('America/New_York'))",
    )


def _times(column: object, table: str, name: str, *, required: bool) -> TimeColumn:
    """A time column as epoch microseconds, with its zone or its datetimes as given."""
    if _is_arrow(column):
        kind = column.type  # type: ignore[attr-defined]
        unit = getattr(kind, "unit", None)
        if not isinstance(unit, str) or not hasattr(kind, "tz"):
            _error(table, name, 0, f"expected aware times, got an Arrow column of {kind}")
        if kind.tz is None:
            _naive(table, name, "Arrow timestamp")
        if column.null_count:  # type: ignore[attr-defined]
            row = column.is_null().to_pylist().index(True)  # type: ignore[attr-defined]
            _error(table, name, row, "a time is required, got none")
        raw = column.cast("int64").to_numpy()  # type: ignore[attr-defined]
        result = TimeColumn(us=_scaled(raw, unit), zone=_zone(kind.tz))
    elif (
        _is_pandas(column)
        and getattr(column, "dtype", None) is not None
        and (
            column.dtype.kind == "M"  # type: ignore[attr-defined]
        )
    ):
        zone = getattr(column.dtype, "tz", None)  # type: ignore[attr-defined]
        if zone is None:
            _naive(table, name, "pandas datetime64")
        utc = column.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()  # type: ignore[attr-defined]
        result = _from_datetime64(utc, table, name, zone=_zone(zone))
    else:
        array = _objects(column, table, name)
        if array.dtype.kind == "M":
            _naive(table, name, "numpy datetime64")
        if array.dtype != object:
            _error(table, name, 0, f"expected aware datetimes, got a column of {array.dtype}")
        result = _from_objects(array, table, name)
    us = result.us
    if len(us):
        bad = np.flatnonzero((us < _EARLIEST_US) | (us >= _AFTER_LAST_US))
        if len(bad):
            row = int(bad[0])
            try:
                shown = result.at(row).isoformat()
            except OverflowError:  # past what a datetime holds
                shown = f"{int(us[row])} microseconds after 1970"
            _error(
                table,
                name,
                row,
                f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR} (in UTC), got {shown}",
            )
    return result


def _from_datetime64(
    utc: np.ndarray[Any, Any], table: str, name: str, *, zone: tzinfo
) -> TimeColumn:
    missing = np.isnat(utc)
    if missing.any():
        _error(table, name, int(np.flatnonzero(missing)[0]), "a time is required, got none")
    unit = np.datetime_data(utc.dtype)[0]
    if unit not in _UNITS:
        utc, unit = utc.astype("datetime64[us]"), "us"
    return TimeColumn(us=_scaled(utc.view(np.int64), unit), zone=zone)


def _from_objects(array: np.ndarray[Any, Any], table: str, name: str) -> TimeColumn:
    items = array.tolist()
    try:
        # Subtracting an aware datetime fails for anything naive or not a time: the fast
        # path needs no check per item.
        us = [(at - _EPOCH) // _ONE_US for at in items]
    except TypeError:
        for row, at in enumerate(items):
            if not isinstance(at, datetime):
                message = (
                    "a time is required, got none"
                    if _missing(at)
                    else f"expected a timezone-aware datetime, got {type(at).__name__} {at!r}"
                )
                _error(table, name, row, message, at)
            if at.utcoffset() is None:
                _error(
                    table,
                    name,
                    row,
                    f"expected a timezone-aware datetime, got naive {at.isoformat()}",
                    at,
                )
        raise
    return TimeColumn(us=np.asarray(us, dtype=np.int64), given=array)


_VISIBLE_FIRST, _VISIBLE_LAST = 0x21, 0x7E
"""Printable ASCII other than the space: no definition of white space counts these."""


def visible_starts(array: Any) -> bool:
    """Whether every value of the Arrow ``string`` or ``large_string`` array ``array`` that
    is not null begins with a printable ASCII character other than the space (``!`` to
    ``~``): then none is empty or all white space, by any definition of white space.

    Read from the array's offsets and first bytes with numpy, with no work per value: the
    cheap proof, for the ids of a million rows, that a test per value (a regular
    expression, a trim) would pass every one. ``False`` means only that the proof failed.
    """
    kind = str(array.type)
    if kind not in ("string", "large_string", "utf8", "large_utf8"):
        return False
    size = len(array)
    if size == 0:
        return True
    _, offsets_buffer, data = array.buffers()
    width = np.int64 if kind.startswith("large") else np.int32
    offsets: np.ndarray[Any, Any] = np.frombuffer(
        offsets_buffer, dtype=width, count=size + 1, offset=array.offset * np.dtype(width).itemsize
    )
    starts = offsets[:-1]
    filled = np.diff(offsets) > 0
    if data is None or data.size == 0:
        good = np.zeros(size, dtype=bool)
    else:
        text = np.frombuffer(data, dtype=np.uint8)
        every = bool(filled.all())
        first = text[starts if every else np.minimum(starts, data.size - 1)]
        # One unsigned comparison: bytes below "!" wrap round to above "~" - "!".
        good = (first - np.uint8(_VISIBLE_FIRST)) <= np.uint8(_VISIBLE_LAST - _VISIBLE_FIRST)
        if not every:
            good &= filled
    if array.null_count:
        good |= ~np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return bool(good.all())
