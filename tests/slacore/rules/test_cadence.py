from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from slacore import Handoff, OwnerChange, Rep, StageChange, Touch, ValidationError
from slacore.calendar.business import BusinessCalendar
from slacore.rules.cadence import CadenceRule
from slacore.rules.dashboard import dont_be_on_it
from slacore.rules.response import ResponseRule, SlaStatus, StageReached

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
NOW = T0 + 20 * D


def handoff(lead: str, owner: str, at: datetime = T0) -> Handoff:
    return Handoff(lead_id=lead, notified_at=at, stage="mql", owner_id=owner, source="web")


def calls(
    lead: str, *offsets: timedelta, channel: str = "call", start: datetime = T0
) -> list[Touch]:
    return [Touch(lead_id=lead, rep_id="x", at=start + o, channel=channel) for o in offsets]


# Seed 001's two conditions on a small hand-written data set. Answers worked out by hand:
#   L1 ann: called after 1h, five calls by day 10          -> on neither list
#   L2 ann: first call after 30h, five calls by day 12      -> not called within 24h
#   L3 bob: never called                                    -> both lists
#   L4 bob: called after 2h, only three calls in 14 days    -> fewer than 5 calls
#   L5 bob: emailed after 1h, never called                  -> both lists (emails don't count)
#   L6 cy:  notified 5 days ago, called after 1h            -> cadence window still open
#   L7 cy:  notified 2 hours ago, not called yet            -> response still pending
HANDOFFS = [
    handoff("L1", "ann"),
    handoff("L2", "ann"),
    handoff("L3", "bob"),
    handoff("L4", "bob"),
    handoff("L5", "bob"),
    handoff("L6", "cy", NOW - 5 * D),
    handoff("L7", "cy", NOW - 2 * H),
]
TOUCHES = [
    *calls("L1", H, 2 * D, 4 * D, 7 * D, 10 * D),
    *calls("L2", 30 * H, 3 * D, 5 * D, 8 * D, 12 * D),
    *calls("L4", 2 * H, 3 * D, 9 * D, 15 * D),  # the fourth is after the window closed
    *calls("L5", H, 2 * D, channel="email"),
    *calls("L6", H, start=NOW - 5 * D),
]
WITHIN_24H = ResponseRule(within="24h", clock="calendar", counts=("call",))
FIVE_IN_14D = CadenceRule(min_touches=5, within="14d", channels=("call",))


def test_cadence_statuses() -> None:
    report = FIVE_IN_14D.evaluate(HANDOFFS, TOUCHES, now=NOW)
    got = {r.handoff.lead_id: (r.status, r.touches) for r in report.results}
    assert got == {
        "L1": (SlaStatus.MET, 5),
        "L2": (SlaStatus.MET, 5),
        "L3": (SlaStatus.BREACHED, 0),
        "L4": (SlaStatus.BREACHED, 3),
        "L5": (SlaStatus.BREACHED, 0),
        "L6": (SlaStatus.PENDING, 1),
        "L7": (SlaStatus.PENDING, 0),
    }
    assert report.results[0].met_at == T0 + 10 * D
    assert report.results[2].window_end == T0 + 14 * D
    summary = report.summary
    assert (summary.eligible, summary.met, summary.breached, summary.pending) == (7, 2, 3, 2)
    assert summary.compliance == Fraction(2, 5)
    assert report.by_rep["bob"].breached == 3
    assert "at least 5 calls within 14d of notification" in report.explain()
    assert "| bob | 3 | 0 | 3 | 0 | 0% |" in report.to_markdown()
    assert report.to_dict(results=True)["results"][3]["touches"] == 3


def test_dont_be_on_it_reproduces_seed_001() -> None:
    response = WITHIN_24H.evaluate(HANDOFFS, TOUCHES, now=NOW)
    cadence = FIVE_IN_14D.evaluate(HANDOFFS, TOUCHES, now=NOW)
    board = dont_be_on_it(response, cadence)
    assert [(r.rep_id, r.not_contacted, r.under_touched) for r in board.rows] == [
        ("bob", ("L3", "L5"), ("L3", "L4", "L5")),
        ("ann", ("L2",), ()),
    ]
    assert board.rows[0].violations == 5
    assert board.row("cy") is None
    assert board.to_markdown().splitlines() == [
        "| rep | no call within 1d | fewer than 5 calls in 14d | leads |",
        "| --- | ---: | ---: | --- |",
        "| bob | 2 | 3 | L3, L5, L3, L4, L5 |",
        "| ann | 1 | 0 | L2 |",
    ]
    data = board.to_dict()
    assert data["reps"][0] == {
        "rep_id": "bob",
        "not_contacted": 2,
        "under_touched": 3,
        "violations": 5,
        "not_contacted_leads": ["L3", "L5"],
        "under_touched_leads": ["L3", "L4", "L5"],
    }


