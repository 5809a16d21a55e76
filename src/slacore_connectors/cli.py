"""The ``slacore`` command line.

Every command that prints figures accepts ``--json`` and then prints exactly one JSON document
on stdout. Errors go to stderr as one line; bad flags and values exit with status 2, other
failures with status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn

import click

import slacore
from slacore._values import to_money, to_rate
from slacore.errors import SlacoreError, ValidationError
from slacore.render import format_money

__all__ = ["cli", "main"]

if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click < 8.2 has no generic ParamType at run time
    _ParamType = click.ParamType


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(slacore.__version__, prog_name="slacore")
def cli() -> None:
    """Service-level agreements between marketing and sales, as code."""


@cli.command()
@click.option("--revenue", type=MONEY, help="The period's revenue goal.")
@click.option("--deal-value", type=MONEY, help="Average value of a deal.")
@click.option("--deals", type=COUNT, help="Deals needed (instead of --revenue/--deal-value).")
@click.option(
    "--rate",
    "rates",
    type=RATE,
    multiple=True,
    help="A stage's conversion rate to the next, top of the funnel first (repeatable).",
)
@click.option(
    "--stage",
    "named_stages",
    type=PairType(RATE),
    multiple=True,
    help="A named stage and its rate, NAME=RATE, top first (repeatable; instead of --rate).",
)
@click.option("--outcome", default="deal", show_default=True, help="Name of the last stage.")
@click.option("--reps", type=POSITIVE, help="Reps taking leads (for the capacity check).")
@click.option("--leads-per-rep", type=POSITIVE, help="Leads one rep can work per period.")
@click.option("--annual-revenue", type=MONEY, help="The annual revenue goal (run rate).")
@click.option(
    "--current-annual-revenue",
    type=MONEY,
    help="Today's annual revenue: the catch-up ramp starts at its run rate.",
)
@click.option(
    "--target-month",
    type=click.IntRange(1, 12),
    help="Month (1-12) by which the new run rate must be reached (catch-up plan).",
)
@click.option(
    "--actual",
    "actuals",
    type=MONEY_OR_ZERO,
    multiple=True,
    help="Revenue booked in a month so far, first month first (repeatable).",
)
@click.option("--year", type=click.IntRange(1900, 9999), help="Calendar year, for labels.")
@click.option(
    "--lead-value",
    "lead_values",
    type=PairType(MONEY_OR_ZERO),
    multiple=True,
    help="Value of one lead from a source, SOURCE=AMOUNT (repeatable).",
)
@click.option(
    "--mix",
    type=PairType(COUNT),
    multiple=True,
    help="Leads delivered from a source, SOURCE=COUNT (repeatable; needs --lead-value).",
)
@click.option("--quota", type=MONEY, help="Lead-value quota to compare the mix with.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def plan(
    revenue: Decimal | None,
    deal_value: Decimal | None,
    deals: int | None,
    rates: tuple[Fraction, ...],
    named_stages: tuple[tuple[str, Fraction], ...],
    outcome: str,
    reps: int | None,
    leads_per_rep: int | None,
    annual_revenue: Decimal | None,
    current_annual_revenue: Decimal | None,
    target_month: int | None,
    actuals: tuple[Decimal, ...],
    year: int | None,
    lead_values: tuple[tuple[str, Decimal], ...],
    mix: tuple[tuple[str, int], ...],
    quota: Decimal | None,
    as_json: bool,
) -> None:
    """Plan the numbers: run rate, catch-up, reverse funnel, capacity and lead value.

    \b
    Company X (seed 002): $5,000 a month at $100 a sale and a 50% win rate:
      slacore plan --revenue 5000 --deal-value 100 --rate 0.5
    Company A (seed 000): from $10M to $15M a year, on the new run rate by June:
      slacore plan --annual-revenue 15000000 --current-annual-revenue 10000000 \\
        --target-month 6 --year 2020
    """
    data: dict[str, Any] = {}
    text: list[str] = []

    if annual_revenue is not None:
        rate = slacore.run_rate(annual_revenue)
        data["monthly_run_rate"] = str(rate.per_period)
        text.append(f"Run rate: {rate.explain()}")
        if target_month is not None:
            current = (
                None
                if current_annual_revenue is None
                else slacore.run_rate(current_annual_revenue).per_period
            )
            if current is None and len(actuals) < target_month - 1:
                raise click.UsageError(
                    "--target-month needs --current-annual-revenue (or an --actual for "
                    "every month before it) to ramp from"
                )
            if current is not None:
                text.append(
                    f"Today's run rate: {format_money(current)} a month "
                    f"({format_money(current_annual_revenue or Decimal(0))} a year)."
                )
            plan_ = slacore.catch_up(
                annual_revenue,
                target_month=target_month,
                actuals=actuals,
                current_run_rate=current,
                year=year,
            )
            data["catch_up"] = plan_.to_dict()
            text.append("Catch-up: " + plan_.to_markdown())
    elif target_month is not None or actuals or current_annual_revenue is not None:
        raise click.UsageError(
            "--target-month, --actual and --current-annual-revenue need --annual-revenue"
        )

    if rates and named_stages:
        raise click.UsageError("give the stages with --rate or with --stage, not both")
    stages: list[Any] = list(named_stages) or list(rates)
    if stages or revenue is not None or deals is not None:
        if not stages:
            raise click.UsageError("the funnel needs at least one --rate (or --stage)")
        if deals is None and (revenue is None or deal_value is None):
            raise click.UsageError("the funnel needs --revenue and --deal-value, or --deals")
        if deals is not None and revenue is not None:
            raise click.UsageError("give --deals or --revenue, not both")
        funnel = slacore.reverse_funnel(
            stages=stages,
            revenue=revenue,
            deal_value=deal_value,
            deals=deals,
            outcome=outcome,
        )
        if reps is not None and leads_per_rep is not None:
            funnel = funnel.with_capacity(reps=reps, leads_per_rep=leads_per_rep)
        data.update(funnel.to_dict())
        text.append("Funnel: " + funnel.to_markdown())
    if (reps is None) != (leads_per_rep is None):
        raise click.UsageError("the capacity check needs both --reps and --leads-per-rep")
    if reps is not None and leads_per_rep is not None and "leads_needed" not in data:
        data["capacity"] = reps * leads_per_rep
        text.append(
            f"Capacity: {reps} reps x {leads_per_rep} leads = {reps * leads_per_rep} leads "
            "a period."
        )

    if lead_values:
        table = slacore.LeadValueTable.from_mapping(dict(lead_values))
        data["lead_values"] = table.to_dict()
        if mix:
            value = table.value_of(dict(mix), quota=quota)
            data["mix"] = value.to_dict()
            text.append("Lead value: " + value.to_markdown())
        elif quota is not None:
            needed = table.mix_for_quota(quota)
            data["quota_mix"] = needed.to_dict()
            text.append("Lead value: " + needed.explain())
        else:
            text.append("Lead values:\n\n" + table.to_markdown() + "\n")
    elif mix or quota is not None:
        raise click.UsageError("--mix and --quota need the values of leads: --lead-value")

    if not data:
        raise click.UsageError(
            "nothing to plan: give --annual-revenue, a funnel (--revenue, --deal-value, "
            "--rate) or --lead-value; see slacore plan --help"
        )
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(part.rstrip() + "\n" for part in text).rstrip())


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the ``slacore`` script: run the command and exit with its status.

    Usage errors exit 2, slacore errors 1, both with one line on stderr.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    prog = "slacore"
    try:
        cli.main(args=args, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as done:
        raise SystemExit(done.exit_code) from None
    except click.exceptions.Abort:
        sys.stderr.write("slacore: aborted\n")
        raise SystemExit(130) from None
    except click.ClickException as error:
        sys.stderr.write(f"{prog}: error: {_one_line(error.format_message())}\n")
        raise SystemExit(error.exit_code) from None
    except SlacoreError as error:
        sys.stderr.write(f"{prog}: error: {_one_line(str(error))}\n")
        raise SystemExit(1) from None
    raise SystemExit(0)


def _one_line(message: str) -> str:
    return " ".join(message.split())
