"""Business calendars: working hours in one time zone, less holidays, and durations.

``from slacore.calendar import BusinessCalendar`` is the usual entry point; the calendar's
questions (is it open, add business time, business time between) live in
:mod:`slacore.calendar.business`, durations in :mod:`slacore.calendar.duration`.
"""

from __future__ import annotations

from slacore.calendar._timeline import epoch_us
from slacore.calendar.business import BusinessCalendar
from slacore.calendar.duration import format_duration, parse_duration

__all__ = ["BusinessCalendar", "epoch_us", "format_duration", "parse_duration"]
