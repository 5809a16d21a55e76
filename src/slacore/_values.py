"""Normalising and checking the basic values: money, rates, counts, aware times, ids.

Converters here only normalise (``"1,250,000"`` -> ``Decimal("1250000")``); they raise
:class:`~slacore.errors.ValidationError` for input that cannot be a value of the kind at all.
Range checks (not negative, at most 1) live in the validators, which know the field.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
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


MAX_AMOUNT = Decimal(10) ** 15
"""Amounts read from text, files and numbers lie below this in size (a thousand trillion)."""

MAX_PLACES = 6
"""Amounts read have at most this many decimal places.

With at most 15 digits before the point and 6 after, sums of millions of amounts stay exact in
Decimal's 28 digits, and every figure derived from them renders.
"""

DECIMAL_MARKS = (".", ",")
"""The decimal marks an amount may be written with: a point (the default) or a comma."""

_SEPARATORS = {".": ",_", ",": ". _\u00a0\u202f"}
_EXAMPLES = {".": "1,250,000.50", ",": "1.250.000,50"}
_PLAIN = {".": "5000 or 1250000.50", ",": "5000 or 1250000,50"}


@functools.cache
def _amount_pattern(mark: str) -> re.Pattern[str]:
    separators = re.escape(_SEPARATORS[mark])
    return re.compile(
        r"(?P<sign>[-+]?)[ \t]*(?P<currency>\$?)[ \t]*(?P<sign2>[-+]?)"
        rf"(?P<whole>[0-9]+|[0-9]{{1,3}}(?P<sep>[{separators}])[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*)?"
        rf"(?:{re.escape(mark)}(?P<fraction>[0-9]+))?"
    )


def parse_amount(
    text: str, *, decimal_mark: str = ".", field: str | None = None, setting: str | None = None
) -> Decimal:
    """Read an amount of money written as text, by slacore's one grammar for amounts.

    The grammar: an optional sign (``-`` or ``+``), an optional ``$``, then the digits; the
    whole part either plain (``1250000``) or in groups of three split by one thousands
    separator (``1,250,000``); then optionally the decimal mark and at least one digit
    (``.50``). With ``decimal_mark="."`` the thousands separator is ``,`` or ``_``; with
    ``decimal_mark=","`` it is ``.``, a space, a no-break space or ``_``
    (``1.250.000,50``, ``1 250 000,50``). Spaces around the text are ignored.

    Anything else is refused, never guessed: a decimal comma where a point is expected
    (``12,50`` is not 1250), groups that are not of three digits (``1,2,3``), exponents
    (``1e5``), ``NaN`` and ``Infinity``.

    Args:
        text: The amount as written.
        decimal_mark: ``"."`` or ``","``.
        field: The field named in the error.
        setting: The setting that chooses the decimal mark, named in the error's hint when
            the text reads as the other mark (``"decimal_mark"`` for the csv connector).

    Raises:
        ValidationError: ``text`` does not follow the grammar; the message says why.

    Examples:
        >>> parse_amount("$1,250,000.50"), parse_amount("1.234,56", decimal_mark=",")
        (Decimal('1250000.50'), Decimal('1234.56'))

    """
    if decimal_mark not in DECIMAL_MARKS:
        raise ValueError(f"decimal_mark must be '.' or ',', got {decimal_mark!r}")
    stripped = text.strip()
    amount = _read_amount(stripped, decimal_mark)
    if amount is None:
        raise ValidationError(
            message=f"expected an amount of money like {_PLAIN[decimal_mark]}, got "
            + _shown_text(text)
            + _why_not(stripped, decimal_mark, setting),
            field=field,
            value=text,
        )
    return _bounded(amount, text, field)


def _shown_text(text: str) -> str:
    """``text`` as an error shows it: its repr, cut to 40 characters."""
    return repr(text) if len(text) <= 40 else f"{text[:37]!r}... ({len(text):,} characters)"


def _bounded(amount: Decimal, value: object, field: str | None) -> Decimal:
    """``amount`` if it lies within :data:`MAX_AMOUNT` and :data:`MAX_PLACES`."""
    shown = _shown_text(value) if isinstance(value, str) else repr(value)
    if abs(amount) >= MAX_AMOUNT:
        raise ValidationError(
            message=f"expected an amount below 1,000,000,000,000,000 (10^15), got {shown}",
            field=field,
            value=value,
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise ValidationError(
            message=f"expected at most {MAX_PLACES} decimal places, got {shown}",
            field=field,
            value=value,
        )
    return amount


_NO_SEPARATORS = str.maketrans("", "", ",._ \u00a0\u202f")


def _read_amount(text: str, mark: str) -> Decimal | None:
    found = _amount_pattern(mark).fullmatch(text)
    if (
        found is None
        or (found["sign"] and found["sign2"])
        or (found["whole"] is None and found["fraction"] is None)
    ):
        return None
    whole = (found["whole"] or "0").translate(_NO_SEPARATORS)
    sign = "-" if "-" in (found["sign"], found["sign2"]) else ""
    return Decimal(f"{sign}{whole}.{found['fraction']}" if found["fraction"] else sign + whole)


def _why_not(text: str, mark: str, setting: str | None) -> str:
    """Why ``text`` is no amount, as the end of a message (``" (...)"``), or ``""``."""
    lowered = text.lower()
    if "nan" in lowered or "inf" in lowered:
        return " (not a number)"
    if re.search(r"[0-9.][eE][-+]?[0-9]", text):
        return " (exponents like 1e5 are not taken: write the digits)"
    other = "," if mark == "." else "."
    otherwise = _read_amount(text, other)
    if otherwise is not None:
        names = {".": "a decimal point", ",": "a decimal comma"}
        hint = f'; or set {setting} = "{other}"' if setting else ""
        return (
            f" (with {names[other]} it would be {otherwise}; amounts here take "
            f"{names[mark]}, like {_EXAMPLES[mark]}{hint})"
        )
    if re.fullmatch(f"[-+$0-9{re.escape(_SEPARATORS[mark] + mark)}]+", text):
        return f" (thousands separators go between groups of three digits, like {_EXAMPLES[mark]})"
    return ""


def to_money(value: MoneyLike, *, field: str | None = None, decimal_mark: str = ".") -> Decimal:
    """Convert ``value`` to a Decimal amount of money.

    Accepts Decimal, int, float (through its shortest repr, so ``0.1`` is exactly 0.1) and
    text by the grammar of :func:`parse_amount`: ``"1250000"``, ``"1,250,000.50"``,
    ``"$5,000"``, ``"1_000"``; with ``decimal_mark=","``, ``"1.250.000,50"``. Text, ints and
    floats (what files and people write) must lie below :data:`MAX_AMOUNT` with at most
    :data:`MAX_PLACES` decimal places; a Decimal (what the code computed) is taken as it is.

    Raises:
        ValidationError: ``value`` is not a finite number, text that is not an amount, or an
            amount out of bounds.

    """
    if isinstance(value, bool):
        raise ValidationError(
            message=f"expected an amount of money, got {value!r}", field=field, value=value
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = _bounded(Decimal(value), value, field)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
        if amount.is_finite():
            amount = _bounded(amount, value, field)
    elif isinstance(value, str):
        amount = parse_amount(value, decimal_mark=decimal_mark, field=field)
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


_RATE_DIGITS = 18
_DIGITS = rf"[0-9]{{1,{_RATE_DIGITS}}}"
_RATE_NUMBER = rf"[-+]?(?:{_DIGITS}(?:\.{_DIGITS})?|\.{_DIGITS})"
_RATE_TEXT = re.compile(
    rf"(?:{_RATE_NUMBER}|[-+]?{_DIGITS}/{_DIGITS})"
    r"(?:[ \t]*%)?"
)


def read_amount(
    value: object, *, field: str | None = None, decimal_mark: str = ".", setting: str | None = None
) -> Decimal:
    """An amount read from outside (a file, a vendor record): text by :func:`parse_amount`, and
    any number, a Decimal too, within :data:`MAX_AMOUNT` and :data:`MAX_PLACES`.

    Raises:
        ValidationError: ``value`` is no amount, or one out of bounds.

    """
    if isinstance(value, str):
        return parse_amount(value, decimal_mark=decimal_mark, field=field, setting=setting)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _bounded(to_money(value, field=field), value, field)
    raise ValidationError(
        message=f"expected an amount of money, got {type(value).__name__} {value!r}",
        field=field,
        value=value,
    )


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
            # A huge exponent would take minutes to turn into a fraction.
            if not value.is_finite() or abs(value.adjusted()) > _RATE_DIGITS:
                raise bad
            return Fraction(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise bad
            return Fraction(repr(value))
        if isinstance(value, str):
            text = value.strip()
            # Fraction() takes exponents: "1e999999999" would take hours to build.
            if not _RATE_TEXT.fullmatch(text):
                raise bad
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
    if percent and not -_RATE_DIGITS <= percent.adjusted() <= _RATE_DIGITS:
        # Too large or too small for cents of a percent: shown in full it would not fit.
        return f"{percent:.2E}%"
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
