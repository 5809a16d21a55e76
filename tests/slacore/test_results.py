"""Every calculation result explains itself: explain(), to_markdown() and to_dict()."""

from __future__ import annotations

import inspect
import json
import re
import typing
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import slacore

RESULT_SUFFIXES = ("Result", "Report", "Summary", "Check", "Outcomes", "Curve")


def _returned(function: object) -> set[type]:
    try:
        hint = typing.get_type_hints(function).get("return")
    except NameError:
        # A hint naming a type imported only for type checking: read the names instead.
        text = str(getattr(function, "__annotations__", {}).get("return", ""))
        named = (getattr(slacore, name, None) for name in re.findall(r"[A-Za-z_]\w*", text))
        return {item for item in named if inspect.isclass(item)}
    found: set[type] = set()
    stack = [hint]
    while stack:
        hint = stack.pop()
        if inspect.isclass(hint):
            found.add(hint)
        stack.extend(typing.get_args(hint))
    return found


def result_classes() -> list[type]:
    """The classes the front door's calculations return, and every *Result/*Report/... it
    exports."""
    exported = {getattr(slacore, name) for name in slacore.__all__}
    classes: set[type] = set()
    for item in exported:
        if inspect.isfunction(item):
            classes |= _returned(item)
        elif inspect.isclass(item):
            if item.__name__.endswith(RESULT_SUFFIXES):
                classes.add(item)
            evaluate = getattr(item, "evaluate", None)
            if evaluate is not None:
                classes |= _returned(evaluate)
    # deliveries() turns hand-offs into pace()'s input records: values, not results.
    classes.discard(slacore.Delivery)
    # The selectors (hand_raisers(), source(), ...) build a rule's Eligibility: input, not result.
    classes.discard(slacore.Eligibility)
    return sorted(
        (c for c in classes if c.__module__.startswith("slacore.") and c in exported),
        key=lambda c: c.__name__,
    )


def test_the_result_classes_are_found() -> None:
    names = {c.__name__ for c in result_classes()}
    assert {"RunRate", "FunnelPlan", "Pacing", "ResponseReport", "Scorecard"} <= names


@pytest.mark.parametrize("cls", result_classes(), ids=lambda c: c.__name__)
def test_every_result_offers_three_forms(cls: type) -> None:
    for method in ("explain", "to_markdown", "to_dict"):
        function = getattr(cls, method, None)
        assert callable(function), f"{cls.__name__} has no {method}()"
        required = [
            p
            for p in list(inspect.signature(function).parameters.values())[1:]
            if p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        assert not required, f"{cls.__name__}.{method}() needs {required}"


NY = ZoneInfo("America/New_York")


def _samples() -> list[object]:
    cal = slacore.BusinessCalendar(timezone="America/New_York", holidays=None)
    at = datetime(2026, 6, 1, 9, tzinfo=NY)
    handoffs = [
        slacore.Handoff(lead_id="L1", notified_at=at, stage="mql", owner_id="R1", source="web"),
        slacore.Handoff(lead_id="L2", notified_at=at, stage="mql", owner_id="R2", source="web"),
    ]
    touches = [
        slacore.Touch(lead_id="L1", rep_id="R1", at=at + timedelta(minutes=5), channel="call")
    ]
    now = at + timedelta(days=20)
    response = slacore.ResponseRule(within="1h", calendar=cal).evaluate(handoffs, touches, now=now)
    cadence = slacore.CadenceRule(min_touches=2, within="14d").evaluate(handoffs, touches, now=now)
    delivered = [slacore.Delivery(on=date(2026, 6, 1), value=100)]
    pacing = slacore.pace(delivered, target=1000, as_of="2026-06-10", calendar=cal)
    mix = slacore.LeadValueTable.from_mapping({"web": 10, "event": 20})
    goal = slacore.MilestoneGoal(
        metric="close rate", baseline="0.25", milestones=[("2026-06-30", "0.35")]
    )
    return [
        slacore.run_rate(12_000),
        slacore.catch_up(12_000, target_month=3, actuals=[500, 500]),
        slacore.reverse_funnel(revenue=5000, deal_value=100, stages=[0.5]),
        slacore.capacity(reps=2, leads_per_rep=10, leads_needed=25),
        slacore.lead_value("3%", 100_000),
        mix,
        mix.mix_for_quota(1000, shares={"web": 1, "event": 1}),
        goal,
        goal.check("0.3", date(2026, 7, 1)),
        pacing,
        slacore.pacing_curve(pacing, delivered, calendar=cal),
        slacore.deal_outcomes([], slacore.Period.MONTH.span("2026-06"), zone=NY),
        response,
        response.summary,
        response.results[0],
        cadence,
        cadence.summary,
        cadence.results[0],
        slacore.dont_be_on_it(response, cadence),
    ]


@pytest.mark.parametrize("result", _samples(), ids=lambda r: type(r).__name__)
def test_each_form_renders(result: object) -> None:
    explanation = result.explain()  # type: ignore[attr-defined]
    markdown = result.to_markdown()  # type: ignore[attr-defined]
    data = result.to_dict()  # type: ignore[attr-defined]
    assert isinstance(explanation, str)
    assert explanation.strip()
    assert isinstance(markdown, str)
    assert markdown.strip()
    assert isinstance(data, dict)
    json.dumps(data)


def test_samples_cover_every_result_class() -> None:
    sampled = {type(r) for r in _samples()}
    missing = {c.__name__ for c in result_classes()} - {c.__name__ for c in sampled}
    # Each of these is built from an Agreement in tests of its own module.
    assert missing <= {
        "Scorecard",
        "Escalation",
        "RewardCheck",
        "TriggerCheck",
        "Calibration",
        "MixValue",
    }, missing
