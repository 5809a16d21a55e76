"""The numpy twin of the timeline's bulk questions gives what the list versions give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore.calendar._timeline_np import add_array, due_and_elapsed_array, elapsed_array
from slacore.calendar.business import BusinessCalendar

CALENDARS = [
    BusinessCalendar(timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"),
    # A night shift across both changes of clocks, and a split day.
    BusinessCalendar(
        timezone="Europe/London",
        hours={"mon-thu": "22:00-06:00", "fri": "08:00-12:00, 13:00-17:00"},
        overrides={"2026-12-24": "09:00-13:00"},
    ),
    BusinessCalendar(timezone="Asia/Kolkata", hours={"daily": "00:00-24:00"}),
]
BASE = datetime(2026, 3, 1, tzinfo=UTC)
YEAR_US = 366 * 24 * 3600 * 1_000_000
instants = st.integers(0, YEAR_US).map(
    lambda us: (BASE - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) + us
)
amounts = st.sampled_from([0, 1, 60_000_000, 3_600_000_000, 8 * 3_600_000_000, 30 * 86_400_000_000])


@settings(max_examples=200, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    pairs=st.lists(st.tuples(instants, instants), max_size=40),
    amount=amounts,
)
def test_arrays_answer_as_lists(
    calendar: BusinessCalendar, pairs: list[tuple[int, int]], amount: int
) -> None:
    starts = [first for first, _ in pairs]
    ends = [last for _, last in pairs]
    delta = timedelta(microseconds=amount)
    begin, end = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    assert add_array(calendar, begin, amount).tolist() == calendar.add_us(starts, delta)
    assert elapsed_array(calendar, begin, end).tolist() == calendar.elapsed_us(starts, ends)
    dues, spent = due_and_elapsed_array(calendar, begin, end, amount)
    assert (dues.tolist(), spent.tolist()) == calendar.due_and_elapsed_us(starts, ends, delta)
