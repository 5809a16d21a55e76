"""Business calendars: when the team is at work, and how much working time lies between instants.

Seed 000's response rule, "within an hour, or during the first hour of the next business day",
needs a clock that only runs during working hours. A :class:`BusinessCalendar` holds the
weekly hours (local wall-clock time in one IANA time zone), the public holidays of the
countries it names (through the ``holidays`` package, loaded lazily year by year; none unless
named), explicit closed dates and
per-date overrides, and answers four questions: :meth:`~BusinessCalendar.is_open`,
:meth:`~BusinessCalendar.next_open`, :meth:`~BusinessCalendar.add` (when is ``delta`` of
business time up?) and :meth:`~BusinessCalendar.elapsed` (how much business time passed?).
The bulk forms :meth:`~BusinessCalendar.add_many` and :meth:`~BusinessCalendar.elapsed_many`
answer the same for a million instants at a time.

Internally the open time is a sorted list of intervals in integer microseconds since the Unix
epoch (UTC), with a running total of business time, so each question is one or two binary
searches. Integers, not float seconds, keep every answer exact to the microsecond. That engine
lives in :mod:`slacore.calendar._timeline`; the readers of the hours and holidays in
:mod:`slacore.calendar._hours`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from slacore.calendar._hours import (
    _CLOSED,
    _DAY_KEYS,
    _DAY_NAMES,
    _HOURS_EXAMPLE,
    _REQUIRED,
    _holiday_sources,
    _overrides,
    _parse_day,
    _to_day,
    _week_hours,
    _zone_name,
)
from slacore.calendar._timeline import _ONE_US, _ZERO, _Cache, _Engine
from slacore.calendar.duration import parse_duration
from slacore.errors import ValidationError

__all__ = ["BusinessCalendar"]


@attrs.frozen(kw_only=True)
class BusinessCalendar(_Engine):
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
            Required: there is no default, since the zone is where the team works, which
            the library cannot know.
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
            Default none: no country's holidays apply unless named, since a calendar's
            country cannot be told from its time zone.
        overrides: Per-date hours replacing the usual ones, as sorted ``(date, hours)`` pairs;
            given as a mapping like ``{"2026-12-24": "09:00-13:00"}``. ``""`` or ``"closed"``
            closes the day; an override also opens a weekend day or a holiday.

    Raises:
        ValidationError: No ``timezone``, a malformed or unknown value, overlapping
            intervals (also a night shift running into the next day's hours), a day given
            twice, or no working hours on any day at all.

    """

    timezone: str = attrs.field(default=_REQUIRED, converter=_zone_name)
    hours: tuple[str, ...] = attrs.field(
        default=("09:00-17:00",) * 5 + (_CLOSED,) * 2, converter=_week_hours
    )
    holidays: tuple[str | date, ...] = attrs.field(default=(), converter=_holiday_sources)
    overrides: tuple[tuple[date, str], ...] = attrs.field(default=(), converter=_overrides)

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
        return timeline.add_all(instants, amount)

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
        bounds = _bounds(starts, ends)
        if bounds is None:
            return []
        timeline = self._ensure(*bounds, "starts")
        return timeline.elapsed_all(starts, ends)

    def due_and_elapsed_us(
        self, starts: Sequence[int], ends: Sequence[int], delta: timedelta | str
    ) -> tuple[list[int], list[int]]:
        """``add_us(starts, delta)`` and ``elapsed_us(starts, ends)`` together, in one pass
        that searches for each start once: a clock's due time and the business time it ran.

        Raises:
            ValidationError: As :meth:`add_us` and :meth:`elapsed_us`.

        """
        amount = _delta(delta)
        bounds = _bounds(starts, ends)
        if bounds is None:
            return [], []
        timeline, _ = self._reach(*bounds, amount, "starts")
        return timeline.due_and_elapsed_all(starts, ends, amount)

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

        For example ``"Mon-Fri 09:00-17:00, America/New_York, US public holidays"``, or
        ``"..., Asia/Kolkata, no public holidays"`` for a calendar that names no country.
        """
        parts = self._describe_hours() or ["no regular hours"]
        parts.append(self.timezone)
        countries = [s for s in self.holidays if isinstance(s, str)]
        dates = [s for s in self.holidays if isinstance(s, date)]
        if countries:
            parts.append(f"{' and '.join(countries)} public holidays")
        else:
            parts.append("no public holidays")
        if len(dates) == 1:
            parts.append(f"also closed {dates[0].isoformat()}")
        elif dates:
            parts.append(f"{len(dates)} {'other ' if countries else ''}closed dates")
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


def _delta(value: timedelta | str) -> int:
    """Business time in microseconds from a timedelta (0 or more) or a duration string."""
    if isinstance(value, timedelta):
        if value < _ZERO:
            raise ValidationError(
                message=f"business time cannot be negative, got {value}", field="delta", value=value
            )
        return value // _ONE_US
    return parse_duration(value, field="delta") // _ONE_US


def _bounds(starts: Sequence[int], ends: Sequence[int]) -> tuple[int, int] | None:
    """The earliest and the latest of paired ``starts`` and ``ends``; None when there are none.

    Raises:
        ValidationError: The two have different lengths.

    """
    if len(starts) != len(ends):
        raise ValidationError(
            message=f"got {len(starts)} starts but {len(ends)} ends", field="ends"
        )
    if not starts:
        return None
    return min(min(starts), min(ends)), max(max(starts), max(ends))
