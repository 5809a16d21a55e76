"""Salesforce's values as REST (JSON) and Bulk API 2.0 (CSV) write them, read strictly.

REST writes datetimes ``2026-03-12T10:00:00.000+0000``, Bulk 2.0 CSV
``2026-03-12T10:00:00.000Z``; dates are ``YYYY-MM-DD`` in both; booleans are JSON ``true``
and ``false`` in REST and the strings ``"true"``/``"false"`` in CSV, where every value is a
string and an empty one is null (VENDORS.md 3.3, 6.8). Ids are 15 or 18 letters and digits;
their first three characters say what they are (6.9): polymorphic fields (``WhoId``,
``OwnerId``) are read by that prefix, never by ``attributes.type``, which answers ``"Name"``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.errors import ValidationError

_DATETIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:?[0-9]{2})"
)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID: Final = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_EARLIEST: Final = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LAST: Final = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)


class IdKind(enum.StrEnum):
    """What a Salesforce id names, by its three-character key prefix."""

    LEAD = "00Q"
    CONTACT = "003"
    USER = "005"
    QUEUE = "00G"
    """A queue (a ``Group``): an owner that is no person, so no rep."""
    OPPORTUNITY = "006"
    ACCOUNT = "001"
    OTHER = "other"


_KINDS: Final = {kind.value: kind for kind in IdKind if kind is not IdKind.OTHER}


def id_kind(record_id: str) -> IdKind:
    """What the Salesforce id ``record_id`` names, by its key prefix.

    Examples:
        >>> id_kind("00Q5e00000AbCdEEAV"), id_kind("00G5e000001QueueAA"), id_kind("a015e0000")
        (<IdKind.LEAD: '00Q'>, <IdKind.QUEUE: '00G'>, <IdKind.OTHER: 'other'>)

    """
    return _KINDS.get(record_id[:3], IdKind.OTHER)


def shown(value: object) -> str:
    """``value`` as an error shows it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def text(value: object, field: str) -> str | None:
    """A text field, stripped; ``None`` for null and for ``""`` (Bulk CSV's null).

    Raises:
        ValidationError: ``value`` is not a string; ``field`` is named.

    """
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise ValidationError(
        message=f"expected text, got {type(value).__name__} {shown(value)}",
        field=field,
        value=value,
    )


def sf_id(value: object, field: str, *, kinds: tuple[IdKind, ...] = ()) -> str | None:
    """A Salesforce id (15 or 18 letters and digits), ``None`` when null or empty.

    Args:
        value: The field's value.
        field: The field, named in an error.
        kinds: The kinds of id the field may hold (empty: any).

    Raises:
        ValidationError: ``value`` is no id, or an id of another kind.

    Examples:
        >>> sf_id("005000000000001AAA", "OwnerId", kinds=(IdKind.USER, IdKind.QUEUE))
        '005000000000001AAA'

    """
    found = text(value, field)
    if found is None:
        return None
    if not _ID.fullmatch(found):
        raise ValidationError(
            message=f"expected a Salesforce id (15 or 18 letters and digits), got {shown(value)}",
            field=field,
            value=value,
        )
    if kinds and id_kind(found) not in kinds:
        names = " or ".join(f"{k.name.lower()} ({k.value})" for k in kinds)
        raise ValidationError(
            message=f"expected the id of a {names}, got {shown(value)}", field=field, value=value
        )
    return found


def required_id(row: Mapping[str, Any], field: str, *kinds: IdKind) -> str:
    """The row's id in ``field``, which must be there.

    Raises:
        ValidationError: It is missing or malformed.

    """
    found = sf_id(row.get(field), field, kinds=kinds)
    if found is None:
        raise ValidationError(message="missing value: the row has no id here", field=field)
    return found


def parse_datetime(value: object, *, field: str) -> datetime:
    """A Salesforce datetime as an aware UTC ``datetime``.

    Reads REST's ``2026-03-12T10:00:00.000+0000`` and Bulk 2.0's ``2026-03-12T10:00:00.000Z``
    (milliseconds optional, any offset). Refused: a date alone (a date is no moment), a time
    without an offset, anything else, and a year outside 1900 to 2099.

    Raises:
        ValidationError: ``value`` is no such datetime; ``field`` is named.

    Examples:
        >>> parse_datetime("2026-03-12T10:00:00.000+0000", field="CreatedDate").isoformat()
        '2026-03-12T10:00:00+00:00'
        >>> parse_datetime("2026-03-12T10:00:00.000Z", field="CreatedDate").isoformat()
        '2026-03-12T10:00:00+00:00'

    """
    written = value.strip() if isinstance(value, str) else None
    moment: datetime | None = None
    if written is not None and _DATETIME.fullmatch(written):
        try:
            moment = datetime.fromisoformat(written)
        except ValueError:
            moment = None
    if moment is None:
        raise ValidationError(
            message=f"expected a datetime like 2026-03-12T10:00:00.000+0000, got {shown(value)}",
            field=field,
            value=value,
        )
    if not _EARLIEST <= moment < _AFTER_LAST:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR}, got {shown(value)}",
            field=field,
            value=value,
        )
    return moment.astimezone(UTC)


def optional_datetime(value: object, *, field: str) -> datetime | None:
    """:func:`parse_datetime`, or ``None`` for null and ``""``."""
    if value is None or value == "":
        return None
    return parse_datetime(value, field=field)


def parse_date(value: object, *, field: str) -> date | None:
    """A Salesforce date (``YYYY-MM-DD``) as a ``date``, kept a date; ``None`` for null, ``""``.

    Raises:
        ValidationError: ``value`` is no such date (a datetime included); ``field`` is named.

    Examples:
        >>> parse_date("2026-03-12", field="ConvertedDate"), parse_date("", field="CloseDate")
        (datetime.date(2026, 3, 12), None)

    """
    if value is None or value == "":
        return None
    written = value.strip() if isinstance(value, str) else None
    if written is not None and _DATE.fullmatch(written):
        try:
            found = date.fromisoformat(written)
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= found.year <= LAST_YEAR:
                return found
    raise ValidationError(
        message=f"expected a date like 2026-03-12, got {shown(value)}", field=field, value=value
    )


def parse_flag(value: object, *, field: str) -> bool | None:
    """A Salesforce boolean: JSON ``true``/``false`` or CSV ``"true"``/``"false"`` (any case);
    ``None`` for null and ``""``.

    Raises:
        ValidationError: Anything else; ``field`` is named.

    Examples:
        >>> parse_flag(True, field="IsWon"), parse_flag("false", field="IsWon")
        (True, False)

    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ValidationError(
        message=f"expected true or false, got {shown(value)}", field=field, value=value
    )


def is_deleted(row: Mapping[str, Any]) -> bool:
    """Whether a row read through ``queryAll`` is deleted (``IsDeleted``): a deletion for the
    connector to report, not a record to map. A row without the field is not.

    Raises:
        ValidationError: ``IsDeleted`` is no boolean.

    Examples:
        >>> is_deleted({"Id": "00Q000000000001AAA", "IsDeleted": "true"}), is_deleted({})
        (True, False)

    """
    return parse_flag(row.get("IsDeleted"), field="IsDeleted") or False
