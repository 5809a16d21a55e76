from __future__ import annotations

import operator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import Handoff, ValidationError
from slacore.rules.eligibility import ALL, Eligibility, hand_raisers, segment, source, stage

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


class _LongLeadId(Eligibility):
    """A selector of the user's own: only ``matches`` is written."""

    def matches(self, handoff: Handoff) -> bool:
        return len(handoff.lead_id) > 2

    def describe(self) -> str:
        return "long lead ids"


_LEAVES = st.sampled_from(
    [
        ALL,
        hand_raisers(),
        source("web"),
        source("web", "referral"),
        segment("smb"),
        stage("mql"),
        stage("sql", "sal"),
        _LongLeadId(),
    ]
)
_SELECTORS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(operator.and_, inner, inner),
        st.builds(operator.or_, inner, inner),
        st.builds(operator.invert, inner),
    ),
    max_leaves=6,
)
_HANDOFFS = st.builds(
    handoff,
    lead_id=st.sampled_from(["L1", "L123"]),
    hand_raiser=st.booleans(),
    source=st.sampled_from([None, "web", "referral", "webinar"]),
    segment=st.sampled_from([None, "smb", "enterprise"]),
    stage=st.sampled_from(["mql", "sal", "sql"]),
)


@given(_SELECTORS, st.lists(_HANDOFFS, max_size=8))
def test_matches_many_agrees_with_matches(selector: Eligibility, items: list[Handoff]) -> None:
    assert selector.matches_many(items) == [selector.matches(h) for h in items]
    assert all(type(flag) is bool for flag in selector.matches_many(items))


class _RegionOfSegment(Eligibility):
    """Relies on the part before it: only called for hand-offs that have a segment."""

    def matches(self, handoff: Handoff) -> bool:
        assert handoff.segment is not None
        return handoff.segment.endswith("-emea")

    def describe(self) -> str:
        return "EMEA segments"


def test_bulk_form_short_circuits_like_matches() -> None:
    items = [handoff(segment="enterprise-emea"), handoff(segment=None), handoff(segment="smb")]
    both = ~segment("none-of-these") & segment("enterprise-emea", "smb") & _RegionOfSegment()
    assert both.matches_many(items) == [both.matches(h) for h in items] == [True, False, False]
    either = ~segment("enterprise-emea", "smb") | _RegionOfSegment()
    assert either.matches_many(items) == [either.matches(h) for h in items] == [True, True, False]
