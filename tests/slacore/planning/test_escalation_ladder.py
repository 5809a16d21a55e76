"""Escalation: the ramifications ladder over a history of scorecards or met/missed flags."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Agreement, Scorecard, ValidationError, escalation, scorecard


def test_scripted_history_climbs_and_resets_the_ladder(company_a: Agreement) -> None:
    """Met, missed x1, x2, x3 (rungs 1-3), then met again: the ladder resets."""
    levels = []
    terminate = []
    history = [True, False, False, False, True]
    for end in range(1, len(history) + 1):
        state = escalation(company_a, history[:end])
        levels.append(state.level)
        terminate.append(state.terminate)
    assert levels == [0, 1, 2, 3, 0]
    assert terminate == [False, False, False, True, False]
    state = escalation(company_a, history)
    assert [s.missed_in_a_row for s in state.steps] == [0, 1, 2, 3, 0]
    assert state.rung is None
    assert state.first_terminated == "period 4"
    at_three = escalation(company_a, history[:4])
    assert at_three.rung is not None
    assert at_three.rung.after == timedelta(days=90)
    assert at_three.rung.actions[1].startswith("The executive team takes responsibility")
    assert at_three.explain() == (
        "period 4: shared goals missed 3 months in a row: rung 3 of 3 applies (shared goals "
        "not met after 90 days). The termination condition is reached: goals unmet 3 months "
        "running."
    )
    at_one = escalation(company_a, history[:2])
    assert at_one.rung is not None
    assert at_one.rung.actions[3] == (
        "Select and assign a smaller SWAT team to implement the recommended upgrades"
    )


def test_the_top_rung_holds(company_a: Agreement) -> None:
    state = escalation(company_a, [False] * 6)
    assert (state.missed_in_a_row, state.level, state.terminate) == (6, 3, True)
    assert state.first_terminated == "period 3"


def test_escalation_from_scorecards(company_a: Agreement, good: dict[str, object]) -> None:
    met = scorecard(company_a, "2020-07", **good)  # type: ignore[arg-type]
    bad = [scorecard(company_a, month, revenue=1) for month in ("2020-08", "2020-09")]
    state = escalation(company_a, [met, *bad])
    assert [s.label for s in state.steps] == ["2020-07", "2020-08", "2020-09"]
    assert state.level == 2
    text = state.to_markdown()
    assert "- Sales and marketing team representatives meet with the executive team" in text
    assert "| 2020-09 | missed | 2 | 2 |  |" in text
    data = json.loads(json.dumps(state.to_dict()))
    assert data["rung_after_days"] == 60
    assert data["terminate"] is False
    with pytest.raises(ValidationError, match="2020-08 follows 2020-09"):
        escalation(company_a, [bad[1], bad[0]])
    with pytest.raises(ValidationError, match="expected a Scorecard"):
        escalation(company_a, ["missed"])  # type: ignore[list-item]


def test_escalation_without_a_ladder(hubspot: Agreement) -> None:
    empty = escalation(hubspot, [])
    assert (empty.level, empty.terminate, empty.rung) == (0, False, None)
    assert empty.explain() == "No periods scored yet."
    state = escalation(hubspot, [False, False])
    assert (state.missed_in_a_row, state.level, state.terminate) == (2, 0, False)
    assert state.explain() == (
        "period 2: shared goals missed 2 months in a row; no rung of the ladder applies yet."
    )


@given(history=st.lists(st.booleans(), max_size=30))
def test_escalation_properties(company_a: Agreement, history: list[bool]) -> None:
    state = escalation(company_a, history)
    run = 0
    for flag, step in zip(history, state.steps, strict=True):
        run = 0 if flag else run + 1
        assert step.missed_in_a_row == run
        assert step.level == min(run, 3)
        assert step.terminate == (run >= 3)
    assert isinstance(state.steps, tuple)
    assert all(not isinstance(step, Scorecard) for step in state.steps)
