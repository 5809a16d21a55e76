"""The command line's value types: money, rates, and NAME=VALUE pairs, checked by the core's
own readers so the CLI accepts exactly what the library does; and the ``--config`` option the
commands that work on a job share.

Private to :mod:`slacore_connectors.cli`.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import click

from slacore._values import to_money, to_rate
from slacore.errors import ValidationError

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click < 8.2 has no generic ParamType at run time
    _ParamType = click.ParamType


MONEY_LIMIT = Decimal(10) ** 15
"""Flags take amounts below a quadrillion: the plans' arithmetic (28 significant digits)
stays exact to the cent far beyond any revenue goal."""


class MoneyType(_ParamType):
    """An amount of money: ``5000``, ``1,250,000``, ``$833,333.33``."""

    name = "amount"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            amount = to_money(value)
        except ValidationError as error:
            self.fail(error.message, param, ctx)
        if amount < 0 or (amount == 0 and not self.allow_zero):
            self.fail(f"expected an amount greater than zero, got {value!r}", param, ctx)
        if amount >= MONEY_LIMIT:
            self.fail(f"expected an amount below {MONEY_LIMIT:,}, got {value!r}", param, ctx)
        return amount


class RateType(_ParamType):
    """A conversion rate above 0 and at most 1: ``0.5``, ``50%``, ``1/3``."""

    name = "rate"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Fraction:
        if isinstance(value, Fraction):
            return value
        try:
            rate = to_rate(value)
        except ValidationError as error:
            self.fail(error.message, param, ctx)
        if not 0 < rate <= 1:
            self.fail(f"expected a rate above 0 and at most 1, got {value!r}", param, ctx)
        return rate


class PairType(_ParamType):
    """``NAME=VALUE``, the value parsed by another parameter type."""

    name = "name=value"

    def __init__(self, inner: _ParamType) -> None:
        self.inner = inner

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return value
        name, sep, raw = str(value).partition("=")
        if not sep or not name.strip():
            self.fail(f"expected NAME=VALUE, got {value!r}", param, ctx)
        return name.strip(), self.inner.convert(raw.strip(), param, ctx)


MONEY = MoneyType()
MONEY_OR_ZERO = MoneyType(allow_zero=True)
RATE = RateType()
COUNT = click.IntRange(min=0)
POSITIVE = click.IntRange(min=1)

CONFIG = click.option(
    "--config",
    "config_path",
    default="slacore.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The job file: store, agreement and sources.",
)
