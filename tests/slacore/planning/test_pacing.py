"""Pacing against the straight line by business day, weekly buckets vs capacity."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slacore import (
    BusinessCalendar,
    CapacityStatus,
    Delivery,
    Handoff,
    LeadValueTable,
    Loading,
    PaceStatus,
    PlanError,
    ValidationError,
    deliveries,
    pace,
)
from slacore.calendar.periods import Period
from slacore.planning.curve import pacing_curve
from slacore.planning.pacing import Unvalued

# July 2020 in New York: 22 business days (July 3 is the observed Independence Day).
CAL = BusinessCalendar(timezone="America/New_York", holidays="US")
# June 2026: 22 business days, Monday June 1 first.
PLAIN = BusinessCalendar(timezone="America/New_York", holidays=None)
JUNE = [date(2026, 6, 1) + timedelta(days=i) for i in range(30)]
OPEN_JUNE = [d for d in JUNE if d.weekday() < 5]


def test_even_delivery_hugs_the_line() -> None:
    per_day = Decimal(25_000)
    delivered = [Delivery(on=d, value=per_day) for d in OPEN_JUNE]
    check = pace(delivered, target=550_000, as_of="2026-06-12", calendar=PLAIN)
    assert (check.business_days, check.elapsed_days, check.remaining_days) == (22, 10, 12)
    # Without a sales capacity the weekly table has no capacity or load columns.
    assert "| week of | business days | line | delivered | leads |\n" in check.to_markdown()
    assert check.delivered == Decimal(250_000)
    assert check.expected == Decimal(250_000)
    assert check.status is PaceStatus.ON_PACE
    assert check.loading is Loading.EVEN
    assert check.first_half_share == Fraction(1, 2)
    assert check.needed_per_day == Decimal(25_000)
    assert check.gap == 0


def test_super_campaign_in_week_one_is_front_loaded() -> None:
    """Seed 001: "run the super campaign in week one, get to the 100,000 and go to sleep"."""
    delivered = [Delivery(on="2026-06-02", value=100_000, leads=100)]
    check = pace(delivered, target=100_000, as_of="2026-06-05", calendar=PLAIN, capacity=100)
    assert check.status is PaceStatus.AHEAD
    assert check.loading is Loading.FRONT_LOADED
    assert check.first_half_share == 1
    assert check.needed_per_day == 0
    assert "The target is reached." in check.explain()
    first, *rest = check.weeks
    assert first.leads == 100
    assert first.load is CapacityStatus.EXCEEDS
    assert all(week.load is None and not week.complete for week in rest)


def test_sleeping_three_weeks_is_back_loaded_by_mid_month() -> None:
    """Seed 001: "go to sleep for the first three weeks and then run a super campaign"."""
    delivered = [Delivery(on="2026-06-01", value=5_000)]
    check = pace(delivered, target=100_000, as_of="2026-06-15", calendar=PLAIN)
    assert check.status is PaceStatus.BEHIND
    assert check.loading is Loading.BACK_LOADED
    assert check.needed_per_day == Decimal("8636.37")  # 95,000 / 11 days, rounded up
    assert check.first_half_share is not None
    assert check.first_half_share < Fraction(3, 10)


def test_the_line_skips_holidays_and_weekends() -> None:
    delivered = [
        Delivery(on="2020-07-03", value=1000),  # a holiday: counts on Monday July 6
        Delivery(on="2020-07-04", value=1000),  # Saturday: also Monday
        Delivery(on="2020-07-31", value=1000),  # the last business day
    ]
    check = pace(delivered, target=22_000, as_of="2020-07-06", calendar=CAL)
    assert check.business_days == 22
    assert check.elapsed_days == 3
    assert check.expected == Decimal(3000)
    assert check.delivered == Decimal(2000)
    week_of_6th = check.weeks[1]
    assert (week_of_6th.start, week_of_6th.delivered) == (date(2020, 7, 6), Decimal(2000))
    assert check.weeks[0].business_days == 2


def test_a_delivery_after_the_last_business_day_counts_on_it() -> None:
    delivered = [Delivery(on="2026-06-30", value=10), Delivery(on="2026-07-01", value=99)]
    august = BusinessCalendar(
        timezone="America/New_York", holidays=None, hours={"mon-thu": "09:00-17:00"}
    )
    check = pace(delivered, target=100, as_of="2026-06-30", calendar=august)
    assert check.delivered == 10
    assert check.weeks[-1].delivered == 10


def test_leads_round_up_and_a_missed_period_has_no_rate() -> None:
    delivered = [Delivery(on=d, leads=42) for d in OPEN_JUNE[:5]]
    check = pace(delivered, target=1000, as_of="2026-06-05", calendar=PLAIN, measure="leads")
    assert check.delivered == 210
    assert check.expected == 227  # 1000 x 5 / 22 = 227.27
    assert check.status is PaceStatus.ON_PACE
    assert check.needed_per_day == 47  # 790 / 17 = 46.47, rounded up
    assert "210 leads delivered of 1,000 leads" in check.explain()
    done = pace(delivered, target=1000, as_of="2026-06-30", calendar=PLAIN, measure="leads")
    assert done.needed_per_day is None
    assert done.status is PaceStatus.BEHIND
    assert "No business day is left to make up 790 leads." in done.explain()


def test_weekly_buckets_against_capacity() -> None:
    per_day = [Delivery(on=d, leads=60) for d in OPEN_JUNE[:5]]  # week 1: 300
    per_day += [Delivery(on=d, leads=45) for d in OPEN_JUNE[5:10]]  # week 2: 225
    per_day += [Delivery(on=d, leads=10) for d in OPEN_JUNE[10:15]]  # week 3: 50
    check = pace(
        per_day, target=1000, as_of="2026-06-19", calendar=PLAIN, measure="leads", capacity=1000
    )
    loads = [week.load for week in check.weeks]
    assert loads == [
        CapacityStatus.EXCEEDS,
        CapacityStatus.BALANCED,
        CapacityStatus.STARVES,
        None,
        None,
    ]
    assert [week.capacity for week in check.weeks] == [227, 227, 227, 227, 91]
    table = check.to_markdown()
    assert "| week of | business days | line | delivered | leads | capacity | load |" in table
    assert "| 2026-06-01 | 5 | 227 | 300 | 300 | 227 | exceeds |" in table


def test_no_business_day_is_a_plan_error() -> None:
    saturdays = BusinessCalendar(
        timezone="America/New_York",
        holidays=None,
        hours={"sat": "10:00-12:00"},
        overrides={"2026-06-06": "closed"},
    )
    with pytest.raises(PlanError, match="2026-W23 has no business day"):
        pace([], target=1, as_of="2026-06-03", calendar=saturdays, period="week")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": -1}, "target"),
        ({"target": "1.5", "measure": "leads"}, "target"),
        ({"tolerance": 2}, "tolerance"),
        ({"loading_tolerance": "50%"}, "loading_tolerance"),
        ({"capacity": -5}, "capacity"),
        ({"as_of": "someday"}, "period"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"target": 100, "as_of": "2026-06-10", "calendar": PLAIN}
    arguments.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        pace([], **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_bad_deliveries() -> None:
    with pytest.raises(ValidationError, match="must not be negative"):
        Delivery(on="2026-06-01", value=-1)
    with pytest.raises(ValidationError, match="whole number of leads"):
        Delivery(on="2026-06-01", leads=-1)
    with pytest.raises(ValidationError, match="expected a date"):
        Delivery(on="June 1st")


def test_deliveries_from_handoffs() -> None:
    ny = ZoneInfo("America/New_York")
    t = datetime(2026, 6, 1, 23, 30, tzinfo=ny)  # still June 1 in New York, June 2 in UTC
    handoffs = [
        Handoff(lead_id="1", notified_at=t, stage="mql", source="demo", segment="vp"),
        Handoff(lead_id="2", notified_at=t, stage="mql", source="ebook", segment="vp"),
    ]
    table = LeadValueTable.from_mapping({"demo": 3000, "ebook": 1000})
    found = deliveries(handoffs, calendar=CAL, values=table)
    assert [(d.on, d.value, d.leads) for d in found] == [
        (date(2026, 6, 1), Decimal(3000), 1),
        (date(2026, 6, 1), Decimal(1000), 1),
    ]
    by_segment = deliveries(handoffs, calendar=CAL, values={"vp": Decimal(7)}, by="segment")
    assert [d.value for d in by_segment] == [7, 7]
    assert [d.value for d in deliveries(handoffs, calendar=CAL)] == [0, 0]
    with pytest.raises(ValidationError, match='"source" or "segment"'):
        deliveries(handoffs, calendar=CAL, by="owner")


def test_leads_without_a_lead_value_are_counted_as_such_not_an_error() -> None:
    # One source without a value (and a hand-off naming no source) must not stop the pacing:
    # their leads are reported as unvalued, by source, and the lead value counts the others.
    ny = ZoneInfo("America/New_York")
    t = datetime(2026, 6, 2, 10, 0, tzinfo=ny)
    handoffs = [
        Handoff(lead_id="1", notified_at=t, stage="mql", source="demo"),
        Handoff(lead_id="2", notified_at=t, stage="mql", source="partner"),
        Handoff(lead_id="3", notified_at=t, stage="mql", source="partner"),
        Handoff(lead_id="4", notified_at=t, stage="mql"),
    ]
    found = deliveries(handoffs, calendar=PLAIN, values={"demo": Decimal(3000)})
    assert [(d.value, d.unvalued) for d in found] == [
        (Decimal(3000), None),
        (Decimal(0), ("source", "partner")),
        (Decimal(0), ("source", "partner")),
        (Decimal(0), ("source", "")),
    ]
    check = pace(found, target=66_000, as_of="2026-06-02", calendar=PLAIN)
    assert check.delivered == Decimal(3000)
    assert check.weeks[0].leads == 4  # sales works them all
    assert check.unvalued == (
        Unvalued(by="source", key="", leads=1),
        Unvalued(by="source", key="partner", leads=2),
    )
    assert check.unvalued_leads == 3
    assert check.warnings == (
        "1 lead with no source has no lead value: the lead value counts only the 1 valued lead.",
        "2 leads from source 'partner' have no lead value: the lead value counts only the "
        "1 valued lead.",
    )
    assert all(warning in check.explain() for warning in check.warnings)
    data = json.loads(json.dumps(check.to_dict()))
    assert data["unvalued"] == [
        {"by": "source", "key": "", "leads": 1},
        {"by": "source", "key": "partner", "leads": 2},
    ]
    assert data["unvalued_leads"] == 3
    assert data["warnings"] == list(check.warnings)
    # Valued throughout: nothing to say.
    valued = pace(found[:1], target=66_000, as_of="2026-06-02", calendar=PLAIN)
    assert (valued.unvalued, valued.warnings) == ((), ())
    assert "no lead value" not in valued.explain()


def test_to_dict_is_json() -> None:
    check = pace(
        [Delivery(on="2026-06-01", value=10)], target=100, as_of="2026-06-01", calendar=PLAIN
    )
    data = json.loads(json.dumps(check.to_dict()))
    assert data["period"] == "2026-06"
    assert data["delivered"] == "10.00"
    assert data["status"] == "ahead"
    assert data["weeks"][0]["start"] == "2026-06-01"
    assert data["first_half_share"] == pytest.approx(37 / 70)  # 10 + 10 x 90/21 of 100


AMOUNTS = st.lists(st.integers(min_value=0, max_value=10_000), min_size=30, max_size=30)


@given(AMOUNTS, st.integers(min_value=0, max_value=29), st.integers(min_value=1, max_value=500_000))
def test_pacing_properties(amounts: list[int], day: int, target: int) -> None:
    delivered = [Delivery(on=d, value=a) for d, a in zip(JUNE, amounts, strict=True)]
    as_of = JUNE[day]
    check = pace(delivered, target=target, as_of=as_of, calendar=PLAIN)
    assert check.delivered == sum(a for d, a in zip(JUNE, amounts, strict=True) if d <= as_of)
    assert check.elapsed_days == sum(1 for d in OPEN_JUNE if d <= as_of)
    line = Fraction(target * check.elapsed_days, 22)
    if check.status is PaceStatus.AHEAD:
        assert check.delivered > line
    elif check.status is PaceStatus.BEHIND:
        assert check.delivered < line
    if check.needed_per_day is not None and check.remaining_days:
        # The rate needed, held every day left, reaches the target.
        assert check.delivered + check.needed_per_day * check.remaining_days >= target
    assert sum(week.business_days for week in check.weeks) == 22
    assert sum(week.delivered for week in check.weeks) == check.delivered
    if check.first_half_share is not None:
        assert 0 <= check.first_half_share <= 1


@settings(max_examples=20)
@given(st.integers(min_value=1, max_value=10_000))
def test_delivery_on_the_line_is_on_pace_and_even(per_day: int) -> None:
    delivered = [Delivery(on=d, value=per_day) for d in OPEN_JUNE]
    for as_of in OPEN_JUNE[::4]:
        check = pace(delivered, target=per_day * 22, as_of=as_of, calendar=PLAIN)
        assert check.status is PaceStatus.ON_PACE
        assert check.loading is Loading.EVEN


NY = ZoneInfo("America/New_York")
SOURCES = ["referral", "content", "webinar", None]


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, 40 * 24 - 1), st.sampled_from(SOURCES), st.booleans()),
        max_size=60,
    ),
    as_of=st.integers(0, 31),
)
def test_shared_deliveries_pace_as_one_object_each(
    picks: list[tuple[int, str | None, bool]], as_of: int
) -> None:
    # deliveries() gives equal deliveries as one object, and pace() and pacing_curve() count
    # each object once, times its number: the figures are those of one object per hand-off.
    handoffs = [
        Handoff(lead_id=f"L{n}", notified_at=datetime(2020, 6, 28, tzinfo=NY)
                + timedelta(hours=hour), stage="mql", source=source, segment="vp" if vp else None)
        for n, (hour, source, vp) in enumerate(picks)
    ]  # fmt: skip
    values = {"referral": Decimal("1500.50"), "content": Decimal("100.0"), "webinar": Decimal(0)}
    day = date(2020, 7, 1) + timedelta(days=as_of % 31)
    for by, table in (("source", values), ("segment", {"vp": Decimal("7.25")}), ("source", None)):
        shared = deliveries(handoffs, calendar=CAL, values=table, by=by)
        assert len({id(d) for d in shared}) == len(set(shared))  # equal ones are one object
        apart = [attrs.evolve(d) for d in shared]  # one object each, as before
        for measure in ("value", "leads"):
            kwargs: dict[str, Any] = {"target": 100_000, "as_of": day, "calendar": CAL}
            together = pace(shared, measure=measure, capacity=40, **kwargs)
            assert together == pace(apart, measure=measure, capacity=40, **kwargs)
            assert (
                together.to_dict() == pace(apart, measure=measure, capacity=40, **kwargs).to_dict()
            )
            assert pacing_curve(together, shared, calendar=CAL) == pacing_curve(
                together, apart, calendar=CAL
            )


def test_counted_gives_each_object_once_with_its_number() -> None:
    from slacore.planning.pacing import counted

    one = Delivery(on="2026-06-02", value=10)
    other = Delivery(on="2026-06-03", value=10)
    equal = attrs.evolve(one)  # equal to ``one``, another object: counted apart
    assert counted(iter([one, other, one, equal, one])) == [(one, 3), (other, 1), (equal, 1)]
    assert counted([]) == []


def test_a_curve_whose_sums_round_adds_one_delivery_at_a_time() -> None:
    # 28 significant digits: nine of them add up with rounding in the default context.
    # Summed per object (value times its number) the rounding could differ: the curve then
    # adds the deliveries one at a time, as always, and equals the curve of one object each.
    from slacore.planning.curve import _grouped_sums

    long = Decimal("1234567890.123456789012345678")
    shared = [Delivery(on=d, value=long) for d in OPEN_JUNE[:3] for _ in range(9)]
    same = Delivery(on=OPEN_JUNE[3], value=long)
    shared += [same] * 9
    span = Period.MONTH.span(OPEN_JUNE[0])
    assert _grouped_sums(shared, span, lambda day: day, lambda d: d.value) is None
    assert _grouped_sums([same] * 3, span, lambda day: day, lambda d: d.value) == {
        OPEN_JUNE[3]: long * 3
    }
    apart = [attrs.evolve(d) for d in shared]
    check = pace(apart, target=550_000, as_of="2026-06-30", calendar=PLAIN)
    together = pacing_curve(check, shared, calendar=PLAIN)
    assert together == pacing_curve(check, apart, calendar=PLAIN)
    assert [p.delivered for p in together.points[:4]] == [
        p.delivered for p in pacing_curve(check, apart, calendar=PLAIN).points[:4]
    ]