def test_dashboard_without_cadence_and_when_empty() -> None:
    response = WITHIN_24H.evaluate(HANDOFFS, TOUCHES, now=NOW)
    board = dont_be_on_it(response)
    assert board.cadence_label is None
    assert board.to_markdown().splitlines()[0] == "| rep | no call within 1d | leads |"
    empty = dont_be_on_it(WITHIN_24H.evaluate([], [], now=NOW))
    assert empty.rows == ()
    assert empty.to_markdown().startswith("Nobody is on the dashboard")
    many = dont_be_on_it(
        WITHIN_24H.evaluate([handoff(f"X{i}", "dan") for i in range(12)], [], now=NOW)
    )
    assert many.to_markdown(max_ids=2).endswith("| dan | 12 | X0, X1 (+10 more) |\n")
    stage_rule = ResponseRule(within="8h", clock="calendar", stop=StageReached("sal"))
    assert dont_be_on_it(stage_rule.evaluate([handoff("a", "e")], [], now=NOW)).response_label == (
        "not done within 8h"
    )


def test_at_risk_withdrawn_and_reassigned() -> None:
    rule = CadenceRule(min_touches=2, within="10d")
    handoffs = [handoff("risk", "ann"), handoff("gone", "ann"), handoff("moved", "ann")]
    changes = [StageChange(lead_id="gone", to_stage="recycled", at=T0 + 2 * D)]
    owners = [OwnerChange(lead_id="moved", owner_id="bob", at=T0 + D)]
    report = rule.evaluate(
        handoffs, [], now=T0 + 9 * D, stage_changes=changes, owner_changes=owners
    )
    assert [r.status for r in report.results] == [
        SlaStatus.AT_RISK,
        SlaStatus.WITHDRAWN,
        SlaStatus.AT_RISK,
    ]
    assert report.results[1].withdrawn_at == T0 + 2 * D
    assert report.results[2].owner_id == "bob"
    closed = rule.evaluate(handoffs, [], now=T0 + 11 * D, owner_changes=owners)
    assert closed.results[2].owner_id == "bob"
    assert closed.results[2].status is SlaStatus.BREACHED


def test_business_clock_and_other_team() -> None:
    calendar = BusinessCalendar(timezone="UTC", hours={"mon-fri": "09:00-17:00"})
    rule = CadenceRule(
        min_touches=2,
        within="16h",
        clock="business",
        calendar=calendar,
        channels=("call", "email"),
        target=0.5,
    )
    touches = [
        Touch(lead_id="L", rep_id="m", at=T0 + H, channel="email"),
        Touch(lead_id="L", rep_id="s", at=T0 + 2 * H, channel="call"),
        Touch(lead_id="L", rep_id="s", at=T0 + 25 * H, channel="email"),
    ]
    reps = [Rep(id="m", team="marketing"), Rep(id="s")]
    report = rule.evaluate([handoff("L", "s")], touches, now=T0 + 5 * D, reps=reps)
    result = report.results[0]
    # Two business days from Monday 9:00 end at Tuesday's close (the earliest such instant).
    assert result.window_end == T0 + D + 8 * H
    assert result.status is SlaStatus.MET
    assert result.met_at == T0 + 25 * H
    assert report.summary.target_met is True
    assert "16h of business time" in rule.describe()
    assert "for at least 50% of them" in rule.describe()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_touches": 0}, "touches >= 1"),
        ({"within": "2 weeks"}, "expected a duration"),
        ({"clock": "business"}, "needs a calendar"),
        ({"channels": ["sms"]}, "expected channels"),
        ({"applies_to": None}, "selector"),
    ],
)
def test_bad_cadence_rules(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"min_touches": 5, "within": "14d"}
    with pytest.raises(ValidationError, match=message):
        CadenceRule(**(base | kwargs))  # type: ignore[arg-type]


def test_window_is_real_time_across_dst() -> None:
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=ny)  # 14 days later the clocks have sprung
    report = FIVE_IN_14D.evaluate(
        [Handoff(lead_id="L", notified_at=start, stage="mql")], [], now=start
    )
    end = report.results[0].window_end
    assert end is not None
    assert end.astimezone(UTC) - start.astimezone(UTC) == 14 * D
    assert end == datetime(2026, 3, 16, 10, 0, tzinfo=ny)


