"""Reading and writing a calendar's settings: weekly hours, overrides, holidays, time zone.

The converters behind :class:`~slacore.calendar.BusinessCalendar`'s fields: each takes what a
caller (or an agreement file) gives and returns the canonical form the calendar holds
(``"09:00-17:00"``, ``"closed"``, sorted dates, ``"US-NY"``), or raises a
:class:`~slacore.errors.ValidationError` that names the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slacore.errors import ValidationError

Span: TypeAlias = tuple[int, int]
"""Open from ``start`` to ``end`` minutes after a day's local midnight; ``end`` may pass 1440."""

DaySpec: TypeAlias = str | Sequence[str] | None
"""One day's hours: ``"09:00-17:00"``, ``"09:00-12:00, 13:00-17:00"``, a list, or closed."""

HolidaySpec: TypeAlias = str | date | Iterable[str | date] | None
"""Country codes (``"US"``, ``"GB-ENG"``) and/or closed dates (``date`` or ISO strings)."""

OverrideSpec: TypeAlias = (
    Mapping[str, DaySpec]
    | Mapping[date, DaySpec]
    | Mapping[date | str, DaySpec]
    | Iterable[tuple[date | str, DaySpec]]
    | None
)
"""Per-date hours: ``{"2026-12-24": "09:00-13:00"}`` (keys ``date`` or ISO strings)."""

_DAY = 1440
_WEEK = 7 * _DAY

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_KEYS = tuple(name.lower() for name in _DAY_NAMES)
_DAY_INDEX: dict[str, int] = {
    **{key: index for index, key in enumerate(_DAY_KEYS)},
    **{
        name: index
        for index, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
}
_CLOSED = "closed"
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOURS_EXAMPLE = "{'mon-fri': '09:00-17:00'}"


# --- parsing the hours --------------------------------------------------------------------------


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _format_span(span: Span) -> str:
    start, end = span
    # An end past midnight is written as the next morning's clock time: "22:00-06:00".
    return f"{_clock(start)}-{_clock(end - _DAY if end > _DAY else end)}"


def _format_spans(spans: Sequence[Span]) -> str:
    return ", ".join(_format_span(span) for span in spans) if spans else _CLOSED


def _parse_span(text: str, field: str) -> Span:
    match = _SPAN.match(text)
    if match is None:
        raise ValidationError(
            message=f'expected working hours like "09:00-17:00", got {text!r}',
            field=field,
            value=text,
        )
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if start_h > 23 or start_m > 59:
        raise ValidationError(
            message=f"{text!r}: an opening time runs from 00:00 to 23:59", field=field, value=text
        )
    if end_h > 24 or end_m > 59 or (end_h == 24 and end_m):
        raise ValidationError(
            message=f"{text!r}: a closing time runs from 00:00 to 24:00", field=field, value=text
        )
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start == end:
        raise ValidationError(
            message=f"{text!r} opens and closes at the same time (a whole day is 00:00-24:00)",
            field=field,
            value=text,
        )
    if end < start:
        end += _DAY  # closes the next morning: a night shift
    return start, end


def _parse_day(value: DaySpec, field: str) -> tuple[Span, ...]:
    """Parse one day's hours into sorted spans; ``()`` when closed.

    Raises:
        ValidationError: Not hours, or two intervals of the day overlap.

    """
    if value is None:
        return ()
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        parts = [part for item in value for part in item.split(",")]
    else:
        raise ValidationError(
            message=f'expected hours like "09:00-17:00" or a list of them, got {value!r}',
            field=field,
            value=value,
        )
    texts = [part.strip() for part in parts]
    if all(not text for text in texts) or [text.lower() for text in texts] == [_CLOSED]:
        return ()
    spans = sorted(_parse_span(text, field) for text in texts)
    for first, second in pairwise(spans):
        if second[0] < first[1]:
            raise ValidationError(
                message=f"{_format_span(first)} overlaps {_format_span(second)}",
                field=field,
                value=value,
            )
    return tuple(spans)


def _parse_weekdays(key: str, field: str) -> list[int]:
    """Weekday numbers (Monday 0) of ``"mon"``, ``"mon-fri"``, ``"fri-mon"``, ``"mon, wed"``."""
    days: list[int] = []
    for part in key.lower().split(","):
        text = part.strip()
        if text in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[text])
            continue
        first, dash, last = (piece.strip() for piece in text.partition("-"))
        ends = [first, last] if dash else [first]
        unknown = [name for name in ends if name not in _DAY_INDEX]
        if unknown:
            raise ValidationError(
                message=(
                    f"unknown weekday {unknown[0]!r} in {key!r} "
                    '(use "mon".."sun", full names or ranges like "mon-fri")'
                ),
                field=field,
                value=key,
            )
        start = _DAY_INDEX[first]
        stop = _DAY_INDEX[last] if dash else start
        # A range may wrap past Sunday: "fri-mon" is Friday to Monday.
        days.extend((start + step) % 7 for step in range((stop - start) % 7 + 1))
    return days


def _check_week(week: Sequence[tuple[Span, ...]]) -> None:
    """Reject a night shift that runs into the next day's hours (Sunday wraps to Monday)."""
    placed: list[tuple[int, int, int, Span]] = []
    for day, spans in enumerate(week):
        for span in spans:
            start, end = day * _DAY + span[0], day * _DAY + span[1]
            placed.append((start, end, day, span))
            if end > _WEEK:
                placed.append((start - _WEEK, end - _WEEK, day, span))
    placed.sort()
    for first, second in pairwise(placed):
        if second[0] < first[1]:
            raise ValidationError(
                message=(
                    f"{_DAY_NAMES[first[2]]} {_format_span(first[3])} overlaps "
                    f"{_DAY_NAMES[second[2]]} {_format_span(second[3])}"
                ),
                field="hours",
            )


