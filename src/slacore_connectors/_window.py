"""What the windowed connectors (``hubspot``, ``salesforce``) share about their cursors: times
as epoch milliseconds in a cursor's state, and reading that state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from slacore.connector import Cursor
from slacore.connector.streams import JSONScalar
from slacore.errors import ValidationError

#: Where a first read starts when no ``start`` setting says otherwise: the epoch.
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    """A time as epoch milliseconds."""
    return int(moment.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    """Epoch milliseconds as an aware UTC time."""
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def int_of(state: Mapping[str, JSONScalar], key: str) -> int | None:
    """The integer at ``key`` of a cursor's state (an int or a string of digits), or None."""
    value = state.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def state_of(cursor: Cursor | None) -> dict[str, JSONScalar]:
    """A cursor's state, or an empty one."""
    return {} if cursor is None else dict(cursor.state)


def parse_start(value: object) -> datetime | None:
    """The ``start`` setting: where a first read starts, an ISO date (its start, in UTC) or a
    time with its offset; None when not given.

    Raises:
        ValidationError: Anything else, naming ``start``.

    """
    if value is None:
        return None
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            message=f"expected an ISO date or time like 2026-01-01T00:00:00Z, got {text!r}",
            field="start",
            value=text,
        ) from None
    if len(text) == 10:  # a date: its start, in UTC
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            message=f"expected a time with its offset (Z, +01:00), got {text!r}",
            field="start",
            value=text,
        )
    return moment.astimezone(UTC)
