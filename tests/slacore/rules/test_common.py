"""The accountability rules both clock rules share, tested on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slacore import Handoff, OwnerChange, ValidationError
from slacore.model import STANDARD_LADDER
from slacore.rules.common import (
    Clock,
    instant,
    moves_that_matter,
    owner_at,
    to_clock,
    withdraws,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
WITHDRAW_ON = ("disqualified", "unqualified", "recycled")


def mql(lead: str = "L1", owner: str | None = "R1") -> Handoff:
    return Handoff(lead_id=lead, notified_at=T0, stage="mql", owner_id=owner)


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("disqualified", True),  # a withdrawing stage
        ("lead", True),  # back before the hand-off's stage: returned to marketing
        ("subscriber", True),
        ("mql", False),  # the same stage
        ("sal", False),  # forward
        ("customer", False),
        ("nurture", False),  # not in the ladder, not withdrawing
    ],
)
def test_withdraws(stage: str, *, expected: bool) -> None:
    assert withdraws(mql(), stage, WITHDRAW_ON, STANDARD_LADDER) is expected


def test_a_hand_off_of_a_stage_outside_the_ladder_is_withdrawn_only_by_withdrawing_stages() -> None:
    handoff = Handoff(lead_id="L1", notified_at=T0, stage="trial", owner_id="R1")
    assert not withdraws(handoff, "subscriber", WITHDRAW_ON, STANDARD_LADDER)
    assert withdraws(handoff, "recycled", WITHDRAW_ON, STANDARD_LADDER)


def test_owner_at_is_the_last_reassignment_by_then() -> None:
    changes = [
        OwnerChange(lead_id="L1", owner_id="R2", at=T0 + timedelta(hours=1)),
        OwnerChange(lead_id="L1", owner_id="R3", at=T0 + timedelta(hours=2)),
    ]
    assert owner_at(mql(), changes, T0) == "R1"
    assert owner_at(mql(), changes, T0 + timedelta(hours=1)) == "R2"  # at the moment counts
    assert owner_at(mql(), changes, T0 + timedelta(hours=3)) == "R3"
    assert owner_at(mql(owner=None), [], T0) is None


def test_owner_at_compares_instants_in_the_fall_back_hour() -> None:
    ny = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ny)  # 01:30 EDT
    later = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ny)  # 01:10 EST, 40 minutes later
    change = OwnerChange(lead_id="L1", owner_id="R2", at=later)
    assert owner_at(mql(), [change], first) == "R1"
    assert instant(later) > instant(first)


def test_moves_that_matter_are_withdrawing_stages_and_stages_before_the_hand_offs() -> None:
    matter = moves_that_matter([mql()], WITHDRAW_ON, STANDARD_LADDER, also=("sal",))
    assert matter == {"disqualified", "unqualified", "recycled", "subscriber", "lead", "sal"}
    assert "sql" not in matter


def test_to_clock() -> None:
    assert to_clock("business") is Clock.BUSINESS
    with pytest.raises(ValidationError, match='expected "business" or "calendar"'):
        to_clock("wall")
