"""The report's deliveries summed per object: the same pacing, curve and lead value."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import BusinessCalendar, Delivery, pace
from slacore.planning.curve import pacing_curve
from slacore_connectors.report._columns import summed

CAL = BusinessCalendar(timezone="America/New_York", holidays="US")
JULY = date(2020, 7, 1)


@given(
    kinds=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.decimals(min_value=0, max_value=10_000, places=2),
            st.integers(1, 3),
            st.sampled_from([None, ("source", "partner"), ("source", "")]),
        ),
        min_size=1,
        max_size=8,
    ),
    picks=st.lists(st.integers(0, 7), max_size=200),
    as_of=st.integers(0, 31),
)
def test_summed_deliveries_pace_and_add_up_as_the_deliveries_do(
    kinds: list[tuple[int, Decimal, int, tuple[str, str] | None]], picks: list[int], as_of: int
) -> None:
    made = [
        Delivery(on=JULY + timedelta(days=day - 5), value=value, leads=leads, unvalued=unvalued)
        for day, value, leads, unvalued in kinds
    ]
    delivered = [made[pick % len(made)] for pick in picks]
    grouped = summed(delivered)
    assert len(grouped) <= len(made)
    assert sum((d.value for d in grouped), Decimal(0)) == sum(
        (d.value for d in delivered), Decimal(0)
    )
    day = JULY + timedelta(days=as_of)
    for measure in ("value", "leads"):
        together = pace(grouped, target=100_000, as_of=day, calendar=CAL, measure=measure)
        alone = pace(delivered, target=100_000, as_of=day, calendar=CAL, measure=measure)
        assert together == alone
        assert together.to_dict() == alone.to_dict()
        assert pacing_curve(together, grouped, calendar=CAL) == pacing_curve(
            alone, delivered, calendar=CAL
        )


@pytest.mark.parametrize("value", ["1234567890.123456789012345678", "-1", "NaN"])
def test_deliveries_whose_total_would_round_are_left_as_they_are(value: str) -> None:
    try:
        one = Delivery(on=JULY, value=Decimal(value))
    except ValueError:  # the model refuses the amount: nothing to sum
        return
    delivered = [one] * 9
    assert summed(delivered) is delivered
