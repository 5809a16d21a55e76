from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from slacore import BusinessCalendar, Delivery, pace
from slacore.planning.curve import pacing_curve

CAL = BusinessCalendar(timezone="America/New_York", holidays=None)


def test_points_follow_business_days_and_stop_at_as_of() -> None:
    delivered = [
        Delivery(on=date(2026, 5, 31), value=999),  # the month before: ignored
        Delivery(on=date(2026, 6, 1), value=100),
        Delivery(on=date(2026, 6, 6), value=50),  # a Saturday: counts on Monday the 8th
    ]
    check = pace(delivered, target=220, as_of="2026-06-08", calendar=CAL)
    curve = pacing_curve(check, delivered, calendar=CAL)
    assert len(curve.points) == check.business_days == 22
    assert [p.day for p in curve.points[:6]] == [date(2026, 6, d) for d in (1, 2, 3, 4, 5, 8)]
    assert curve.points[5].delivered == Decimal(150)
    assert all(p.delivered is None for p in curve.points[6:])
    assert curve.points[-1].line == Decimal(220)


def test_leads_are_counted_when_the_measure_is_leads() -> None:
    delivered = [Delivery(on=date(2026, 6, 2), leads=3), Delivery(on=date(2026, 6, 2), leads=2)]
    check = pace(delivered, target=44, as_of="2026-06-30", calendar=CAL, measure="leads")
    curve = pacing_curve(check, delivered, calendar=CAL)
    assert curve.points[1].delivered == Decimal(5)
    assert curve.points[-1].delivered == Decimal(5)


def test_renders_itself() -> None:
    delivered = [Delivery(on=date(2026, 6, 1), value=10)]
    check = pace(delivered, target=22, as_of="2026-06-01", calendar=CAL)
    curve = pacing_curve(check, delivered, calendar=CAL)
    data = curve.to_dict()
    assert data["period"] == "2026-06"
    assert data["points"][0] == {"day": "2026-06-01", "delivered": "10", "line": "1"}
    assert data["points"][1]["delivered"] is None
    assert curve.explain() == (
        "2026-06: 1 of 22 business days known; on 2026-06-01 lead value delivered stood at 10 "
        "against a line of 1.00."
    )
    assert "| 2026-06-01 | 10 | 1.00 |" in curve.to_markdown()


@given(
    st.lists(st.tuples(st.integers(0, 29), st.integers(0, 1000)), max_size=40),
    st.integers(0, 29),
)
def test_the_point_on_as_of_is_the_pacing_figure(
    items: list[tuple[int, int]], as_of_offset: int
) -> None:
    delivered = [Delivery(on=date(2026, 6, 1) + timedelta(days=d), value=v) for d, v in items]
    as_of = date(2026, 6, 1) + timedelta(days=as_of_offset)
    check = pace(delivered, target=1000, as_of=as_of, calendar=CAL)
    curve = pacing_curve(check, delivered, calendar=CAL)
    known = [p for p in curve.points if p.delivered is not None]
    assert len(known) == check.elapsed_days
    # On a closed day the curve's last point is the business day before it, and what came in
    # since counts on the next business day; on a business day both tell the same figure.
    if known and known[-1].day == as_of:
        assert known[-1].delivered == check.delivered
        assert known[-1].line.quantize(Decimal("0.01"), ROUND_HALF_UP) == check.expected
