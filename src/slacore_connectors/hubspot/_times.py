"""HubSpot's times: ISO 8601 strings or epoch milliseconds, read as aware UTC times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.errors import ValidationError

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_AS_MS: Final = datetime(1970, 3, 1, tzinfo=UTC)
_EARLIEST: Final = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LAST: Final = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
_DIGITS: Final = re.compile(r"-?[0-9]{1,30}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_LIKE: Final = "a time like 2024-02-01T12:00:00.000Z or epoch milliseconds"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_ms(milliseconds: int, value: object, field: str) -> datetime:
    try:
        return _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR}, got "
            f"{_shown(value)} (epoch milliseconds out of range)",
            field=field,
            value=value,
        ) from None


def parse_time(value: object, *, field: str) -> datetime:
    """A HubSpot time as an aware UTC ``datetime``.

    Reads ISO 8601 strings (``2024-02-01T12:00:00.000Z``, ``2026-03-12T10:00:00Z``, any
    offset), epoch milliseconds (a JSON number, or a string of digits, as older answers
    write them), a date alone (``2024-05-01``, HubSpot's date properties, which it keeps at
    midnight UTC) and aware ``datetime`` objects (the SDK's).

    Refused: a time without an offset (never guessed), a time outside the years
    :data:`~slacore._values.FIRST_YEAR` to :data:`~slacore._values.LAST_YEAR`, and one in the
    first two months of 1970, which is epoch seconds written where milliseconds belong
    (integrations did write ``hs_timestamp`` so) or an epoch-zero placeholder.

    Raises:
        ValidationError: ``value`` is none of those; ``field`` (the property) is named.

    Examples:
        >>> parse_time("2026-03-12T10:00:00Z", field="hs_timestamp").isoformat()
        '2026-03-12T10:00:00+00:00'
        >>> parse_time(1706788800000, field="timestamp").isoformat()
        '2024-02-01T12:00:00+00:00'

    """

    def bad(why: str = "") -> ValidationError:
        return ValidationError(
            message=f"expected {_TIME_LIKE}, got {_shown(value)}{why}", field=field, value=value
        )

    moment: datetime
    if isinstance(value, bool):
        raise bad()
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int):
        moment = _from_ms(value, value, field)
    elif isinstance(value, float):
        if not value.is_integer():
            raise bad()
        moment = _from_ms(int(value), value, field)
    elif isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text):
            moment = _from_ms(int(text), value, field)
        elif _DATE.fullmatch(text):
            try:
                moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            except ValueError:
                raise bad() from None
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise bad() from None
    else:
        raise bad()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise bad(" (no offset: HubSpot times end in Z)")
    if not _EARLIEST <= moment < _AFTER_LAST:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR} (in UTC), got "
            f"{_shown(value)}",
            field=field,
            value=value,
        )
    if _EPOCH <= moment < _SECONDS_AS_MS:
        raise ValidationError(
            message=f"{_shown(value)} is in the first weeks of 1970: epoch seconds written as "
            "milliseconds, or a placeholder, not a time",
            field=field,
            value=value,
        )
    return moment.astimezone(UTC)
