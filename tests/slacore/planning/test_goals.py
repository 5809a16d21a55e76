from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import (
    CatchUpStatus,
    MonthKind,
    PlanError,
    ValidationError,
    catch_up,
    run_rate,
)


def test_run_rates_of_seed_000() -> None:
    assert run_rate(10_000_000).per_period == Decimal("833333.33")
    assert run_rate(15_000_000).per_period == Decimal("1250000.00")
    assert run_rate("15,000,000", periods=4).per_period == Decimal("3750000.00")
    rate = run_rate(10_000_000)
    assert rate.explain() == "$10,000,000 a year / 12 = $833,333.33 per period."
    assert rate.to_dict() == {
        "annual_goal": "10000000",
        "periods": 12,
        "per_period": "833333.33",
    }


@pytest.mark.parametrize(
    ("goal", "periods", "message"),
    [
        (0, 12, "greater than zero"),
        (-5, 12, "greater than zero"),
        (100, 0, "periods >= 1"),
        (100, True, "periods >= 1"),
    ],
)
def test_run_rate_rejects(goal: int, periods: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        run_rate(goal, periods=periods)


def company_a() -> object:
    return catch_up(
        15_000_000,
        target_month=6,
        current_run_rate=run_rate(10_000_000).per_period,
        year=2020,
    )


def test_company_a_catch_up_ends_the_year_on_goal() -> None:
    plan = catch_up(15_000_000, target_month=6, current_run_rate=Decimal("833333.33"), year=2020)
    assert plan.status is CatchUpStatus.ON_PLAN
    assert [m.kind for m in plan.months] == [MonthKind.RAMP] * 5 + [MonthKind.REQUIRED] * 7
    assert [m.label for m in plan.months][:2] == ["2020-01", "2020-02"]
    # Goal 1: from June on, every month brings at least the new run rate.
    assert all(m.amount >= Decimal("1250000") for m in plan.required)
    # Goal 2: the excess of June-December makes up the shortfall of January-May.
    excess = sum(m.amount - m.run_rate for m in plan.required)
    assert excess == plan.shortfall == Decimal("1041666.66")
    # Goal 3: the year ends on $15,000,000 exactly.
    assert plan.total == Decimal("15000000")
    assert plan.surplus == 0
    assert plan.required_per_month == Decimal("1398809.53")
    assert max(m.amount for m in plan.required) - min(m.amount for m in plan.required) <= Decimal(
        "0.01"
    )
    # The ramp climbs from today's run rate to the new one.
    ramp = [m.amount for m in plan.months[:5]]
    assert ramp == sorted(ramp)
    assert Decimal("833333.33") < ramp[0] < ramp[-1] < Decimal("1250000")
    assert "every month from 2020-06 to 2020-12 must bring $1,398,809.53" in plan.explain()
    assert "| 2020-06 | required | $1,398,809.53 | $148,809.53 |" in plan.to_markdown()


def test_catch_up_with_actuals_so_far() -> None:
    actuals = [900_000, 950_000, 1_000_000]
    plan = catch_up(15_000_000, target_month=6, actuals=actuals)
    assert [m.kind for m in plan.months[:3]] == [MonthKind.ACTUAL] * 3
    assert [m.label for m in plan.months[:3]] == ["January", "February", "March"]
    assert plan.months[3].kind is MonthKind.RAMP
    assert plan.total == Decimal("15000000")
    # The ramp starts from the last actual.
    assert Decimal("1000000") < plan.months[3].amount < plan.months[4].amount < Decimal("1250000")


def test_catch_up_after_the_target_month() -> None:
    plan = catch_up(15_000_000, target_month=6, actuals=[1_000_000] * 8)
    assert [m.month for m in plan.required] == [9, 10, 11, 12]
    assert plan.total == Decimal("15000000")
    assert plan.required_per_month == Decimal("1750000.00")
    assert plan.shortfall == Decimal("1250000.00")


def test_already_ahead_holds_the_run_rate() -> None:
    plan = catch_up(15_000_000, target_month=6, actuals=[1_300_000] * 8)
    assert plan.status is CatchUpStatus.AHEAD
    assert all(m.amount == Decimal("1250000.00") for m in plan.required)
    assert plan.surplus == Decimal("400000")
    assert "holding it ends the year $400,000 above the goal" in plan.explain()


def test_impossible_in_the_months_left() -> None:
    plan = catch_up(15_000_000, target_month=6, actuals=[800_000] * 10, ceiling=2_000_000)
    assert plan.status is CatchUpStatus.IMPOSSIBLE
    assert plan.required_per_month == Decimal("3500000.00")
    assert "out of reach in the months left" in plan.explain()
    reachable = catch_up(15_000_000, target_month=6, actuals=[800_000] * 10, ceiling=4_000_000)
    assert reachable.status is CatchUpStatus.ON_PLAN


def test_year_over() -> None:
    met = catch_up(12, target_month=1, actuals=[1] * 12)
    assert met.status is CatchUpStatus.MET
    assert met.required_per_month is None
    assert "the goal was reached" in met.explain()
    missed = catch_up(12, target_month=1, actuals=[1] * 11 + [0])
    assert missed.status is CatchUpStatus.MISSED
    assert missed.to_dict()["status"] == "missed"


def test_labels_for_a_fiscal_year() -> None:
    plan = catch_up(1200, target_month=1, year=2025, first_month=7)
    assert plan.months[0].label == "2025-07"
    assert plan.months[6].label == "2026-01"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target_month": 13}, ValidationError, "between 1 and 12"),
        ({"target_month": 0}, ValidationError, "between 1 and 12"),
        ({"target_month": 6, "actuals": [1] * 13}, ValidationError, "13 actuals"),
        ({"target_month": 6, "actuals": [-1]}, ValidationError, "must not be negative"),
        ({"target_month": 6}, PlanError, "current_run_rate"),
        ({"target_month": 6, "months": 0}, ValidationError, "months >= 1"),
        ({"target_month": 1, "first_month": 13}, ValidationError, "calendar month"),
        ({"target_month": 1, "ceiling": 0}, ValidationError, "greater than zero"),
    ],
)
def test_catch_up_rejects(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        catch_up(15_000_000, **kwargs)  # type: ignore[arg-type]


money = st.decimals(min_value=0, max_value=5_000_000, places=2)


@given(
    goal=st.decimals(min_value=1, max_value=100_000_000, places=2),
    target=st.integers(1, 12),
    actuals=st.lists(money, max_size=11),
    current=money,
)
def test_catch_up_always_reaches_the_goal(
    goal: Decimal, target: int, actuals: list[Decimal], current: Decimal
) -> None:
    plan = catch_up(goal, target_month=target, actuals=actuals, current_run_rate=current)
    assert len(plan.months) == 12
    assert plan.total >= goal
    if plan.status is CatchUpStatus.ON_PLAN:
        assert plan.total == goal
    # The run rate is rounded to cents, so a required month may sit a cent under it.
    for month in plan.required:
        assert month.amount >= plan.run_rate - Decimal("0.01")
