"""English phrasing for the agreement's sentences: dates, lists, plurals, spans of time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from slacore.model import Channel, Team
from slacore.render import format_count

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _join(items: Sequence[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _plural(count: int, singular: str, plural: str = "") -> str:
    if count == 1:
        return singular
    if plural:
        return plural
    if singular.endswith("y") and singular[-2:-1] not in tuple("aeiou"):
        return singular[:-1] + "ies"
    if singular.endswith(("s", "x", "ch", "sh")):
        return singular + "es"
    return singular + "s"


def _count_of(count: int, singular: str, plural: str = "") -> str:
    return f"{format_count(count)} {_plural(count, singular, plural)}"


def _span_words(duration: timedelta, *, business: bool = False) -> str:
    """``"1 business hour"``, ``"24 hours"``, ``"14 days"``, ``"30 minutes"``."""
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    prefix = "business " if business else ""
    if not business and seconds % 86400 == 0 and seconds > 3 * 86400:
        return _count_of(seconds // 86400, "day")
    if hours and minutes:
        return f"{_count_of(hours, prefix + 'hour')} {_count_of(minutes, 'minute')}"
    if hours:
        return _count_of(hours, prefix + "hour")
    return _count_of(max(minutes, 1), prefix + "minute")


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _decimal(rate: Fraction) -> Decimal:
    return Decimal(rate.numerator) / Decimal(rate.denominator)


def _team_name(team: Team) -> str:
    return team.value.capitalize()


_ACTION_VERBS = {Channel.CALL: "call", Channel.EMAIL: "email", Channel.MEETING: "meet"}