def test_fall_back_hour_touches_count_by_instant() -> None:
    # 2026-11-01: New York's 01:00-02:00 happens twice. The window of one hour from 00:50 EDT
    # ends at 01:50 EDT; the second 01:10 (EST) is twenty minutes past it.
    ny = ZoneInfo("America/New_York")
    notified = datetime(2026, 11, 1, 0, 50, tzinfo=ny)
    inside = datetime(2026, 11, 1, 1, 30, tzinfo=ny)
    outside = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=ny)
    lead = Handoff(lead_id="L1", notified_at=notified, stage="mql", owner_id="R1")
    touches = [Touch(lead_id="L1", rep_id="R1", at=at, channel="call") for at in (inside, outside)]
    rule = CadenceRule(min_touches=2, within="1h", clock="calendar")
    result = rule.evaluate([lead], touches, now=notified + timedelta(hours=5)).results[0]
    assert (result.status, result.touches) == (SlaStatus.BREACHED, 1)


def test_at_risk_share_is_exact() -> None:
    # A third of 10 s is 3,333,333.3 µs: a clock 3,333,333 µs in is not yet at risk (a float
    # share rounds the window's third down to that very microsecond), one more µs is.
    rule = CadenceRule(min_touches=1, within="10s", at_risk_at=Fraction(1, 3))
    third = timedelta(microseconds=3_333_333)
    before = rule.evaluate([handoff("L", "ann")], [], now=T0 + third)
    assert before.results[0].status is SlaStatus.PENDING
    after = rule.evaluate([handoff("L", "ann")], [], now=T0 + third + timedelta(microseconds=1))
    assert after.results[0].status is SlaStatus.AT_RISK


def test_window_closes_at_its_end() -> None:
    # The window is open up to its end; a touch at the very end still counts, and at that
    # moment a window short of touches is breached.
    rule = CadenceRule(min_touches=2, within="1d")
    touches = calls("L", H, D)
    met = rule.evaluate([handoff("L", "ann")], touches, now=T0 + D)
    assert (met.results[0].status, met.results[0].met_at) == (SlaStatus.MET, T0 + D)
    short = rule.evaluate([handoff("L", "ann")], touches[:1], now=T0 + D)
    assert (short.results[0].status, short.results[0].touches) == (SlaStatus.BREACHED, 1)
    open_ = rule.evaluate([handoff("L", "ann")], touches[:1], now=T0 + D - timedelta(seconds=1))
    assert open_.results[0].status is SlaStatus.AT_RISK


def test_hand_offs_to_both_teams_are_worked_one_at_a_time() -> None:
    # One hand-off to sales and one back to marketing: each counts only its team's touches.
    rule = CadenceRule(min_touches=2, within="1d", channels=("call", "email"))
    handoffs = [
        handoff("S", "s"),
        Handoff(
            lead_id="M",
            notified_at=T0,
            stage="sql",
            owner_id="m",
            from_team="sales",
            to_team="marketing",
        ),
    ]
    touches = [
        *(Touch(lead_id="S", rep_id="s", at=T0 + n * H, channel="call") for n in (1, 2)),
        Touch(lead_id="S", rep_id="m", at=T0 + 3 * H, channel="email"),
        Touch(lead_id="M", rep_id="s", at=T0 + H, channel="call"),
        Touch(lead_id="M", rep_id="m", at=T0 + 2 * H, channel="email"),
    ]
    reps = [Rep(id="m", team="marketing"), Rep(id="s")]
    report = rule.evaluate(handoffs, touches, now=T0 + 2 * D, reps=reps)
    sales, marketing = report.results
    assert (sales.status, sales.touches, sales.met_at) == (SlaStatus.MET, 2, T0 + 2 * H)
    assert (marketing.status, marketing.touches) == (SlaStatus.BREACHED, 1)
    assert (report.summary.met, report.summary.breached) == (1, 1)
    # Results read like a sequence.
    assert report.results[-1] == marketing
    assert report.results[:1] == (sales,)
    assert report.results == [sales, marketing]
    number: object = 42
    assert report.results != number
    assert repr(report.results) == "<2 cadence results>"


def test_a_selector_answering_numpy_booleans() -> None:
    import numpy as np

    from slacore.rules.eligibility import Eligibility

    class Web(Eligibility):
        def matches(self, handoff: Handoff) -> bool:
            return handoff.source == "web"

        def describe(self) -> str:
            return "web leads"

        def matches_many(self, handoffs: Sequence[Handoff]) -> list[bool]:
            return np.array([h.source == "web" for h in handoffs])  # type: ignore[return-value]

    rule = CadenceRule(min_touches=1, within="2d", applies_to=Web())
    leads = [handoff(f"L{n}", "ann") for n in range(3)]
    report = rule.evaluate(leads, calls("L2", H), now=T0 + D)
    assert [(r.handoff.lead_id, r.status, r.touches) for r in report.results] == [
        ("L0", SlaStatus.PENDING, 0),
        ("L1", SlaStatus.PENDING, 0),
        ("L2", SlaStatus.MET, 1),
    ]
    # Results hash as the tuple they equal.
    assert hash(report.results) == hash(tuple(report.results))
