"""Scorecards: targets, verdict, rewards and review triggers."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slacore import (
    Agreement,
    Handoff,
    PlanError,
    Touch,
    UnknownKeyError,
    ValidationError,
    scorecard,
)

ROOT = Path(__file__).resolve().parents[3]
NY = ZoneInfo("America/New_York")


def test_a_met_month(company_a: Agreement, good: dict[str, object]) -> None:
    card = scorecard(company_a, "2020-07", **good)  # type: ignore[arg-type]
    assert card.met
    assert card.label == "2020-07"
    revenue = card.line("goals.revenue")
    assert revenue.target == Decimal("1398809.53")  # the catch-up plan's July
    assert revenue.actual == Decimal(1_400_000)
    assert card.line("marketing.lead_value").target == Decimal(550_000)
    assert card.line("sales.response.response").target == 1  # "ALL" leads
    close = card.line("sales.milestones.close rate on proposals")
    assert (close.target, close.actual, close.met) == (Decimal("0.35"), Decimal("0.36"), True)
    assert (close.target_text, close.actual_text) == ("35%", "36%")
    cycle = card.line("sales.milestones.sales cycle")
    assert (cycle.target_text, cycle.actual_text) == ("40 days", "39 days")
    (pool,) = card.rewards
    assert (pool.name, pool.amount, pool.earned) == ("pool", Decimal(5000), True)
    assert [t.fired for t in card.triggers] == [False, False]
    assert not card.early_review
    assert card.next_review == date(2020, 10, 1)
    assert card.explain() == (
        "2020-07: shared goals met (5 of 5 measured commitments met). The $5,000 pool is "
        "earned. Next scheduled review: 2020-10-01."
    )


def test_targets_follow_the_date(company_a: Agreement) -> None:
    march = scorecard(company_a, date(2020, 3, 15), revenue=1_000_000)
    assert march.line("goals.revenue").target == Decimal("1041666.67")  # on the ramp
    assert march.line("sales.milestones.close rate on proposals").target == Decimal("0.25")
    december = scorecard(company_a, "2020-12", revenue=1_000_000)
    assert december.line("sales.milestones.close rate on proposals").target == Decimal("0.5")
    assert december.line("sales.milestones.sales cycle").target == 35
    assert december.next_review == date(2021, 1, 1)
    later = scorecard(company_a, "2021-02", revenue=1_000_000)
    assert later.line("goals.revenue").target == Decimal("1250000.00")  # the run rate


def test_a_missed_month_with_a_trigger(company_a: Agreement) -> None:
    card = scorecard(
        company_a,
        "2020-07",
        revenue=1_400_000,
        lead_value=500_000,
        response=Fraction(97, 100),
        conversions={"lead->mql": "8%", "MQL-to-SQL acceptance": 0.5},
    )
    assert not card.met
    assert [line.key for line in card.missed] == [
        "marketing.lead_value",
        "sales.response.response",
    ]
    assert [line.key for line in card.unmeasured] == [
        "sales.milestones.close rate on proposals",
        "sales.milestones.sales cycle",
    ]
    assert not card.rewards[0].earned
    assert [t.fired for t in card.triggers] == [True, False]
    assert card.early_review
    text = card.to_markdown()
    assert "Early review due: lead-to-MQL conversion 8% is below 10%." in text
    assert "| marketing | lead value | $550,000 | $500,000 | missed |" in text
    assert "| sales | close rate on proposals | 35% |  | not measured |" in text
    data = json.loads(json.dumps(card.to_dict()))
    assert data["met"] is False
    assert data["early_review"] is True
    assert data["lines"][0]["target"] == "1398809.53"


def test_the_pool_waits_for_revenue_and_the_annual_reward(
    company_a: Agreement, good: dict[str, object]
) -> None:
    no_revenue = scorecard(company_a, "2020-07", lead_value=560_000)
    assert no_revenue.met
    assert not no_revenue.rewards[0].earned
    assert "waits for the period's revenue" in no_revenue.rewards[0].reason
    december = good | {"milestones": {"close rate on proposals": "50%", "sales cycle": 35}}
    year_end = scorecard(company_a, "2020-12", year_revenue=15_100_000, **december)  # type: ignore[arg-type]
    pool, annual = year_end.rewards
    assert pool.earned
    assert annual.earned
    assert "Mexico" in annual.description
    short = scorecard(company_a, "2020-12", year_revenue=14_000_000, **december)  # type: ignore[arg-type]
    assert not short.met
    assert not short.rewards[1].earned


def test_reports_from_the_rules_feed_the_scorecard(company_a: Agreement) -> None:
    (rule,) = company_a.response_rules
    t = datetime(2020, 7, 6, 10, tzinfo=NY)
    handoffs = [
        Handoff(lead_id=str(i), notified_at=t, stage="mql", hand_raiser=True, source="referral")
        for i in range(4)
    ]
    touches = [
        Touch(lead_id=str(i), rep_id="r", at=t + timedelta(minutes=20 * (i + 1)), channel="call")
        for i in range(4)
    ]
    report = rule.evaluate(handoffs, touches, now=datetime(2020, 8, 1, tzinfo=NY))
    card = scorecard(company_a, "2020-07", response=report)
    line = card.line("sales.response.response")
    assert line.actual == Fraction(3, 4)  # the fourth touch, at 11:20, is late
    assert line.actual_text == "75% met"
    assert scorecard(company_a, "2020-07", response=report.summary).line(line.key).actual == (
        Fraction(3, 4)
    )


def test_hubspot_scorecard(hubspot: Agreement) -> None:
    card = scorecard(
        hubspot,
        "2013-03",
        leads=1000,
        lead_value=280_000,
        response={"response": 1},
        cadence=0.9,
    )
    assert [line.key for line in card.lines] == [
        "marketing.lead_value",
        "marketing.leads",
        "sales.response.response",
        "sales.cadence.cadence",
    ]
    assert [line.met for line in card.lines] == [False, True, True, False]
    assert card.rewards == ()
    assert card.next_review is None
    assert card.line("marketing.leads").target_text == "1,000"


def test_other_commitments_in_a_scorecard() -> None:
    agreement = Agreement.load(ROOT / "tests" / "data" / "agreements" / "kinds.toml")
    card = scorecard(
        agreement,
        "2026-02",
        commitments={"content": {"blog post": 4, "white paper": 1, "case study": 1}},
    )
    content = card.line("commitments.content")
    assert content.met is False
    assert content.target_text == "4 blog posts, 2 white papers, 1 case study"
    assert content.actual_text == "4 blog posts, 1 white paper, 1 case study"
    assert card.line("commitments.campaigns").met is None
    with pytest.raises(UnknownKeyError, match="no deliverable 'podcast'"):
        scorecard(agreement, "2026-02", commitments={"content": {"podcast": 1}})
    with pytest.raises(UnknownKeyError, match="no commitment 'blog'"):
        scorecard(agreement, "2026-02", commitments={"blog": {}})
    with pytest.raises(ValidationError, match="whole number"):
        scorecard(agreement, "2026-02", commitments={"content": {"blog post": -1}})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, PlanError, "no actuals for 2020-07"),
        ({"response": {"fast": 1}}, UnknownKeyError, "no response rule 'fast'"),
        ({"milestones": {"win rate": 1}}, UnknownKeyError, "no milestone goal 'win rate'"),
        ({"conversions": {"sql->customer": 0.1}}, UnknownKeyError, "no review trigger"),
        ({"conversions": {"lead->mql": 2}}, ValidationError, "between 0 and 1"),
        ({"response": "120%"}, ValidationError, "between 0 and 1"),
        ({"revenue": -1}, ValidationError, "must not be negative"),
        ({"revenue": "lots"}, ValidationError, "amount of money"),
        ({"milestones": {"close rate on proposals": "fast"}}, ValidationError, "rate like"),
    ],
)
def test_bad_actuals(
    company_a: Agreement, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        scorecard(company_a, "2020-07", **kwargs)  # type: ignore[arg-type]


def test_bad_actuals_for_hubspot(hubspot: Agreement) -> None:
    with pytest.raises(PlanError, match="year_revenue needs company goals"):
        scorecard(hubspot, "2013-03", year_revenue=1)
    with pytest.raises(ValidationError, match="whole number"):
        scorecard(hubspot, "2013-03", leads=-3)
    with pytest.raises(ValidationError, match="a mapping by name"):
        scorecard(
            Agreement.from_dict(
                {
                    "agreement": {"company": "Two", "version": "1", "effective": "2026-01-01"},
                    "marketing": {"leads": {"count": 10}},
                    "sales": {
                        "response": [
                            {"name": "fast", "within": "5m", "clock": "calendar"},
                            {"name": "slow", "within": "1d", "clock": "calendar"},
                        ]
                    },
                }
            ),
            "2026-01",
            response=1,
        )
