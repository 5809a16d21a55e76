"""The numpy twin of the timeline's bulk questions, for the column path of the rules.

:meth:`_Timeline.add_all`, :meth:`_Timeline.elapsed_all` and
:meth:`_Timeline.due_and_elapsed_all` answer one instant at a time in a Python loop; the
functions here answer the same questions for whole arrays of epoch microseconds (``int64``)
with :func:`numpy.searchsorted` over the same sorted open intervals, and give the same
answers (a hypothesis test holds them equal). Imported only by the column path: numpy stays
out of ``import slacore``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from slacore.calendar._timeline import _Engine, _Timeline

    Ints = np.ndarray[Any, np.dtype[np.int64]]

__all__ = ["add_array", "due_and_elapsed_array", "elapsed_array"]


def _arrays(timeline: _Timeline) -> tuple[Ints, Ints, Ints, Ints]:
    """The timeline's starts, ends, time before and time after each interval as arrays,
    made once per timeline (a timeline is never mutated, only replaced)."""
    made = timeline.arrays
    if not made:
        made.extend(
            np.asarray(values, dtype=np.int64)
            for values in (timeline.starts, timeline.ends, timeline.before, timeline.after)
        )
    begins, ends, before, after = made
    return begins, ends, before, after


def _business_at(timeline: _Timeline, instants: Ints) -> Ints:
    """Business time from the timeline's first interval to each of ``instants``."""
    begins, ends, before, _ = _arrays(timeline)
    index = np.searchsorted(begins, instants, side="right") - 1
    inside = index >= 0
    at = np.maximum(index, 0)
    passed = before[at] + np.minimum(instants, ends[at]) - begins[at]
    return np.where(inside, passed, 0)


def _after(timeline: _Timeline, business: Ints, amount: int) -> Ints:
    """The earliest instant at which ``amount`` more business time has passed after the
    business times ``business`` (``amount`` 0: the next opening)."""
    begins, _, before, after = _arrays(timeline)
    target = business + amount
    found = np.searchsorted(after, target, side="left" if amount else "right")
    return begins[found] + target - before[found]


def _elapsed(timeline: _Timeline, starts: Ints, at_starts: Ints, ends: Ints) -> Ints:
    """Business time from each start (business time ``at_starts``) to its end, 0 if none."""
    spent = _business_at(timeline, ends) - at_starts
    return np.where(ends <= starts, 0, spent)


def add_array(calendar: _Engine, instants: Ints, amount: int, field: str = "starts") -> Ints:
    """``calendar.add_us(instants, amount)`` over an array: ``amount`` microseconds of
    business time after each of ``instants``."""
    if not len(instants):
        return np.empty(0, dtype=np.int64)
    timeline, _ = calendar._reach(int(instants.min()), int(instants.max()), amount, field)
    return _after(timeline, _business_at(timeline, instants), amount)


def elapsed_array(calendar: _Engine, starts: Ints, ends: Ints, field: str = "starts") -> Ints:
    """``calendar.elapsed_us(starts, ends)`` over arrays: business time from each start to
    its end (0 when the end is not after the start)."""
    if not len(starts):
        return np.empty(0, dtype=np.int64)
    lo = min(int(starts.min()), int(ends.min()))
    hi = max(int(starts.max()), int(ends.max()))
    timeline = calendar._ensure(lo, hi, field)
    return _elapsed(timeline, starts, _business_at(timeline, starts), ends)


def due_and_elapsed_array(
    calendar: _Engine, starts: Ints, ends: Ints, amount: int, field: str = "starts"
) -> tuple[Ints, Ints]:
    """``calendar.due_and_elapsed_us(starts, ends, amount)`` over arrays: each clock's due
    time and the business time it ran, each start searched once."""
    if not len(starts):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    lo = min(int(starts.min()), int(ends.min()))
    hi = max(int(starts.max()), int(ends.max()))
    timeline, _ = calendar._reach(lo, hi, amount, field)
    at_starts = _business_at(timeline, starts)
    return _after(timeline, at_starts, amount), _elapsed(timeline, starts, at_starts, ends)
