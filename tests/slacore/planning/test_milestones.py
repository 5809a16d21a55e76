from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import (
    Direction,
    Milestone,
    MilestoneGoal,
    MilestoneMeasure,
    Ramp,
    ValidationError,
)


def close_rate(ramp: str = "step") -> MilestoneGoal:
    return MilestoneGoal(
        metric="close rate on proposals",
        baseline="0.25",
        start="2020-01-01",
        milestones=[("2020-06-30", "0.35"), ("2020-12-31", "0.50")],
        ramp=ramp,
        unit="%",
    )


def cycle_days(ramp: str = "step") -> MilestoneGoal:
    return MilestoneGoal(
        metric="sales cycle",
        baseline=45,
        start=date(2020, 1, 1),
        milestones=[Milestone(on="2020-06-30", target=40), Milestone(on="2020-12-31", target=35)],
        direction="lower",
        ramp=ramp,
        unit="days",
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 12, 1), "0.25"),
        (date(2020, 1, 1), "0.25"),
        (date(2020, 6, 29), "0.25"),
        (date(2020, 6, 30), "0.35"),
        (date(2020, 12, 30), "0.35"),
        (date(2020, 12, 31), "0.50"),
        (date(2021, 3, 1), "0.50"),
    ],
)
def test_close_rate_steps(day: date, expected: str) -> None:
    assert close_rate().target_on(day) == Decimal(expected)


def test_linear_ramp() -> None:
    goal = cycle_days("linear")
    assert goal.target_on(date(2020, 1, 1)) == 45
    assert goal.target_on(date(2020, 6, 30)) == 40
    assert goal.target_on(date(2020, 12, 31)) == 35
    # Halfway (in days) between June 30 and December 31 is 37.5 days.
    assert goal.target_on(date(2020, 9, 30)) == Decimal("37.5000")
    assert goal.target_on(datetime(2020, 9, 30, 12, tzinfo=UTC)) == Decimal("37.5000")
    assert close_rate("linear").target_on(date(2020, 3, 31)) == Decimal(
        "0.2997"
    )  # 0.25 + 0.10 x 90/181


def test_checks_by_direction() -> None:
    rate = close_rate()
    assert rate.check("0.36", date(2020, 7, 1)).met
    miss = rate.check(Decimal("0.30"), date(2020, 7, 1))
    assert not miss.met
    assert miss.gap == Decimal("-0.05")
    assert "misses the target of 0.35" in miss.explain()
    cycle = cycle_days()
    assert cycle.check(39, date(2020, 7, 1)).met
    late = cycle.check(41, datetime(2020, 7, 1, tzinfo=UTC))
    assert not late.met
    assert late.gap == -1
    assert late.direction is Direction.LOWER
    assert late.to_dict()["met"] is False


def test_describe() -> None:
    assert close_rate().explain() == (
        "Increase close rate on proposals from 0.25 to 0.35 by 2020-06-30 and to 0.50 by "
        "2020-12-31."
    )
    assert cycle_days().explain().startswith("Decrease sales cycle from 45")
    assert close_rate().final_target == Decimal("0.50")
    assert close_rate().to_dict()["milestones"][0] == {"on": "2020-06-30", "target": "0.35"}
    assert close_rate().ramp is Ramp.STEP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"milestones": []}, "at least one milestone"),
        ({"milestones": [("2020-06-30", 1), ("2020-06-30", 2)]}, "same date"),
        ({"milestones": [("2019-06-30", 1)]}, "not after start"),
        ({"milestones": [("2020-06-30", 0.1)]}, "moves away from 0.25"),
        ({"milestones": [("2020-06-30", 1)], "start": None, "ramp": "linear"}, "needs a start"),
        ({"milestones": [("June 30", 1)]}, "expected a date like 2020-06-30"),
        ({"milestones": [("2020-06-30", "lots")]}, "amount"),
        ({"milestones": [(datetime(2020, 6, 30, tzinfo=UTC), 1)]}, "calendar date"),
    ],
)
def test_bad_goals(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"metric": "close rate", "baseline": 0.25, "start": "2020-01-01"}
    with pytest.raises(ValidationError, match=message):
        MilestoneGoal(**(base | kwargs))  # type: ignore[arg-type]


def test_bad_direction() -> None:
    with pytest.raises(ValueError, match="sideways"):
        MilestoneGoal(metric="x", baseline=1, milestones=[("2020-06-30", 2)], direction="sideways")


@given(st.dates(min_value=date(2019, 1, 1), max_value=date(2022, 1, 1)))
def test_linear_target_lies_between_neighbouring_milestones(day: date) -> None:
    goal = close_rate("linear")
    target = goal.target_on(day)
    assert Decimal("0.25") <= target <= Decimal("0.50")
    assert goal.target_on(day) <= goal.target_on(date.fromordinal(day.toordinal() + 1))


def test_a_goal_names_its_measure_from_a_fixed_set() -> None:
    goal = MilestoneGoal(
        metric="close rate on proposals",
        baseline="0.25",
        milestones=[("2020-06-30", "0.35")],
        measure="close_rate",
    )
    assert goal.measure is MilestoneMeasure.CLOSE_RATE
    assert goal.to_dict()["measure"] == "close_rate"
    unmeasured = MilestoneGoal(metric="NPS", baseline=30, milestones=[("2020-06-30", 40)])
    assert unmeasured.measure is None


def test_an_unknown_measure_names_the_choices() -> None:
    with pytest.raises(ValidationError, match='"close_rate", "sales_cycle_days"'):
        MilestoneGoal(
            metric="close", baseline="0.25", milestones=[("2020-06-30", "0.35")], measure="close"
        )


def test_a_close_rate_written_as_a_percent_number_is_refused() -> None:
    with pytest.raises(ValidationError, match="share from 0 to 1, got 25 "):
        MilestoneGoal(
            metric="close rate", baseline=25, milestones=[("2020-06-30", 35)], measure="close_rate"
        )
