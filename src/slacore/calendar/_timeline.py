"""The integer-microsecond engine behind :class:`~slacore.calendar.BusinessCalendar`.

The open time is a sorted list of intervals in integer microseconds since the Unix epoch
(UTC), with a running total of business time, so each question is one or two binary searches.
Integers, not float seconds, keep every answer exact to the microsecond. ``_Engine`` holds a
calendar's hours compiled for that (per date, per year, cached) and builds the timeline of
whole years that the questions need; ``_Timeline`` answers them, singly and in bulk.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from slacore.calendar import _hours
from slacore.calendar._hours import _DAY, Span
from slacore.errors import ValidationError

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
    arrays: list[Any] = attrs.field(factory=list, init=False, eq=False, repr=False)
    """The four lists as numpy arrays, made by the column path when it first needs them
    (see :mod:`slacore.calendar._timeline_np`)."""

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

    def add_all(self, instants: Sequence[int], amount: int) -> list[int]:
        """``amount`` of business time after each of ``instants``, in order (epoch microseconds).

        The timeline must hold the answer for the latest instant (see ``_Engine._reach``).
        """
        begins, ends, before, after = (
            self.starts,
            self.ends,
            self.before,
            self.after,
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

    def elapsed_all(self, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
        """The business time from each of ``starts`` to the matching end (0 if not after it).

        The timeline must be valid for every instant given (see ``_Engine._ensure``).
        """
        begins, closes, before = self.starts, self.ends, self.before
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

    def due_and_elapsed_all(
        self, starts: Sequence[int], ends: Sequence[int], amount: int
    ) -> tuple[list[int], list[int]]:
        """:meth:`add_all` and :meth:`elapsed_all` together, searching for each start once.

        The timeline must be valid for every instant given and hold the answer for the
        latest start plus ``amount`` (see ``_Engine._reach``).
        """
        begins, closes, before, after = (
            self.starts,
            self.ends,
            self.before,
            self.after,
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


# --- the engine ---------------------------------------------------------------------------------


@attrs.frozen
class _Engine:
    """A calendar's hours compiled to epoch microseconds, and the timeline built from them.

    :class:`~slacore.calendar.BusinessCalendar` derives from it and sets the fields once, in
    its ``__attrs_post_init__``; they are not part of its value (no init, repr or eq).
    """

    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False)
    _week: tuple[tuple[Span, ...], ...] = attrs.field(init=False, repr=False, eq=False)
    _special: dict[date, tuple[Span, ...]] = attrs.field(init=False, repr=False, eq=False)
    _countries: tuple[tuple[str, str | None], ...] = attrs.field(init=False, repr=False, eq=False)
    _closed: frozenset[date] = attrs.field(init=False, repr=False, eq=False)
    _cache: _Cache = attrs.field(init=False, repr=False, eq=False)

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
                *(
                    _hours._country_holidays(country, subdiv, year)
                    for country, subdiv in self._countries
                )
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