def _week_hours(value: Mapping[str, DaySpec] | Sequence[str]) -> tuple[str, ...]:
    """Normalise ``hours`` to seven canonical strings, Monday first (``"closed"`` if closed).

    Accepts the mapping form (``{"mon-fri": "09:00-17:00", "sat": "10:00-14:00"}``; days not
    named are closed) or seven day strings, Monday first (the form the attribute holds).
    """
    week: list[tuple[Span, ...] | None] = [None] * 7
    if isinstance(value, Mapping):
        for key, spec in value.items():
            if not isinstance(key, str):
                raise ValidationError(
                    message=f"expected a weekday or range like 'mon-fri', got {key!r}",
                    field="hours",
                    value=key,
                )
            field = f"hours.{key}"
            spans = _parse_day(spec, field)
            for day in _parse_weekdays(key, field):
                if week[day] is not None:
                    raise ValidationError(
                        message=f"{_DAY_NAMES[day]} is given more than once",
                        field=field,
                        value=key,
                    )
                week[day] = spans
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:
        week = [_parse_day(spec, f"hours.{_DAY_KEYS[day]}") for day, spec in enumerate(value)]
    else:
        raise ValidationError(
            message=f"expected a mapping of weekdays to hours like {_HOURS_EXAMPLE}, got {value!r}",
            field="hours",
            value=value,
        )
    full = [spans or () for spans in week]
    _check_week(full)
    return tuple(_format_spans(spans) for spans in full)


def _to_day(value: object, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(
        message=f"expected a date like 2026-12-24, got {value!r}", field=field, value=value
    )


def _overrides(value: OverrideSpec) -> tuple[tuple[date, str], ...]:
    """Normalise ``overrides`` to sorted ``(date, canonical hours)`` pairs."""
    if value is None:
        return ()
    pairs = value.items() if isinstance(value, Mapping) else value
    found: dict[date, str] = {}
    for key, spec in pairs:
        day = _to_day(key, "overrides")
        if day in found:
            raise ValidationError(
                message=f"{day.isoformat()} is given more than once", field="overrides", value=key
            )
        found[day] = _format_spans(_parse_day(spec, f"overrides.{day.isoformat()}"))
    return tuple(sorted(found.items()))


# --- holidays -----------------------------------------------------------------------------------


def _country_holidays(country: str, subdiv: str | None, year: int | None) -> frozenset[date]:
    """The holiday dates of ``country`` (and ``subdiv``) in ``year``; none when ``year`` is None.

    Raises:
        NotImplementedError: The ``holidays`` package has no such country or subdivision.

    """
    # Imported here: the package's country data costs about 0.1 s to import, paid only by
    # calendars that use it.
    import holidays as holiday_data

    found = holiday_data.country_holidays(
        country, subdiv=subdiv, years=[] if year is None else year
    )
    return frozenset(found.keys())


def _country_spec(text: str) -> str:
    """Validate a country code with optional subdivision; return it canonical (``"US-NY"``)."""
    country, _, subdiv = (piece.strip() for piece in text.partition("-"))
    country = country.upper()
    if not re.fullmatch(r"[A-Z]{2,3}", country):
        raise ValidationError(
            message=f'expected a country code like "US" or "GB-ENG", or a date, got {text!r}',
            field="holidays",
            value=text,
        )
    candidates = [subdiv.upper(), subdiv] if subdiv else [None]
    for candidate in candidates:
        try:
            _country_holidays(country, candidate, None)
        except NotImplementedError:
            continue
        return f"{country}-{candidate}" if candidate else country
    what = f"subdivision {subdiv!r} of {country}" if subdiv else f"country {country!r}"
    raise ValidationError(
        message=f"the holidays package has no {what}", field="holidays", value=text
    )


def _holiday_sources(value: HolidaySpec) -> tuple[str | date, ...]:
    """Normalise ``holidays``: country specs first (as given), then closed dates, sorted."""
    if value is None:
        return ()
    items: list[object] = [value] if isinstance(value, str | date) else list(value)
    countries: list[str] = []
    dates: set[date] = set()
    for item in items:
        if isinstance(item, str) and not _ISO_DATE.match(item.strip()):
            spec = _country_spec(item.strip())
            if spec not in countries:
                countries.append(spec)
        else:
            dates.add(_to_day(item, "holidays"))
    return (*countries, *sorted(dates))


class _Required:
    """The default of a field the caller must give: a calendar's time zone is never guessed."""

    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()
"""The default of ``timezone``, typed ``Any`` so it can stand in a field annotated ``str``."""

_ZONE_MISSING = (
    'missing; name the IANA time zone the hours are in, e.g. timezone="America/New_York" '
    "(there is no default: the team's zone cannot be guessed)"
)


def _zone_name(value: str | ZoneInfo | _Required) -> str:
    if isinstance(value, _Required):
        raise ValidationError(message=_ZONE_MISSING, field="timezone")
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, str):
        try:
            return ZoneInfo(value.strip()).key
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # OSError: a name too long for a file, looked up in the zone database
    shown = value if not isinstance(value, str) or len(value) <= 80 else f"{value[:77]}..."
    raise ValidationError(
        message=f'expected an IANA time zone like "America/New_York", got {shown!r}',
        field="timezone",
        value=value,
    )
