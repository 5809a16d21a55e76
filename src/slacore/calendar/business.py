"""Business calendars: when the team is at work, and how much working time lies between instants.

Seed 000's response rule, "within an hour, or during the first hour of the next business day",
needs a clock that only runs during working hours. A :class:`BusinessCalendar` holds the
weekly hours (local wall-clock time in one IANA time zone), the public holidays of a country
(through the ``holidays`` package, loaded lazily year by year), explicit closed dates and
per-date overrides, and answers four questions: :meth:`~BusinessCalendar.is_open`,
:meth:`~BusinessCalendar.next_open`, :meth:`~BusinessCalendar.add` (when is ``delta`` of
business time up?) and :meth:`~BusinessCalendar.elapsed` (how much business time passed?).
The bulk forms :meth:`~BusinessCalendar.add_many` and :meth:`~BusinessCalendar.elapsed_many`
answer the same for a million instants at a time.

Internally the open time is a sorted list of intervals in integer microseconds since the Unix
epoch (UTC), with a running total of business time, so each question is one or two binary
searches. Integers, not float seconds, keep every answer exact to the microsecond.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from slacore.calendar.duration import parse_duration
from slacore.errors import ValidationError

__all__ = ["BusinessCalendar", "epoch_us"]

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
_US_PER_MINUTE = 60_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)
_ZERO = timedelta(0)
# A search that meets no working time for this long gives up instead of looping.
_SEARCH_YEARS = 3
_SEARCH_US = _SEARCH_YEARS * 366 * _DAY * _US_PER_MINUTE
# One question (or one batch) may span at most this many years: enough for any agreement,
# and it keeps a stray far-future date from loading centuries of days.
_MAX_YEARS = 200
# The timeline needs the day before its first year and the midnight after its last one.
_FIRST_YEAR = 1
_LAST_YEAR = 9998
# Inside this range a float of seconds is within 0.5 us of the exact value, so
# datetime.fromtimestamp (which rounds to the nearest microsecond) returns it exactly, and
# about three times faster than building the datetime from a timedelta.
_FAST_US = 2**32 * 1_000_000

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


def _zone_name(value: str | ZoneInfo) -> str:
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, str):
        try:
            return ZoneInfo(value.strip()).key
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ValidationError(
        message=f'expected an IANA time zone like "America/New_York", got {value!r}',
        field="timezone",
        value=value,
    )


def epoch_us(t: datetime) -> int:
    """Integer microseconds since the Unix epoch of aware datetime ``t`` (exact).

    The unit of :meth:`BusinessCalendar.add_us` and :meth:`BusinessCalendar.elapsed_us`.

    Raises:
        TypeError: ``t`` is naive.

    """
    return (t - _EPOCH) // _ONE_US


# --- the timeline -------------------------------------------------------------------------------


@attrs.frozen
class _Timeline:
    """The merged open intervals of whole years ``first``..``last`` in epoch microseconds.

    Answers are valid for instants in ``[lo, hi)`` (local midnights opening ``first`` and
    closing ``last``). ``before[i]``/``after[i]`` are the business time before the start and
    at the end of interval ``i``, counted from the first interval.
    """

    first: int
    last: int
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    before: list[int]
    after: list[int]

    def business_at(self, instant: int) -> int:
        index = bisect_right(self.starts, instant) - 1
        if index < 0:
            return 0
        return self.before[index] + min(instant, self.ends[index]) - self.starts[index]

    def step(self, start: int, delta: int) -> int | None:
        """The earliest instant ``delta`` of business time after ``start`` (``delta`` 0: the
        next opening), or ``None`` when the answer lies past the loaded years.
        """
        target = self.business_at(start) + delta
        # With delta 0 the answer must not be the close before start: take the first
        # interval that ends strictly after the business time already passed.
        index = bisect_left(self.after, target) if delta else bisect_right(self.after, target)
        if index == len(self.after):
            return None
        result = self.starts[index] + target - self.before[index]
        return result if result <= self.hi else None


class _Cache:
    """What a calendar computes lazily; shared safely, since entries are only ever added."""

    __slots__ = ("days", "holiday_years", "timeline")

    def __init__(self) -> None:
        self.days: dict[date, tuple[tuple[int, int], ...]] = {}
        self.holiday_years: dict[int, frozenset[date]] = {}
        self.timeline: _Timeline | None = None


def _utc_year(instant: int, field: str) -> int:
    try:
        return (_NAIVE_EPOCH + timedelta(microseconds=instant)).year
    except OverflowError:
        raise ValidationError(
            message="the instant is outside the years a calendar can compute with",
            field=field,
        ) from None


def _iso(instant: int) -> str:
    return (_EPOCH + timedelta(microseconds=instant)).isoformat()


# --- the calendar -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Working hours in one time zone, less holidays, with per-date overrides.

    Hours are local wall-clock time in ``timezone``. An interval is open from its start
    (included) to its end (excluded): 17:00 on a 09:00-17:00 day is closed. An interval whose
    end is earlier than its start ("22:00-06:00") is a night shift that closes the next
    morning; it belongs to the day it starts on, so a holiday or override on a date governs
    the shifts that *start* that day (the night shift from the evening before still runs into
    a holiday morning). Across a daylight-saving change an interval lasts the real time the
    clock shows: a 09:00-17:00 day is 8 hours when the change is at 02:00, a night shift over
    a spring-forward change is one hour shorter, over a fall-back change one hour longer. A
    boundary on a clock time the change skips opens (or closes) at the moment of the change;
    one the change repeats counts at its first occurrence.

    The calendar computes lazily and caches per date and per year; it is safe to share
    between threads. One question (or one batch) may span at most 200 years, and a search
    that meets no working time for 3 years raises instead of looping.

    Attributes:
        timezone: IANA name of the zone the hours are in (a ``ZoneInfo`` is accepted too).
        hours: The weekly hours, Monday first, as seven canonical strings (``"closed"`` when
            closed). Given as a mapping from a weekday (``"mon"``, ``"Monday"``) or a range
            (``"mon-fri"``, ``"sat-sun"``, ``"fri-mon"``; also ``"daily"``, ``"weekdays"``,
            ``"weekends"``) to one interval ``"09:00-17:00"`` or several (a list, or
            ``"09:00-12:00, 13:00-17:00"``). Days not named are closed. ``"24:00"`` is
            allowed as an end. Default: Monday to Friday 09:00-17:00.
        holidays: Closed days: country codes resolved through the ``holidays`` package,
            optionally with a subdivision (``"US"``, ``"US-NY"``, ``"GB-ENG"``), and/or
            explicit dates (``date`` or ISO strings); one string or a sequence mixing them.
            Country holidays include observed days and are loaded for each year when first
            needed; the package knows years up to about 2100 (later years have none).
            Default ``"US"``; ``None`` or ``()`` for none.
        overrides: Per-date hours replacing the usual ones, as sorted ``(date, hours)`` pairs;
            given as a mapping like ``{"2026-12-24": "09:00-13:00"}``. ``""`` or ``"closed"``
            closes the day; an override also opens a weekend day or a holiday.

    Raises:
        ValidationError: A malformed or unknown value, overlapping intervals (also a night
            shift running into the next day's hours), a day given twice, or no working hours
            on any day at all.

    """

    timezone: str = attrs.field(default="America/New_York", converter=_zone_name)
    hours: tuple[str, ...] = attrs.field(
        default=("09:00-17:00",) * 5 + (_CLOSED,) * 2, converter=_week_hours
    )
    holidays: tuple[str | date, ...] = attrs.field(default=("US",), converter=_holiday_sources)
    overrides: tuple[tuple[date, str], ...] = attrs.field(default=(), converter=_overrides)

    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False)
    _week: tuple[tuple[Span, ...], ...] = attrs.field(init=False, repr=False, eq=False)
    _special: dict[date, tuple[Span, ...]] = attrs.field(init=False, repr=False, eq=False)
    _countries: tuple[tuple[str, str | None], ...] = attrs.field(init=False, repr=False, eq=False)
    _closed: frozenset[date] = attrs.field(init=False, repr=False, eq=False)
    _cache: _Cache = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Frozen: the derived fields are set once here, as attrs documents.
        week = tuple(_parse_day(text, "hours") for text in self.hours)
        special = {day: _parse_day(text, "overrides") for day, text in self.overrides}
        if not any(week) and not any(special.values()):
            raise ValidationError(
                message=f"the calendar has no working hours on any day; give e.g. {_HOURS_EXAMPLE}",
                field="hours",
            )
        countries: list[tuple[str, str | None]] = []
        for source in self.holidays:
            if isinstance(source, str):
                country, _, subdiv = source.partition("-")
                countries.append((country, subdiv or None))
        set_field = object.__setattr__
        set_field(self, "_zone", ZoneInfo(self.timezone))
        set_field(self, "_week", week)
        set_field(self, "_special", special)
        set_field(self, "_countries", tuple(countries))
        set_field(self, "_closed", frozenset(s for s in self.holidays if isinstance(s, date)))
        set_field(self, "_cache", _Cache())

    # --- the public questions -------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._zone

    def is_open(self, t: datetime) -> bool:
        """Whether the calendar is open at instant ``t`` (opening included, closing excluded).

        Raises:
            ValidationError: ``t`` is not a timezone-aware datetime.

        """
        instant = self._instant(t, "t")
        timeline = self._ensure(instant, instant, "t")
        index = bisect_right(timeline.starts, instant) - 1
        return index >= 0 and instant < timeline.ends[index]

    def next_open(self, t: datetime) -> datetime:
        """The first open instant at or after ``t``: ``t`` itself (in the calendar's zone) if open.

        Raises:
            ValidationError: ``t`` is naive, or there is no working time within 3 years
                after ``t`` (every day closed by holidays or overrides).

        """
        instant = self._instant(t, "t")
        return self._datetime(self._add(instant, 0, "t"))

    def add(self, start: datetime, delta: timedelta | str) -> datetime:
        """The earliest instant at which ``delta`` of business time has passed since ``start``.

        A ``start`` outside working hours starts the clock at the next opening, so 1 hour from
        16:30 on a Friday is 09:30 on Monday. When the time runs out exactly at a closing
        time, the answer is that closing time (17:00), not the next opening: it is the same
        point in business time, and the earlier instant. ``delta`` 0 gives
        :meth:`next_open` of ``start``.

        Args:
            start: When the clock starts; aware, in any zone.
            delta: Business time, a ``timedelta`` (0 or more) or a duration string such as
                ``"1h"`` or ``"1h 30m"`` (see :func:`slacore.calendar.parse_duration`, which
                requires it positive). ``"1d"`` is 24 hours of business time, three 8-hour
                days, not one business day.

        Returns:
            An aware datetime in the calendar's zone.

        Raises:
            ValidationError: ``start`` is naive, ``delta`` is negative or not a duration, or
                the calendar has no working time for 3 years on the way.

        """
        instant = self._instant(start, "start")
        return self._datetime(self._add(instant, _delta(delta), "start"))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The business time between ``start`` and ``end``; ``timedelta(0)`` if ``end <= start``.

        Time is never negative: a reply before the notification counts as no time taken.

        Raises:
            ValidationError: ``start`` or ``end`` is naive.

        """
        first = self._instant(start, "start")
        last = self._instant(end, "end")
        if last <= first:
            return _ZERO
        timeline = self._ensure(first, last, "start")
        return (timeline.business_at(last) - timeline.business_at(first)) * _ONE_US

    def add_many(self, starts: Iterable[datetime], delta: timedelta | str) -> list[datetime]:
        """:meth:`add` for each of ``starts`` with the same ``delta``, in order.

        Equal to ``[cal.add(s, delta) for s in starts]`` and much faster: the timeline is
        loaded once for the whole range, each item is two binary searches, and results
        that repeat (every start outside hours before the same opening gives the same
        answer) are built once.

        Raises:
            ValidationError: As :meth:`add`; a naive start is named by its index
                (``starts[12]``).

        """
        answers = self.add_us(self._instants(starts, "starts"), delta)
        to_datetime = self._datetime
        made: dict[int, datetime] = {}
        results: list[datetime] = []
        append = results.append
        for result in answers:
            answer = made.get(result)
            if answer is None:
                answer = made[result] = to_datetime(result)
            append(answer)
        return results

    def add_us(self, instants: Sequence[int], delta: timedelta | str) -> list[int]:
        """:meth:`add_many` on instants given as integer microseconds since the Unix epoch.

        For bulk engines that keep times as integers (see :func:`epoch_us`); answers are
        epoch microseconds too (:meth:`datetime_at` turns one back into a datetime).

        Raises:
            ValidationError: ``delta`` is negative, or no working time for 3 years on the way.

        """
        amount = _delta(delta)
        if not instants:
            return []
        timeline, _ = self._reach(min(instants), max(instants), amount, "starts")
        begins, ends, before, after = (
            timeline.starts,
            timeline.ends,
            timeline.before,
            timeline.after,
        )
        search = bisect_left if amount else bisect_right
        results: list[int] = []
        append = results.append
        # The loop inlines _Timeline.business_at and _Timeline.step: calls cost more than the
        # arithmetic here. _reach made the timeline long enough for the latest start, and
        # answers only grow with the start, so every search lands inside it.
        # Every start in the same closed gap (nights, weekends: most of the week) has the same
        # answer, kept by the gap's interval index.
        after_close: dict[int, int] = {}
        for instant in instants:
            index = bisect_right(begins, instant) - 1
            if index < 0:
                target = amount
            else:
                end = ends[index]
                if instant >= end:
                    answer = after_close.get(index)
                    if answer is None:
                        target = before[index] + end - begins[index] + amount
                        found = search(after, target)
                        answer = after_close[index] = begins[found] + target - before[found]
                    append(answer)
                    continue
                target = before[index] + instant - begins[index] + amount
            found = search(after, target)
            append(begins[found] + target - before[found])
        return results

    def elapsed_many(self, starts: Iterable[datetime], ends: Iterable[datetime]) -> list[timedelta]:
        """:meth:`elapsed` for each pair of ``starts`` and ``ends``, in order.

        Raises:
            ValidationError: The two have different lengths, or a time is naive (named by
                its index, ``ends[3]``).

        """
        firsts = self._instants(starts, "starts")
        lasts = self._instants(ends, "ends")
        return [amount * _ONE_US for amount in self.elapsed_us(firsts, lasts)]

    def elapsed_us(self, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
        """:meth:`elapsed_many` on integer epoch microseconds; answers in microseconds.

        Raises:
            ValidationError: The two have different lengths.

        """
        if len(starts) != len(ends):
            raise ValidationError(
                message=f"got {len(starts)} starts but {len(ends)} ends", field="ends"
            )
        if not starts:
            return []
        timeline = self._ensure(min(min(starts), min(ends)), max(max(starts), max(ends)), "starts")
        begins, closes, before = timeline.starts, timeline.ends, timeline.before
        count = len(begins)
        results: list[int] = []
        append = results.append
        # _Timeline.business_at, inlined for both ends: calls cost more than the arithmetic.
        for first, last in zip(starts, ends, strict=True):
            if last <= first:
                append(0)
                continue
            index = bisect_right(begins, first) - 1
            at_first = 0
            if index >= 0:
                end = closes[index]
                at_first = before[index] + (first if first < end else end) - begins[index]
            # Most spans end before the next interval opens: no second search then.
            if index + 1 < count and last < begins[index + 1]:
                if index < 0:
                    append(0)
                    continue
            else:
                index = bisect_right(begins, last) - 1
                if index < 0:  # the loaded years hold no working time before ``last``
                    append(0)
                    continue
            end = closes[index]
            append(before[index] + (last if last < end else end) - begins[index] - at_first)
        return results

    def due_and_elapsed_us(
        self, starts: Sequence[int], ends: Sequence[int], delta: timedelta | str
    ) -> tuple[list[int], list[int]]:
        """``add_us(starts, delta)`` and ``elapsed_us(starts, ends)`` together, in one pass
        that searches for each start once: a clock's due time and the business time it ran.

        Raises:
            ValidationError: As :meth:`add_us` and :meth:`elapsed_us`.

        """
        amount = _delta(delta)
        if len(starts) != len(ends):
            raise ValidationError(
                message=f"got {len(starts)} starts but {len(ends)} ends", field="ends"
            )
        if not starts:
            return [], []
        lo, hi = min(min(starts), min(ends)), max(max(starts), max(ends))
        timeline, _ = self._reach(lo, hi, amount, "starts")
        begins, closes, before, after = (
            timeline.starts,
            timeline.ends,
            timeline.before,
            timeline.after,
        )
        count = len(begins)
        search = bisect_left if amount else bisect_right
        dues: list[int] = []
        spent: list[int] = []
        due, ran = dues.append, spent.append
        # Answers for starts in the same closed gap, by the gap's interval index (add_us).
        after_close: dict[int, int] = {}
        for first, last in zip(starts, ends, strict=True):
            index = bisect_right(begins, first) - 1
            if index < 0:
                at_first = 0
                answer = None
            else:
                close = closes[index]
                if first >= close:
                    at_first = before[index] + close - begins[index]
                    answer = after_close.get(index)
                else:
                    at_first = before[index] + first - begins[index]
                    answer = None
            if answer is None:
                target = at_first + amount
                found = search(after, target)
                answer = begins[found] + target - before[found]
                if index >= 0 and first >= closes[index]:
                    after_close[index] = answer
            due(answer)
            if last <= first:
                ran(0)
                continue
            # Most spans end before the next interval opens: no second search then.
            if not (index + 1 < count and last < begins[index + 1]):
                index = bisect_right(begins, last) - 1
            if index < 0:
                ran(0)
                continue
            close = closes[index]
            ran(before[index] + (last if last < close else close) - begins[index] - at_first)
        return dues, spent

    def datetime_at(self, instant: int) -> datetime:
        """The aware datetime, in the calendar's zone, of ``instant`` epoch microseconds."""
        return self._datetime(instant)

    def open_intervals(self, day: date | str) -> list[tuple[datetime, datetime]]:
        """The intervals that open on local date ``day``, after holidays and overrides.

        Each is ``(opens, closes)`` as aware datetimes in the calendar's zone; a night shift
        closes the next day. Intervals a daylight-saving change leaves empty are dropped.

        Raises:
            ValidationError: ``day`` is not a date.

        """
        return [
            (self._datetime(start), self._datetime(end))
            for start, end in self._day_instants(_to_day(day, "day"))
        ]

    # --- reports --------------------------------------------------------------------------------

    def describe(self) -> str:
        """The calendar in words, for reports.

        For example ``"Mon-Fri 09:00-17:00, America/New_York, US public holidays"``.
        """
        parts = self._describe_hours() or ["no regular hours"]
        parts.append(self.timezone)
        countries = [s for s in self.holidays if isinstance(s, str)]
        dates = [s for s in self.holidays if isinstance(s, date)]
        if countries:
            parts.append(f"{' and '.join(countries)} public holidays")
        if len(dates) == 1:
            parts.append(f"also closed {dates[0].isoformat()}")
        elif dates:
            parts.append(f"{len(dates)} other closed dates")
        if not countries and not dates:
            parts.append("no holidays")
        if len(self.overrides) > 3:
            parts.append(f"{len(self.overrides)} special days")
        else:
            parts.extend(
                f"{day.isoformat()} {text.replace(', ', ' and ')}" for day, text in self.overrides
            )
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The calendar, JSON-ready; ``BusinessCalendar(**cal.to_dict())`` rebuilds it."""
        hours: dict[str, str] = {}
        for first, last, text in self._runs():
            key = _DAY_KEYS[first] if first == last else f"{_DAY_KEYS[first]}-{_DAY_KEYS[last]}"
            hours[key] = text
        return {
            "timezone": self.timezone,
            "hours": hours,
            "holidays": [s.isoformat() if isinstance(s, date) else s for s in self.holidays],
            "overrides": {day.isoformat(): text for day, text in self.overrides},
        }

    def _runs(self) -> list[tuple[int, int, str]]:
        """Runs of consecutive open weekdays with the same hours: ``(first, last, hours)``."""
        runs: list[tuple[int, int, str]] = []
        for day, text in enumerate(self.hours):
            if text == _CLOSED:
                continue
            if runs and runs[-1][1] == day - 1 and runs[-1][2] == text:
                runs[-1] = (runs[-1][0], day, text)
            else:
                runs.append((day, day, text))
        return runs

    def _describe_hours(self) -> list[str]:
        parts: list[str] = []
        for first, last, text in self._runs():
            days = _DAY_NAMES[first] if first == last else f"{_DAY_NAMES[first]}-{_DAY_NAMES[last]}"
            parts.append(f"{days} {text.replace(', ', ' and ')}")
        return parts

    # --- conversions ----------------------------------------------------------------------------

    @staticmethod
    def _instant(t: object, field: str) -> int:
        """Epoch microseconds of aware datetime ``t``."""
        if not isinstance(t, datetime):
            raise ValidationError(
                message=f"expected a timezone-aware datetime, got {type(t).__name__} {t!r}",
                field=field,
                value=t,
            )
        if t.utcoffset() is None:
            raise ValidationError(
                message=(
                    f"expected a timezone-aware datetime, got naive {t.isoformat()} "
                    "(attach a zone, e.g. datetime(..., tzinfo=ZoneInfo('America/New_York')))"
                ),
                field=field,
                value=t,
            )
        return (t - _EPOCH) // _ONE_US

    def _instants(self, values: Iterable[datetime], field: str) -> list[int]:
        items = values if isinstance(values, list | tuple) else list(values)
        try:
            # Subtracting an aware datetime fails with TypeError for anything naive or not a
            # datetime, so the fast path needs no per-item check.
            return [(t - _EPOCH) // _ONE_US for t in items]
        except TypeError:
            for index, t in enumerate(items):
                self._instant(t, f"{field}[{index}]")
            raise

    def _datetime(self, instant: int) -> datetime:
        if -_FAST_US < instant < _FAST_US:
            return datetime.fromtimestamp(instant / 1_000_000, self._zone)
        return (_EPOCH + timedelta(microseconds=instant)).astimezone(self._zone)

    def _wall(self, day: date, minutes: int) -> int:
        """The instant the local clock first shows ``minutes`` after midnight of ``day``."""
        naive = datetime.combine(day, time()) + timedelta(minutes=minutes)
        first = (naive.replace(tzinfo=self._zone) - _EPOCH) // _ONE_US
        second = (naive.replace(tzinfo=self._zone, fold=1) - _EPOCH) // _ONE_US
        if first <= second:
            return first  # an ordinary time, or the first of two (fall back)
        # A time the clock skips (spring forward): fold=1 reads it with the new offset, which
        # lands before the change, fold=0 with the old one, after it. The change itself is
        # the first instant the clock shows a later time; find it to the second.
        low, high = second // 1_000_000, -(-first // 1_000_000)
        offset = datetime.fromtimestamp(low, self._zone).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self._zone).utcoffset() == offset:
                low = middle
            else:
                high = middle
        return high * 1_000_000

    # --- per-day spans and the timeline ---------------------------------------------------------

    def _spans(self, day: date) -> tuple[Span, ...]:
        special = self._special.get(day)
        if special is not None:
            return special
        if day in self._closed or day in self._country_closed(day.year):
            return ()
        return self._week[day.weekday()]

    def _country_closed(self, year: int) -> frozenset[date]:
        if not self._countries:
            return frozenset()
        found = self._cache.holiday_years.get(year)
        if found is None:
            found = frozenset().union(
                *(_country_holidays(country, subdiv, year) for country, subdiv in self._countries)
            )
            self._cache.holiday_years[year] = found
        return found

    def _day_instants(self, day: date) -> tuple[tuple[int, int], ...]:
        """The open intervals starting on ``day`` in epoch microseconds, cached per date."""
        found = self._cache.days.get(day)
        if found is None:
            intervals: list[tuple[int, int]] = []
            for start, end in self._spans(day):
                opens, closes = self._wall(day, start), self._wall(day, end)
                if opens < closes:
                    intervals.append((opens, closes))
            found = self._cache.days[day] = tuple(intervals)
        return found

    def _build(self, first: int, last: int) -> _Timeline:
        """The timeline of years ``first``..``last``, with the night before ``first``."""
        raw: list[tuple[int, int]] = []
        begin = date(first, 1, 1).toordinal() - (1 if first > _FIRST_YEAR else 0)
        for ordinal in range(begin, date(last, 12, 31).toordinal() + 1):
            raw.extend(self._day_instants(date.fromordinal(ordinal)))
        raw.sort()
        starts: list[int] = []
        ends: list[int] = []
        for start, end in raw:
            # Touching or overlapping intervals (a night shift meeting an override) merge.
            if starts and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        before: list[int] = []
        after: list[int] = []
        total = 0
        for start, end in zip(starts, ends, strict=True):
            before.append(total)
            total += end - start
            after.append(total)
        return _Timeline(
            first=first,
            last=last,
            lo=self._wall(date(first, 1, 1), 0),
            hi=self._wall(date(last + 1, 1, 1), 0),
            starts=starts,
            ends=ends,
            before=before,
            after=after,
        )

    def _cover(self, first: int, last: int) -> _Timeline:
        """A timeline of at least years ``first``..``last``, kept for the next question."""
        current = self._cache.timeline
        if current is not None:
            joined = min(first, current.first), max(last, current.last)
            # Keep what is loaded when the union stays small; a question about a far-off
            # era gets a timeline of its own rather than every year in between.
            if joined[1] - joined[0] < _MAX_YEARS + 2:
                first, last = joined
        timeline = self._build(first, last)
        # Replaced whole, never mutated: a caller holding the old one stays consistent.
        self._cache.timeline = timeline
        return timeline

    def _ensure(self, lo: int, hi: int, field: str) -> _Timeline:
        """A timeline valid for every instant from ``lo`` to ``hi``.

        Raises:
            ValidationError: The instants lie more than 200 years apart, or outside the
                years 1-9998.

        """
        timeline = self._cache.timeline
        if timeline is not None and timeline.lo <= lo and hi < timeline.hi:
            return timeline
        # The local year is within a day of the UTC year; one year either side covers it.
        first = max(_FIRST_YEAR, _utc_year(lo, field) - 1)
        last = min(_LAST_YEAR, _utc_year(hi, field) + 1)
        if last - first > _MAX_YEARS + 2:
            # A placeholder date such as 4000-12-31 in CRM data would otherwise load (and
            # keep) every year up to it.
            raise ValidationError(
                message=(
                    f"the instants span more than {_MAX_YEARS} years "
                    f"({_iso(lo)} to {_iso(hi)}); a calendar answers within {_MAX_YEARS} years"
                ),
                field=field,
            )
        timeline = self._cover(first, last)
        if not timeline.lo <= lo or not hi < timeline.hi:
            raise ValidationError(
                message="the instant is outside the years a calendar can compute with",
                field=field,
            )
        return timeline

    def _reach(self, lo: int, hi: int, delta: int, field: str) -> tuple[_Timeline, int]:
        """A timeline valid from ``lo`` to ``hi`` that also holds the answer for ``hi`` plus
        ``delta``; and that answer.
        """
        timeline = self._ensure(lo, hi, field)
        while (result := timeline.step(hi, delta)) is None:
            timeline = self._grow(timeline, lo, hi, delta, field)
        return timeline, result

    def _grow(self, timeline: _Timeline, lo: int, since: int, delta: int, field: str) -> _Timeline:
        """Load later years, for an answer past ``timeline`` (starting ``since``).

        Raises:
            ValidationError: No working time in 3 years, or the answer falls more than 200
                years after ``lo`` or after the year 9998.

        """
        last_close = timeline.ends[-1] if timeline.ends else since
        frontier = max(since, last_close)
        if timeline.hi - frontier > _SEARCH_US:
            raise ValidationError(
                message=(
                    f"no working time in the {_SEARCH_YEARS} years after {_iso(frontier)}: "
                    "are all days closed by holidays or overrides?"
                ),
                field=field,
            )
        if timeline.last >= _LAST_YEAR:
            raise ValidationError(
                message=f"the answer falls after the year {_LAST_YEAR}", field=field
            )
        first = max(_FIRST_YEAR, _utc_year(lo, field) - 1)
        if timeline.last >= first + _MAX_YEARS + 2:
            raise ValidationError(
                message=(
                    f"the answer falls more than {_MAX_YEARS} years after {_iso(lo)}, "
                    "beyond what a calendar computes"
                ),
                field=field,
            )
        missing = timeline.business_at(since) + delta - timeline.business_at(timeline.hi)
        per_year = (
            timeline.after[-1] // (timeline.last - timeline.first + 1) if timeline.after else 0
        )
        # Load roughly the years the remaining time needs in one go, not one per round.
        extra = max(1, -(-missing // per_year)) if per_year else 1
        last = min(_LAST_YEAR, first + _MAX_YEARS + 2, timeline.last + extra)
        return self._cover(first, last)

    def _add(self, start: int, delta: int, field: str) -> int:
        return self._reach(start, start, delta, field)[1]


def _delta(value: timedelta | str) -> int:
    """Business time in microseconds from a timedelta (0 or more) or a duration string."""
    if isinstance(value, timedelta):
        if value < _ZERO:
            raise ValidationError(
                message=f"business time cannot be negative, got {value}", field="delta", value=value
            )
        return value // _ONE_US
    return parse_duration(value, field="delta") // _ONE_US
