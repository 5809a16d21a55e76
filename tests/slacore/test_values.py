from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from slacore import ValidationError
from slacore._values import (
    ceil_count,
    format_rate,
    parse_amount,
    quantize_money,
    to_money,
    to_rate,
)
from slacore.render import format_money, jsonable, markdown_table


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5000, Decimal("5000")),
        ("1,250,000", Decimal("1250000")),
        ("$833,333.33", Decimal("833333.33")),
        ("1_000", Decimal("1000")),
        (0.1, Decimal("0.1")),
        (Decimal("2.50"), Decimal("2.50")),
    ],
)
def test_to_money(value: object, expected: Decimal) -> None:
    assert to_money(value, field="amount") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", "", True, None, [1], "NaN", "Infinity", Decimal("NaN")])
def test_to_money_rejects(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        to_money(value, field="deal.amount")  # type: ignore[arg-type]
    assert info.value.field == "deal.amount"


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("12500", ".", "12500"),
        ("12,500.50", ".", "12500.50"),
        ("$12,500.50", ".", "12500.50"),
        ("-$5", ".", "-5"),
        ("$ -5", ".", "-5"),
        ("+7", ".", "7"),
        (".5", ".", "0.5"),
        ("1_000_000", ".", "1000000"),
        (" 1234567.891 ", ".", "1234567.891"),
        ("12,50", ",", "12.50"),
        ("1.234,56", ",", "1234.56"),
        ("1 234 567,8", ",", "1234567.8"),
        ("1\u00a0234,56", ",", "1234.56"),
        ("$1.234", ",", "1234"),
        ("1234,5", ",", "1234.5"),
    ],
)
def test_the_amount_grammar(text: str, mark: str, expected: str) -> None:
    assert parse_amount(text, decimal_mark=mark) == Decimal(expected)
    assert to_money(text, decimal_mark=mark) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "mark", "why"),
    [
        # A decimal comma is never taken for a thousands separator (12,50 was 1250).
        ("12,50", ".", "with a decimal comma it would be 12.50"),
        ("1.234,56", ".", "with a decimal comma it would be 1234.56"),
        ("1,234.56", ",", "with a decimal point it would be 1234.56"),
        ("1,2,3", ".", "thousands separators go between groups of three digits"),
        ("1,23,456", ".", "groups of three digits"),
        ("1.2.3", ",", "groups of three digits"),
        ("12,500.5,0", ".", ""),
        ("1e5", ".", "exponents like 1e5 are not taken"),
        ("1E+999999999", ".", "exponents"),
        ("NaN", ".", "not a number"),
        ("-Infinity", ".", "not a number"),
        ("5.", ".", ""),
        ("--5", ".", ""),
        ("-$-5", ".", ""),
        ("(5)", ".", ""),
        ("5 EUR", ".", ""),
        ("", ".", ""),
        ("$", ".", ""),
        ("\u0665", ".", ""),  # an Arabic-Indic five: digits are 0-9
    ],
)
def test_the_amount_grammar_refuses_what_is_not_plain(text: str, mark: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_amount(text, decimal_mark=mark, field="amount")
    example = "5000 or 1250000.50" if mark == "." else "5000 or 1250000,50"
    assert info.value.message.startswith(f"expected an amount of money like {example}, got ")
    assert why in info.value.message
    assert info.value.field == "amount"
    assert "\n" not in str(info.value)


def test_the_setting_that_chooses_the_mark_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        parse_amount("12,50", setting="decimal_mark")
    assert info.value.message.endswith(
        "(with a decimal comma it would be 12.50; amounts here take a decimal point, "
        'like 1,250,000.50; or set decimal_mark = ",")'
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1e308, "below 1,000,000,000,000,000 (10^15), got 1e+308"),
        (10**15, "below 1,000,000,000,000,000"),
        ("1,000,000,000,000,000", "below 1,000,000,000,000,000"),
        ("-1000000000000000", "below 1,000,000,000,000,000"),
        ("9" * 5000, "got '9999999999999999999999999999999999999'... (5,000 characters)"),
        (1e-300, "at most 6 decimal places, got 1e-300"),
        ("0.0000001", "at most 6 decimal places"),
        (0.1 + 0.2, "at most 6 decimal places, got 0.30000000000000004"),
    ],
)
def test_amounts_read_are_bounded(value: object, message: str) -> None:
    # 1e308 passed `slacore check`, then crashed render and report.
    with pytest.raises(ValidationError) as info:
        to_money(value, field="rewards.pool")  # type: ignore[arg-type]
    assert message in info.value.message
    assert info.value.field == "rewards.pool"


def test_amounts_at_the_bounds() -> None:
    assert to_money("999,999,999,999,999.999999") == Decimal("999999999999999.999999")
    assert to_money(10**15 - 1) == 10**15 - 1
    assert to_money(-(10**15) + 1) == -(10**15) + 1
    # What the code computed is taken as it is.
    assert to_money(Decimal(1) / Decimal(3)) == Decimal(1) / Decimal(3)


@pytest.mark.parametrize(
    "value", ["1e999999999", "1e5", "1_000", "1" * 19, "1/" + "3" * 19, Decimal("1e999999999")]
)
def test_rates_with_exponents_or_too_many_digits_are_refused(value: object) -> None:
    # Fraction("1e999999999") would take hours to build.
    with pytest.raises(ValidationError, match="expected a rate like"):
        to_rate(value)  # type: ignore[arg-type]


def test_a_huge_or_tiny_rate_formats() -> None:
    assert format_rate(Fraction(10**308)) == "1.00E+310%"
    assert format_rate(Fraction(1, 10**300)) == "1.00E-298%"
    assert format_rate(Fraction(0)) == "0%"
    assert to_rate(" 1/3 % ") == Fraction(1, 300)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, Fraction(1, 2)),
        ("25%", Fraction(1, 4)),
        ("1/3", Fraction(1, 3)),
        (Decimal("0.03"), Fraction(3, 100)),
        (1, Fraction(1)),
        (0.3, Fraction(3, 10)),
    ],
)
def test_to_rate(value: object, expected: Fraction) -> None:
    assert to_rate(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["half", "1/0", True, float("nan"), Decimal("Infinity"), None])
def test_to_rate_rejects(value: object) -> None:
    with pytest.raises(ValidationError, match="expected a rate"):
        to_rate(value, field="rate")  # type: ignore[arg-type]


def test_rounding_helpers() -> None:
    assert quantize_money(Decimal("0.005")) == Decimal("0.01")
    assert quantize_money(Fraction(10_000_000, 12)) == Decimal("833333.33")
    assert ceil_count(Fraction(10001, 100)) == 101
    assert ceil_count(100) == 100
    assert format_rate(Fraction(1, 3)) == "33.33%"
    assert format_rate(Fraction(1, 2)) == "50%"


def test_format_money() -> None:
    assert format_money(Decimal("550000")) == "$550,000"
    assert format_money(Decimal("833333.33")) == "$833,333.33"
    assert format_money(Decimal("-0.5")) == "-$0.50"


def test_jsonable_keeps_money_exact() -> None:
    data = jsonable({"amount": Decimal("0.10"), "rate": Fraction(1, 4), "items": (1, 2)})
    assert data == {"amount": "0.10", "rate": 0.25, "items": [1, 2]}
    with pytest.raises(TypeError):
        jsonable(object())


def test_markdown_table_aligns_numbers_right() -> None:
    table = markdown_table(["a", "n"], [["x|y", 1000], ["z", None]])
    assert table.splitlines() == ["| a | n |", "| --- | ---: |", "| x\\|y | 1,000 |", "| z |  |"]
