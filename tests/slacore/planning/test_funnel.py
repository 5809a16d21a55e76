from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from slacore import (
    CapacityStatus,
    FunnelStage,
    PlanError,
    ValidationError,
    capacity,
    reverse_funnel,
)

HUBSPOT_REP = [("lead", 0.5), ("connect", 0.6), ("discovery call", 0.5), ("demo", "1/3")]


def test_company_x() -> None:
    plan = reverse_funnel(revenue=5000, deal_value=100, stages=[0.5])
    assert plan.deals_needed == 50
    assert plan.leads_needed == 100
    assert plan.to_dict() == {
        "leads_needed": 100,
        "deals_needed": 50,
        "revenue_goal": "5000",
        "deal_value": "100",
        "stages": [
            {"name": "lead", "needed": 100, "rate": 0.5},
            {"name": "deal", "needed": 50, "rate": None},
        ],
    }
    assert plan.explain().startswith("$5,000 / $100 a deal = 50 deals needed.")


def test_hubspot_per_rep_and_team() -> None:
    rep = reverse_funnel(deals=5, stages=HUBSPOT_REP, outcome="customer")
    assert [(s.name, s.needed) for s in rep.stages] == [
        ("lead", 100),
        ("connect", 50),
        ("discovery call", 30),
        ("demo", 15),
        ("customer", 5),
    ]
    team = rep.for_reps(10)
    assert team.leads_needed == 1000
    assert team.deals_needed == 50
    checked = team.with_capacity(reps=10, leads_per_rep=100)
    assert checked.capacity is not None
    assert checked.capacity.capacity == 1000
    assert checked.capacity.status is CapacityStatus.BALANCED
    assert checked.to_dict()["capacity_gap"] == 0


def test_rates_are_exact() -> None:
    # 1/3 as a float would need 15.000000000000002 demos -> 16; exact fractions give 15.
    plan = reverse_funnel(deals=5, stages=[("demo", Fraction(1, 3))])
    assert plan.leads_needed == 15
    assert reverse_funnel(deals=5, stages={"demo": "1/3"}).leads_needed == 15


def test_counts_round_up() -> None:
    plan = reverse_funnel(revenue=1001, deal_value=100, stages=[0.3])
    assert plan.deals_needed == 11  # 10.01 deals -> 11
    assert plan.leads_needed == 37  # 11 / 0.3 = 36.67 -> 37


def test_default_stage_names() -> None:
    plan = reverse_funnel(deals=1, stages=[0.5, 0.5])
    assert [s.name for s in plan.stages] == ["lead", "stage 2", "deal"]
    assert plan.funnel == (
        FunnelStage(name="lead", rate=0.5),
        FunnelStage(name="stage 2", rate=0.5),
    )


