"""Normalising and checking the basic values: money, rates, counts, aware times, ids.

Converters here only normalise (``"1,250,000"`` -> ``Decimal("1250000")``); they raise
:class:`~slacore.errors.ValidationError` for input that cannot be a value of the kind at all.
Range checks (not negative, at most 1) live in the validators, which know the field.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import attrs

from slacore.errors import ValidationError

Money = Decimal
"""Money is always a :class:`decimal.Decimal`; the currency is the agreement's."""

MoneyLike = Decimal | int | str | float
RateLike = Fraction | Decimal | int | str | float

CENT = Decimal("0.01")

FIRST_YEAR = 1900
"""The first year a record's time may fall in (its instant in UTC)."""

LAST_YEAR = 2099
"""The last year a record's time may fall in (its instant in UTC).

Times of records (a lead created, a touch, a hand-off, a deal opened) lie between
1900-01-01T00:00Z and the end of 2099 in UTC. Outside it they are placeholders (``0001-01-01``,
``9999-12-31``, Excel's ``1899-12-30``), not events; and any two times in it lie within the
200 years a business calendar answers for, with room left for business-hours deadlines,
month periods and days added to them.
"""

_EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LAST = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)


def to_money(value: MoneyLike, *, field: str | None = None) -> Decimal:
    """Convert ``value`` to a Decimal amount of money.

    Accepts Decimal, int, float (through its shortest repr, so ``0.1`` is exactly 0.1) and
    strings such as ``"1250000"``, ``"1,250,000.50"``, ``"$5,000"`` or ``"1_000"``.

    Raises:
        ValidationError: ``value`` is not a finite number.

    """
    if isinstance(value, bool):
        raise ValidationError(
            message=f"expected an amount of money, got {value!r}", field=field, value=value
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "").lstrip("$").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(
                message=f"expected an amount of money like 5000 or 1250000.50, got {value!r}",
                field=field,
                value=value,
            ) from None
    else:
        raise ValidationError(
            message=f"expected an amount of money, got {type(value).__name__} {value!r}",
            field=field,
            value=value,
        )
    if not amount.is_finite():
        raise ValidationError(
            message=f"expected a finite amount of money, got {value!r}", field=field, value=value
        )
    return amount


def to_rate(value: RateLike, *, field: str | None = None) -> Fraction:
    """Convert ``value`` to an exact :class:`~fractions.Fraction`.

    Rates are kept exact so that ``1/3`` of 15 is 5, not 5.0000001 rounded up to 6. Accepts
    Fraction, Decimal, int, float (through its shortest repr: ``0.3`` is exactly 3/10) and
    strings such as ``"0.25"``, ``"25%"`` or ``"1/3"``.

    Raises:
        ValidationError: ``value`` is not a finite number.

    """
    bad = ValidationError(
        message=f'expected a rate like 0.25, "25%" or "1/3", got {value!r}',
        field=field,
        value=value,
    )
    if isinstance(value, bool):
        raise bad
    try:
        if isinstance(value, Fraction | int):
            return Fraction(value)
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise bad
            return Fraction(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise bad
            return Fraction(repr(value))
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("%"):
                return Fraction(text[:-1].strip()) / 100
            return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise bad from None
    raise bad


def quantize_money(amount: Decimal | Fraction) -> Decimal:
    """Round ``amount`` to cents, half up (the way people round money)."""
    if isinstance(amount, Fraction):
        amount = Decimal(amount.numerator) / Decimal(amount.denominator)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def ceil_count(value: Fraction | Decimal | int) -> int:
    """Round a count needed up: 100.01 leads needed is 101 leads."""
    return math.ceil(value)


def rate_to_json(rate: Fraction) -> float:
    """A rate for JSON: a float (rates are ratios, not money)."""
    return float(rate)


def format_rate(rate: Fraction) -> str:
    """Format a rate as a percentage: ``25%``, ``33.33%``."""
    percent = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    text = f"{percent.quantize(CENT, rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return f"{text}%"


# --- attrs validators -------------------------------------------------------------------------


def _record_id(instance: Any) -> str | None:
    for name in ("id", "lead_id", "key"):
        value = getattr(instance, name, None)
        if isinstance(value, str):
            return value
    return None


def aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that ``value`` is a timezone-aware datetime (or ``None`` if optional) whose
    instant falls in the years :data:`FIRST_YEAR` to :data:`LAST_YEAR` (in UTC)."""
    if value is None and attribute.default is None:
        return
    if not isinstance(value, datetime):
        raise ValidationError(
            message=f"expected a timezone-aware datetime, got {type(value).__name__} {value!r}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(
            message=(
                f"expected a timezone-aware datetime, got naive {value.isoformat()} "
                "(attach a zone, e.g. datetime(..., tzinfo=ZoneInfo('America/New_York')))"
            ),
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )
    # Compared as instants: converting 0001-01-01T00:00+05:00 to UTC would overflow.
    if not _EARLIEST <= value < _AFTER_LAST:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR} (in UTC), "
            f"got {value.isoformat()}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )


def identifier(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a non-empty string id (``None`` allowed when the field is optional)."""
    if value is None and attribute.default is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            message=f"expected a non-empty string, got {value!r}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance) if attribute.name not in ("id", "lead_id") else None,
        )


def flag(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a yes/no field: ``True`` or ``False`` only (``"false"`` would read as yes)."""
    if not isinstance(value, bool):
        raise ValidationError(
            message=f"expected True or False, got {value!r}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )


def non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that a number (money, count) is not negative."""
    if value is not None and value < 0:
        raise ValidationError(
            message=f"must not be negative, got {value}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )


def positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate that a number is greater than zero."""
    if value is not None and value <= 0:
        raise ValidationError(
            message=f"must be greater than zero, got {value}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )


def probability(instance: Any, attribute: attrs.Attribute[Any], value: Fraction) -> None:
    """Validate a rate in [0, 1]."""
    if not 0 <= value <= 1:
        raise ValidationError(
            message=f"expected a rate between 0 and 1, got {format_rate(value)}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )


def is_date(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validate a calendar date (a ``date``, not a ``datetime``)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(
            message=f"expected a date like 2026-06-30, got {value!r}",
            field=attribute.name,
            value=value,
            record_id=_record_id(instance),
        )
