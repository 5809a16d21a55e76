"""Durations written the way an agreement says them: ``"5m"``, ``"1h"``, ``"24h"``, ``"14d"``.

A duration string is one or more ``<number><unit>`` parts, largest unit first, optionally
separated by spaces: ``"1h30m"``, ``"1h 30m"``, ``"2d 4h"``, ``"1.5h"``. Units: ``w`` (weeks),
``d`` (days), ``h`` (hours), ``m`` (minutes), ``s`` (seconds). Whether a day means 24 hours or
a business day is decided by the rule that uses the duration, not here: ``"14d"`` is always
14 x 24 hours of clock time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from slacore.errors import ValidationError

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

MAX_DURATION = timedelta(days=3650)
"""The longest duration a string may give: 3650 days, about ten years. Longer is a typo, and
adding it to a time could leave the years a calendar computes with."""

_UNITS: dict[str, timedelta] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_ORDER = "wdhms"
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)
_EXPECTED = 'expected a duration like "5m", "1h", "24h" or "14d"'


def parse_duration(value: str | timedelta, *, field: str | None = None) -> timedelta:
    """Parse ``value`` into a :class:`~datetime.timedelta`.

    Args:
        value: A duration string such as ``"1h"`` or ``"1h 30m"``, or a ``timedelta``
            (returned unchanged).
        field: The name of the field being parsed, for the error message.

    Returns:
        The duration. Always positive.

    Raises:
        ValidationError: The string is not a duration, repeats or misorders a unit, the
            duration is zero or negative, or a string gives more than :data:`MAX_DURATION`.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_duration("14d").days
    14

    """
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, str):
        duration = _parse_text(value, field)
    else:
        raise ValidationError(
            message=f"{_EXPECTED}, got {type(value).__name__} {value!r}",
            field=field,
            value=value,
        )
    if duration <= timedelta(0):
        raise ValidationError(
            message=f"expected a positive duration, got {value!r}", field=field, value=value
        )
    return duration


def _parse_text(text: str, field: str | None) -> timedelta:
    position = 0
    stripped = text.strip()
    total = timedelta(0)
    last_rank = -1
    if not stripped:
        raise ValidationError(message=f"{_EXPECTED}, got {text!r}", field=field, value=text)
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None:
            raise ValidationError(message=f"{_EXPECTED}, got {text!r}", field=field, value=text)
        number, unit = match.group(1), match.group(2).lower()
        rank = _ORDER.index(unit)
        if rank <= last_rank:
            raise ValidationError(
                message=f"units must go from largest to smallest, once each, got {text!r}",
                field=field,
                value=text,
            )
        last_rank = rank
        try:
            amount = Decimal(number)
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            raise ValidationError(
                message=f"{_EXPECTED}, got {text!r}", field=field, value=text
            ) from None
        seconds = amount * Decimal(int(_UNITS[unit].total_seconds()))
        # Checked before the sum: "99999999999d" overflows a timedelta.
        if seconds > _MAX_SECONDS or total + timedelta(seconds=float(seconds)) > MAX_DURATION:
            raise ValidationError(
                message=f"expected a duration of at most {MAX_DURATION.days}d "
                f"(about ten years), got {text!r}",
                field=field,
                value=text,
            )
        total += timedelta(seconds=float(seconds))
        position = match.end()
    return total


_MAX_SECONDS = Decimal(int(MAX_DURATION.total_seconds()))


def format_duration(duration: timedelta) -> str:
    """Format ``duration`` compactly: ``"1h 30m"``, ``"14d"``, ``"45s"``, ``"0s"``.

    Negative durations get a leading minus sign. Sub-second parts are dropped.

    >>> format_duration(timedelta(hours=25, minutes=5))
    '1d 1h 5m'
    """
    seconds = int(duration.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts: list[str] = []
    for unit in "dhms":
        size = int(_UNITS[unit].total_seconds())
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + (" ".join(parts) if parts else "0s")