def test_reverse_funnel_with_capacity_arguments() -> None:
    plan = reverse_funnel(revenue=5000, deal_value=100, stages=[0.5], reps=1, leads_per_rep=90)
    assert plan.capacity is not None
    assert plan.capacity.status is CapacityStatus.EXCEEDS
    assert plan.capacity.gap == 10
    assert "10 more than sales can work" in plan.explain()
    assert "| lead | 100 | 50% |" in plan.to_markdown()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"stages": [], "deals": 1}, PlanError, "at least one stage"),
        ({"stages": [0], "deals": 1}, ValidationError, "above 0 and at most 1"),
        ({"stages": [1.5], "deals": 1}, ValidationError, "above 0 and at most 1"),
        ({"stages": ["fast"], "deals": 1}, ValidationError, "expected a rate"),
        ({"stages": [0.5]}, PlanError, "revenue goal and the average deal value"),
        ({"stages": [0.5], "revenue": 10}, PlanError, "revenue goal and the average deal value"),
        ({"stages": [0.5], "deals": 1, "revenue": 5}, PlanError, "not both"),
        ({"stages": [0.5], "deals": -1}, ValidationError, "whole number"),
        ({"stages": [0.5], "revenue": 10, "deal_value": 0}, ValidationError, "greater than zero"),
        ({"stages": [0.5], "revenue": -10, "deal_value": 5}, ValidationError, "negative"),
        ({"stages": [0.5], "deals": 1, "reps": 3}, PlanError, "both reps and leads_per_rep"),
    ],
)
def test_reverse_funnel_rejects(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        reverse_funnel(**kwargs)  # type: ignore[arg-type]


def test_rate_error_names_the_stage() -> None:
    with pytest.raises(ValidationError) as info:
        reverse_funnel(deals=1, stages=[("demo", 2)])
    assert info.value.field == "stages.demo.rate"


def test_capacity_statuses() -> None:
    assert capacity(reps=10, leads_per_rep=100, leads_needed=1000).status is CapacityStatus.BALANCED
    assert capacity(reps=10, leads_per_rep=100, leads_needed=1040).status is CapacityStatus.BALANCED
    over = capacity(reps=10, leads_per_rep=100, leads_needed=1200)
    assert over.status is CapacityStatus.EXCEEDS
    assert over.gap == 200
    assert "200 more than sales can work" in over.explain()
    under = capacity(reps=10, leads_per_rep=100, leads_needed=600)
    assert under.status is CapacityStatus.STARVES
    assert under.gap == -400
    assert "400 short, so reps will sit idle" in under.explain()
    strict = capacity(reps=10, leads_per_rep=100, leads_needed=999, tolerance=0)
    assert strict.status is CapacityStatus.STARVES
    assert under.to_dict()["status"] == "starves"
    assert "balanced" in capacity(reps=1, leads_per_rep=1, leads_needed=1).explain()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reps": 0, "leads_per_rep": 1, "leads_needed": 1},
        {"reps": 1, "leads_per_rep": 1.5, "leads_needed": 1},
        {"reps": 1, "leads_per_rep": 1, "leads_needed": -1},
        {"reps": 1, "leads_per_rep": 1, "leads_needed": 1, "tolerance": 2},
    ],
)
def test_capacity_rejects(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        capacity(**kwargs)  # type: ignore[arg-type]


rates = st.fractions(min_value=Fraction(1, 1000), max_value=1, max_denominator=1000)


@given(
    revenue=st.integers(0, 10_000_000),
    deal_value=st.integers(1, 1_000_000),
    funnel=st.lists(rates, min_size=1, max_size=6),
)
def test_forward_pass_reaches_the_goal(
    revenue: int, deal_value: int, funnel: list[Fraction]
) -> None:
    plan = reverse_funnel(revenue=revenue, deal_value=deal_value, stages=funnel)
    expected = plan.forward()
    for stage, count in zip(plan.stages, expected, strict=True):
        assert count >= stage.needed
    assert expected[-1] * deal_value >= revenue


@given(
    revenue=st.integers(0, 10_000_000),
    more=st.integers(0, 1_000_000),
    deal_value=st.integers(1, 1_000_000),
    funnel=st.lists(rates, min_size=1, max_size=6),
    which=st.integers(0, 5),
    lower=rates,
)
def test_needs_never_decrease_when_a_rate_falls_or_the_goal_rises(
    revenue: int, more: int, deal_value: int, funnel: list[Fraction], which: int, lower: Fraction
) -> None:
    base = reverse_funnel(revenue=revenue, deal_value=deal_value, stages=funnel)
    bigger = reverse_funnel(revenue=revenue + more, deal_value=deal_value, stages=funnel)
    assert all(b.needed >= a.needed for a, b in zip(base.stages, bigger.stages, strict=True))
    index = which % len(funnel)
    assume(lower <= funnel[index])
    worse = list(funnel)
    worse[index] = lower
    slower = reverse_funnel(revenue=revenue, deal_value=deal_value, stages=worse)
    assert all(b.needed >= a.needed for a, b in zip(base.stages, slower.stages, strict=True))


@given(
    deals=st.integers(0, 10_000),
    reps=st.integers(1, 50),
    funnel=st.lists(rates, min_size=1, max_size=4),
)
def test_team_plan_is_at_most_reps_times_a_rep_plan(
    deals: int, reps: int, funnel: list[Fraction]
) -> None:
    rep = reverse_funnel(deals=deals, stages=funnel)
    team = rep.for_reps(reps)
    assert team.deals_needed == deals * reps
    assert team.leads_needed <= rep.leads_needed * reps
    assert Decimal(team.leads_needed) >= Decimal(deals * reps)
