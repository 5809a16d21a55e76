"""The value converters a field mapping uses: vendor text, times, money, booleans, names.

:func:`parse_boolean` is the connector package's one reading of a yes/no word, for field
mappings and settings alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from slacore._values import read_amount
from slacore.errors import ValidationError

_SPECIAL_FORMATS: Final = frozenset({"iso", "unix", "unix_ms"})

_YES_NO: Final = (("true", "false"), ("t", "f"), ("yes", "no"), ("y", "n"), ("1", "0"))

BOOLEAN_WORDS: Final[Mapping[str, bool]] = {
    word: meaning for pair in _YES_NO for word, meaning in zip(pair, (True, False), strict=True)
}
"""The words :func:`parse_boolean` reads, lowercase, and what each means."""

_ACCEPTED: Final = ", ".join("/".join(pair) for pair in _YES_NO)


def parse_boolean(value: object) -> bool:
    """Read a yes/no value: a ``bool`` as it is, or a word of :data:`BOOLEAN_WORDS` in any
    case, spaces around it ignored (``"true"``/``"false"``, ``"t"``/``"f"``, ``"yes"``/``"no"``,
    ``"y"``/``"n"``, ``"1"``/``"0"``).

    Numbers are not taken (``1`` is no yes); a field mapping also takes the numbers 0 and 1,
    as vendor JSON writes flags that way.

    Raises:
        ValueError: Anything else; the message lists the accepted words.

    """
    if isinstance(value, str):
        # The exact spelling first: the common case costs one look-up.
        meaning = BOOLEAN_WORDS.get(value)
        if meaning is None:
            meaning = BOOLEAN_WORDS.get(value.strip().lower())
        if meaning is not None:
            return meaning
    elif isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false ({_ACCEPTED}), got {value!r}")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _time_converter(
    formats: tuple[str, ...], zone: ZoneInfo | None
) -> Callable[[object], datetime]:
    patterns = tuple(f for f in formats if f not in _SPECIAL_FORMATS)
    unix = "unix" in formats
    unix_ms = "unix_ms" in formats
    named = ", ".join(f for f in formats if f != "iso")
    expected = "a time like 2026-01-05T09:30:00+01:00" + (f" or {named}" if named else "")

    def from_epoch(number: float) -> datetime:
        try:
            return datetime.fromtimestamp(number / 1000 if unix_ms else number, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValidationError(
                message=f"expected {expected}, got {number!r}", value=number
            ) from None

    def convert(value: object) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            text = value.strip()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                parsed = _try_patterns(text, patterns)
                if parsed is None:
                    if (unix or unix_ms) and re.fullmatch(r"-?\d+(\.\d+)?", text):
                        return from_epoch(float(text))
                    raise ValidationError(
                        message=f"expected {expected}, got {value!r}", value=value
                    ) from None
                moment = parsed
        elif (unix or unix_ms) and isinstance(value, int | float) and not isinstance(value, bool):
            return from_epoch(value)
        else:
            raise ValidationError(
                message=f"expected {expected}, got {type(value).__name__} {value!r}", value=value
            )
        if moment.tzinfo is None or moment.utcoffset() is None:
            if zone is None:
                raise ValidationError(
                    message=f"naive time {value!r} has no offset and no timezone is set "
                    '(add timezone = "Europe/Berlin" or the like to the settings)',
                    value=value,
                )
            moment = moment.replace(tzinfo=zone)
        return moment

    return convert


def _try_patterns(text: str, patterns: tuple[str, ...]) -> datetime | None:
    for pattern in patterns:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(message=f"expected text, got {type(value).__name__} {value!r}")


def _boolean(value: object) -> bool:
    try:
        return parse_boolean(value)
    except ValueError:
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValidationError(
            message=f"expected true or false (yes/no, 1/0), got {value!r}", value=value
        ) from None


def _money_converter(decimal_mark: str) -> Callable[[object], Decimal]:
    def convert(value: object) -> Decimal:
        return read_amount(value, decimal_mark=decimal_mark, setting="decimal_mark")

    return convert


def _value_map(
    table: Mapping[str, str], known: Sequence[str], what: str, setting: str
) -> Callable[[object], str]:
    lookup = {_norm(key): value for key, value in table.items()}
    by_lower = {key.lower(): key for key in known}
    # Exact spellings first: the common case costs one dict look-up.
    exact = {**{key: key for key in known}, **table}
    listed = ", ".join(known)

    def convert(value: object) -> str:
        if not isinstance(value, str):
            value = _text(value)
        mapped = exact.get(value)
        if mapped is not None:
            return mapped
        mapped = lookup.get(_norm(value))
        if mapped is not None:
            return mapped
        key = by_lower.get(value.strip().lower())
        if key is not None:
            return key
        raise ValidationError(
            message=f"unknown {what} {value!r}: expected one of {listed} "
            f"or a name mapped in {setting}",
            value=value,
        )

    return convert
