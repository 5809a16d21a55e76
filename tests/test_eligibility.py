from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slacore import Handoff, ValidationError
from slacore.eligibility import ALL, hand_raisers, segment, source, stage

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def handoff(**kwargs: object) -> Handoff:
    base: dict[str, object] = {"lead_id": "L1", "notified_at": T0, "stage": "mql"}
    return Handoff(**(base | kwargs))  # type: ignore[arg-type]


def test_seed_000_selector() -> None:
    rule = hand_raisers() & ~source("webinar")
    assert rule.matches(handoff(hand_raiser=True, source="web"))
    assert rule(handoff(hand_raiser=True, source="referral"))
    assert not rule.matches(handoff(hand_raiser=True, source="webinar"))
    assert not rule.matches(handoff(hand_raiser=False, source="web"))
    assert rule.describe() == (
        "hand-raisers (leads asking for sales follow-up), excluding source webinar"
    )


def test_fields_and_combinations() -> None:
    either = source("referral") | segment("enterprise")
    assert either.matches(handoff(source="referral"))
    assert either.matches(handoff(segment="enterprise"))
    assert not either.matches(handoff(source="web"))
    assert either.describe() == "either (source referral) or (segment enterprise)"
    assert stage("mql", "sql").matches(handoff())
    assert stage("mql", "sql").describe() == "stage mql or sql"
    assert not stage("sql").matches(handoff())
    assert (~stage("sql")).describe() == "all hand-offs except stage sql"
    assert ALL.matches(handoff())
    assert ALL.describe() == "all hand-offs"
    assert source("a") == source("a")


@pytest.mark.parametrize("build", [lambda: source(), lambda: segment(""), lambda: stage(3)])
def test_bad_selectors(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]
