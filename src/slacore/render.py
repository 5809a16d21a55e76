"""Turning figures into text: money, counts, rates, Markdown tables, JSON-ready values.

Results call these to explain themselves; reports are built from the results' own figures,
never recomputed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from slacore._values import format_rate
from slacore.calendar.duration import format_duration

__all__ = [
    "format_count",
    "format_money",
    "format_rate",
    "json_dict",
    "jsonable",
    "markdown_table",
    "result_markdown",
]


def format_money(amount: Decimal, *, symbol: str = "$") -> str:
    """Format money with thousands separators; cents only when there are any.

    >>> format_money(Decimal("550000"))
    '$550,000'
    >>> format_money(Decimal("833333.33"))
    '$833,333.33'
    >>> format_money(Decimal("-1250.5"))
    '-$1,250.50'
    """
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole = amount == amount.to_integral_value()
    text = f"{int(amount):,}" if whole else f"{amount:,.2f}"
    return f"{sign}{symbol}{text}"


def format_count(count: int) -> str:
    """Format a count with thousands separators: ``1,000``."""
    return f"{count:,}"


def jsonable(value: Any) -> Any:
    """Convert a figure to a JSON-ready value.

    Decimals (money) become strings so no cent is lost to floating point; rates
    (Fractions) become floats; dates and times ISO 8601 strings; durations seconds;
    enums their value; mappings and sequences are converted item by item.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def json_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`jsonable` for a mapping of figures: the body of every ``to_dict()``."""
    return {str(key): jsonable(value) for key, value in data.items()}


def cell(value: Any) -> str:
    """Format one value for a table cell."""
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, Fraction):
        return format_rate(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_count(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None:
        return ""
    return str(value).replace("|", "\\|")


def _numeric_column(values: list[Any]) -> bool:
    filled = [v for v in values if v is not None and v != ""]
    return bool(filled) and all(
        isinstance(v, int | Decimal | Fraction) and not isinstance(v, bool) for v in filled
    )


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; numbers are right-aligned.

    >>> print(markdown_table(["source", "value"], [["referral", Decimal(5000)]]))
    | source | value |
    | --- | ---: |
    | referral | $5,000 |
    """
    materialised = [list(row) for row in rows]
    numeric = [_numeric_column([row[i] for row in materialised]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in materialised)
    return "\n".join(lines)


def result_markdown(explanation: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A result's Markdown: its explanation, then its figures as a table.

    >>> print(result_markdown("Two figures.", ["figure", "value"], [["goal", Decimal(5)]]))
    Two figures.
    <BLANKLINE>
    | figure | value |
    | --- | ---: |
    | goal | $5 |
    <BLANKLINE>
    """
    return f"{explanation}\n\n{markdown_table(header, rows)}\n"
