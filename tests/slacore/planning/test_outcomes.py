from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Deal, Period, ValidationError
from slacore.planning.outcomes import deal_outcomes

NY = ZoneInfo("America/New_York")
JUNE = Period.MONTH.span("2020-06")


def deal(
    key: str, amount: int, opened: datetime, closed: datetime | None, *, won: bool = False
) -> Deal:
    return Deal(id=key, amount=amount, opened_at=opened, closed_at=closed, won=won)


def test_counts_deals_closed_in_the_period_by_local_date() -> None:
    deals = [
        # 00:30 on July 1 in New York: July, out.
        deal(
            "late",
            900,
            datetime(2020, 6, 1, tzinfo=NY),
            datetime(2020, 7, 1, 0, 30, tzinfo=NY),
            won=True,
        ),
        # 23:30 local on June 30 is already July 1 in UTC: in.
        deal(
            "edge",
            300,
            datetime(2020, 6, 20, tzinfo=NY),
            datetime(2020, 6, 30, 23, 30, tzinfo=NY),
            won=True,
        ),
        deal("lost", 500, datetime(2020, 5, 1, tzinfo=NY), datetime(2020, 6, 2, tzinfo=NY)),
        deal("open", 700, datetime(2020, 6, 1, tzinfo=NY), None),
        deal(
            "may",
            100,
            datetime(2020, 4, 1, tzinfo=NY),
            datetime(2020, 5, 31, 23, 0, tzinfo=NY),
            won=True,
        ),
    ]
    outcome = deal_outcomes(deals, JUNE, zone=NY)
    assert (outcome.closed, outcome.won) == (2, 1)
    assert outcome.revenue == Decimal(300)
    assert outcome.close_rate == Fraction(1, 2)
    # 10 days and 23.5 hours: 10.979... rounds to 11.0
    assert outcome.cycle_days == Decimal("11.0")


def test_no_deals_gives_no_rates() -> None:
    outcome = deal_outcomes([], JUNE, zone=NY)
    assert outcome.close_rate is None
    assert outcome.cycle_days is None
    assert outcome.revenue == Decimal(0)
    assert outcome.explain() == "2020-06: no deal closed."
    assert outcome.to_dict()["close_rate"] is None


def test_cycle_days_round_half_up_to_a_tenth() -> None:
    opened = datetime(2020, 6, 1, tzinfo=NY)
    # 1.05 days exactly: half up gives 1.1 (half even would give 1.0).
    outcome = deal_outcomes(
        [deal("a", 1, opened, opened + timedelta(days=1, hours=1, minutes=12), won=True)],
        JUNE,
        zone=NY,
    )
    assert outcome.cycle_days == Decimal("1.1")


def test_renders_itself() -> None:
    opened = datetime(2020, 6, 1, tzinfo=NY)
    outcome = deal_outcomes(
        [deal("a", 1250, opened, opened + timedelta(days=3), won=True)], JUNE, zone=NY
    )
    assert outcome.to_dict() == {
        "period": "2020-06",
        "zone": "America/New_York",
        "closed": 1,
        "won": 1,
        "revenue": "1250",
        "close_rate": 1.0,
        "cycle_days": "3.0",
    }
    markdown = outcome.to_markdown()
    assert markdown.startswith(outcome.explain())
    assert "| 1 | 1 | $1,250 | 100% | 3.0 |" in markdown


def test_zone_must_be_a_zoneinfo() -> None:
    with pytest.raises(ValidationError, match="zone"):
        deal_outcomes([], JUNE, zone="America/New_York")  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.integers(0, 60 * 24 * 90),
            st.integers(0, 60 * 24 * 90),
            st.booleans(),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_figures_agree_with_a_plain_count(rows: list[tuple[int, int, int, bool, bool]]) -> None:
    base = datetime(2020, 5, 1, tzinfo=NY)
    deals = []
    for i, (amount, open_min, length, closed, won) in enumerate(rows):
        opened = base + timedelta(minutes=open_min)
        end = opened + timedelta(minutes=length) if closed or won else None
        deals.append(deal(f"d{i}", amount, opened, end, won=won))
    outcome = deal_outcomes(deals, JUNE, zone=NY)
    in_june = [d for d in deals if d.closed_at and d.closed_at.astimezone(NY).date() in JUNE]
    won = [d for d in in_june if d.won]
    assert outcome.closed == len(in_june)
    assert outcome.revenue == sum((d.amount for d in won), Decimal(0))
    if won:
        assert outcome.cycle_days is not None
        exact = sum(((d.closed_at - d.opened_at) for d in won if d.closed_at), timedelta(0))
        mean_days = exact / len(won) / timedelta(days=1)
        assert abs(float(outcome.cycle_days) - mean_days) <= 0.05 + 1e-9
