"""Business calendars (working hours in one time zone, less holidays), durations and periods.

``from slacore.calendar import BusinessCalendar`` is the usual entry point; the calendar's
questions (is it open, add business time, business time between) live in
:mod:`slacore.calendar.business`, durations in :mod:`slacore.calendar.duration`, the
weeks, months, quarters and years that plans run on in :mod:`slacore.calendar.periods`.
"""

from __future__ import annotations

from slacore.calendar._timeline import epoch_us
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.duration import format_duration, parse_duration
from slacore.calendar.periods import Period, PeriodSpan

__all__ = [
    "BusinessCalendar",
    "Period",
    "PeriodSpan",
    "epoch_us",
    "format_duration",
    "parse_duration",
]
