from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from slacore import Handoff, OwnerChange, Rep, StageChange, Touch, ValidationError
from slacore.calendar.business import BusinessCalendar
from slacore.rules.eligibility import hand_raisers, source, stage
from slacore.rules.response import (
    NEVER,
    Clock,
    FirstTouch,
    ResponseRule,
    SlaStatus,
    StageReached,
)

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 3, 3, 10, 0, tzinfo=NY)  # a Tuesday
H = timedelta(hours=1)
NY_CALENDAR = BusinessCalendar(
    timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
)


def handoff(lead: str = "L1", at: datetime = T0, **kwargs: object) -> Handoff:
    base: dict[str, object] = {
        "lead_id": lead,
        "notified_at": at,
        "stage": "mql",
        "owner_id": "R1",
        "source": "web",
        "hand_raiser": True,
    }
    return Handoff(**(base | kwargs))  # type: ignore[arg-type]


def touch(lead: str, at: datetime, channel: str = "call", rep: str = "R1") -> Touch:
    return Touch(lead_id=lead, rep_id=rep, at=at, channel=channel)


def day_rule(**kwargs: object) -> ResponseRule:
    base: dict[str, object] = {"within": "24h", "clock": "calendar"}
    return ResponseRule(**(base | kwargs))  # type: ignore[arg-type]


def test_met_breached_pending_at_risk() -> None:
    rule = day_rule()
    handoffs = [
        handoff("met"),
        handoff("late"),
        handoff("never"),
        handoff("pending", at=T0 + 40 * H),
        handoff("risky", at=T0 + 24 * H),
    ]
    touches = [touch("met", T0 + H), touch("late", T0 + 25 * H)]
    report = rule.evaluate(handoffs, touches, now=T0 + 44 * H)
    status = {r.handoff.lead_id: r.status for r in report.results}
    assert status == {
        "met": SlaStatus.MET,
        "late": SlaStatus.BREACHED,
        "never": SlaStatus.BREACHED,
        "pending": SlaStatus.PENDING,  # 4h of 24h gone
        "risky": SlaStatus.AT_RISK,  # 20h of 24h gone: past 80%
    }
    met = report.results[0]
    assert met.due_at == T0 + 24 * H
    assert met.first_touch_at == T0 + H
    assert met.elapsed == H
    assert met.responded
    never = report.results[2]
    assert never.first_touch_at is None
    assert never.elapsed == 44 * H  # to now
    s = report.summary
    assert (s.eligible, s.met, s.breached, s.pending, s.at_risk) == (5, 1, 2, 1, 1)
    assert s.compliance == Fraction(1, 3)
    assert s.buckets == {
        "within 5 minutes (clock)": 0,
        "within 1 hour (clock)": 1,
        "within 24 hours (clock)": 0,
        "over 24 hours (clock)": 1,
        "never": 1,
    }
    # The lead never touched is slower than any touched one: 1h, 25h, never.
    assert s.p50 == 25 * H
    assert s.p90 is NEVER


def test_percentiles_count_never_contacted_leads_as_slowest() -> None:
    # R07 in the demo: 3 of 17 hand-offs never called. The 90th percentile falls among them.
    rule = day_rule()
    handoffs = [handoff(f"L{i}", owner_id="R07") for i in range(17)]
    touches = [touch(f"L{i}", T0 + (i % 8 + 1) * H, rep="R07") for i in range(14)]
    report = rule.evaluate(handoffs, touches, now=T0 + 48 * H)
    s = report.by_rep["R07"]
    assert (s.eligible, s.breached, s.buckets["never"]) == (17, 3, 3)
    assert s.p50 == 5 * H  # the 9th of 17: the times run 1h..8h, 1h..6h, then 3 nevers
    assert s.p90 is NEVER  # the 16th of 17
    assert report.summary.p90 is NEVER
    assert report.by_source["web"].p90 is NEVER
    assert str(NEVER) == "never"
    assert "90th percentile never (3 of 17 never contacted, counted as slowest)" in s.explain()
    assert "| R07 | 17 | 14 | 3 | 0 | 82.35% | 5h | never |" in report.to_markdown()
    data = report.to_dict()
    assert data["by_rep"]["R07"]["p90_seconds"] == "never"
    assert data["by_rep"]["R07"]["p50_seconds"] == 5 * 3600
    # Touched all but one of 17: the 90th percentile is still a time.
    most = rule.evaluate(
        handoffs, [*touches, touch("L14", T0 + 9 * H), touch("L15", T0 + H)], now=T0 + 48 * H
    )
    assert most.summary.p90 == 9 * H  # the 16th of 17: 1h..8h, 1h..6h, 9h, 1h, then never


def test_bucket_labels_say_business_or_clock_time() -> None:
    business = ResponseRule(within="1h", calendar=NY_CALENDAR)
    report = business.evaluate(
        [handoff()], [touch("L1", T0 + 30 * timedelta(minutes=1))], now=T0 + 2 * H
    )
    assert list(report.summary.buckets) == [
        "within 5 business minutes",
        "within 1 business hour",
        "within 24 business hours",
        "over 24 business hours",
        "never",
    ]
    assert report.summary.buckets["within 1 business hour"] == 1
    assert "| within 1 business hour | 1 |" in report.to_markdown()
    clock = day_rule().evaluate([handoff()], [], now=T0)
    assert list(clock.summary.buckets)[1] == "within 1 hour (clock)"


def test_clock_starts_at_notification_and_earlier_touches_do_not_count() -> None:
    report = day_rule().evaluate(
        [handoff()], [touch("L1", T0 - H), touch("L1", T0 + 2 * H)], now=T0 + 30 * H
    )
    assert report.results[0].first_touch_at == T0 + 2 * H
    assert report.results[0].status is SlaStatus.MET


def test_touch_at_the_due_time_is_met() -> None:
    report = day_rule().evaluate([handoff()], [touch("L1", T0 + 24 * H)], now=T0 + 30 * H)
    assert report.results[0].status is SlaStatus.MET


@pytest.mark.parametrize("calendar", [None, NY_CALENDAR], ids=["plain", "with calendar"])
def test_due_time_reached_at_now_is_a_breach(calendar: BusinessCalendar | None) -> None:
    rule = day_rule(calendar=calendar)
    at_due = rule.evaluate([handoff()], [], now=T0 + 24 * H).results[0]
    assert at_due.status is SlaStatus.BREACHED
    assert at_due.elapsed == 24 * H
    before = rule.evaluate([handoff()], [], now=T0 + 24 * H - timedelta(microseconds=1))
    assert before.results[0].status is SlaStatus.AT_RISK


def test_a_window_longer_than_the_calendar_past_is_pending() -> None:
    # The rule's cut-off (now less the window) would fall before year 1.
    rule = ResponseRule(within=timedelta(days=900_000), clock="calendar")
    result = rule.evaluate([handoff()], [], now=T0 + H).results[0]
    assert result.status is SlaStatus.PENDING
    assert result.due_at == T0.astimezone(UTC) + timedelta(days=900_000)


def test_only_counted_channels_stop_the_clock() -> None:
    rule = day_rule(counts=("call",))
    report = rule.evaluate(
        [handoff()],
        [touch("L1", T0 + H, "email"), touch("L1", T0 + 3 * H, "call")],
        now=T0 + 30 * H,
    )
    assert report.results[0].first_touch_at == T0 + 3 * H
    assert rule.stop_event == FirstTouch(["call"])


def test_touches_by_the_other_team_do_not_count_when_reps_are_known() -> None:
    reps = [Rep(id="R1"), Rep(id="M1", team="marketing")]
    touches = [touch("L1", T0 + H, rep="M1"), touch("L1", T0 + 2 * H, rep="R1")]
    report = day_rule().evaluate([handoff()], touches, now=T0 + 30 * H, reps=reps)
    assert report.results[0].first_touch_at == T0 + 2 * H
    anyone = day_rule().evaluate([handoff()], touches, now=T0 + 30 * H)
    assert anyone.results[0].first_touch_at == T0 + H


def test_each_hand_off_counts_the_touches_of_its_receiving_team() -> None:
    reps = [Rep(id="R1"), Rep(id="M1", team="marketing")]
    handoffs = [
        handoff("L1"),  # marketing to sales
        handoff("L2", from_team="sales", to_team="marketing"),  # returned for nurture
        handoff("L3", owner_id="R9"),  # touched by a rep nobody listed
    ]
    touches = [
        touch("L1", T0 + H, rep="M1"),
        touch("L1", T0 + 2 * H, rep="R1"),
        touch("L2", T0 + H, rep="R1"),
        touch("L2", T0 + 3 * H, rep="M1"),
        touch("L3", T0 + H, rep="R9"),
    ]
    for chosen in (handoffs, handoffs[:1] + handoffs[2:]):  # two teams, then one
        report = day_rule().evaluate(chosen, touches, now=T0 + 30 * H, reps=reps)
        first = {r.handoff.lead_id: r.first_touch_at for r in report.results}
        assert first["L1"] == T0 + 2 * H
        assert first["L3"] == T0 + H
        if "L2" in first:
            assert first["L2"] == T0 + 3 * H


def test_what_happens_after_now_is_not_known() -> None:
    report = day_rule().evaluate([handoff()], [touch("L1", T0 + 3 * H)], now=T0 + 2 * H)
    assert report.results[0].status is SlaStatus.PENDING
    assert report.results[0].first_touch_at is None


def test_eligibility() -> None:
    rule = day_rule(applies_to=hand_raisers() & ~source("webinar"))
    handoffs = [handoff("a"), handoff("b", source="webinar"), handoff("c", hand_raiser=False)]
    report = rule.evaluate(handoffs, [], now=T0 + H)
    assert [r.status for r in report.results] == [
        SlaStatus.PENDING,
        SlaStatus.NOT_APPLICABLE,
        SlaStatus.NOT_APPLICABLE,
    ]
    assert report.results[1].due_at is None
    assert report.summary.eligible == 1
    assert "excluding source webinar" in rule.describe()


def test_withdrawn_before_due_is_not_a_breach() -> None:
    changes = [
        StageChange(lead_id="dq", to_stage="disqualified", at=T0 + 2 * H),
        StageChange(lead_id="back", to_stage="lead", at=T0 + 3 * H),  # back to marketing
        StageChange(lead_id="after", to_stage="disqualified", at=T0 + 30 * H),
        StageChange(lead_id="forward", to_stage="sal", at=T0 + 2 * H),
    ]
    handoffs = [handoff("dq"), handoff("back"), handoff("after"), handoff("forward")]
    report = day_rule().evaluate(handoffs, [], now=T0 + 40 * H, stage_changes=changes)
    assert [r.status for r in report.results] == [
        SlaStatus.WITHDRAWN,
        SlaStatus.WITHDRAWN,
        SlaStatus.BREACHED,  # withdrawn after the deadline: still breached
        SlaStatus.BREACHED,  # moving forward is not withdrawing
    ]
    assert report.results[0].withdrawn_at == T0 + 2 * H
    assert report.summary.withdrawn == 2
    assert report.summary.compliance == 0


def test_touch_before_withdrawal_decides() -> None:
    changes = [StageChange(lead_id="L1", to_stage="disqualified", at=T0 + 2 * H)]
    report = day_rule().evaluate(
        [handoff()], [touch("L1", T0 + H)], now=T0 + 40 * H, stage_changes=changes
    )
    assert report.results[0].status is SlaStatus.MET
    assert report.results[0].withdrawn_at is None


def test_touch_after_withdrawal_is_no_response() -> None:
    changes = [StageChange(lead_id="L1", to_stage="disqualified", at=T0 + 2 * H)]
    report = day_rule().evaluate(
        [handoff()], [touch("L1", T0 + 3 * H)], now=T0 + 40 * H, stage_changes=changes
    )
    result = report.results[0]
    assert result.status is SlaStatus.WITHDRAWN
    assert (result.withdrawn_at, result.first_touch_at) == (T0 + 2 * H, None)
    # The time to withdrawal is not a response time.
    assert report.summary.p50 is None
    assert sum(report.summary.buckets.values()) == 0


def test_reassignment_continue_blames_the_owner_at_the_deadline() -> None:
    owners = [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + 20 * H)]
    report = day_rule().evaluate([handoff()], [], now=T0 + 30 * H, owner_changes=owners)
    result = report.results[0]
    assert result.status is SlaStatus.BREACHED
    assert result.due_at == T0 + 24 * H
    assert result.owner_id == "R2"
    assert list(report.by_rep) == ["R2"]


def test_reassignment_restart_moves_the_deadline() -> None:
    owners = [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + 20 * H)]
    rule = day_rule(on_reassign="restart")
    report = rule.evaluate(
        [handoff()], [touch("L1", T0 + 30 * H, rep="R2")], now=T0 + 50 * H, owner_changes=owners
    )
    result = report.results[0]
    assert result.started_at == T0 + 20 * H
    assert result.due_at == T0 + 44 * H
    assert result.status is SlaStatus.MET
    assert result.owner_id == "R2"
    # A reassignment after the deadline changes nothing.
    late = [OwnerChange(lead_id="L1", owner_id="R3", at=T0 + 26 * H)]
    again = rule.evaluate([handoff()], [], now=T0 + 50 * H, owner_changes=late)
    assert again.results[0].due_at == T0 + 24 * H
    assert again.results[0].owner_id == "R1"


def test_reassignment_after_withdrawal_does_not_restart_the_clock() -> None:
    # Withdrawn at +2h; a reassignment at +5h (before the first due time) must not move the
    # clock's start past the withdrawal.
    changes = [StageChange(lead_id="L1", to_stage="disqualified", at=T0 + 2 * H)]
    owners = [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + 5 * H)]
    report = day_rule(on_reassign="restart").evaluate(
        [handoff()], [], now=T0 + 50 * H, stage_changes=changes, owner_changes=owners
    )
    result = report.results[0]
    assert result.status is SlaStatus.WITHDRAWN
    assert (result.started_at, result.due_at) == (T0, T0 + 24 * H)
    assert (result.withdrawn_at, result.owner_id) == (T0 + 2 * H, "R1")
    assert result.elapsed == 2 * H
    # A reassignment before the withdrawal still restarts it.
    earlier = [OwnerChange(lead_id="L1", owner_id="R2", at=T0 + H)]
    moved = day_rule(on_reassign="restart").evaluate(
        [handoff()], [], now=T0 + 50 * H, stage_changes=changes, owner_changes=earlier
    )
    assert (moved.results[0].started_at, moved.results[0].owner_id) == (T0 + H, "R2")
    assert moved.results[0].status is SlaStatus.WITHDRAWN


def test_acceptance_rule_stops_at_a_stage_change() -> None:
    rule = ResponseRule(
        within="8h",
        calendar=NY_CALENDAR,
        applies_to=stage("mql"),
        stop=StageReached("sal", "rejected"),
        name="acceptance",
    )
    changes = [
        StageChange(lead_id="ok", to_stage="sal", at=T0 + 2 * H),
        StageChange(lead_id="slow", to_stage="rejected", at=T0 + 30 * H),
    ]
    report = rule.evaluate(
        [handoff("ok"), handoff("slow")], [], now=T0 + 48 * H, stage_changes=changes
    )
    assert [r.status for r in report.results] == [SlaStatus.MET, SlaStatus.BREACHED]
    # 8 business hours from Tuesday 10:00 is Wednesday 10:00.
    assert report.results[1].due_at == T0 + 24 * H
    assert report.results[1].business_elapsed == 14 * H  # Tue 10-17 and Wed 09-16
    assert rule.describe().startswith("For stage mql: the lead moves to sal or rejected within 8h")


def test_seed_000_rule_in_business_hours() -> None:
    rule = ResponseRule(
        within="1h",
        clock="business",
        calendar=NY_CALENDAR,
        applies_to=hand_raisers() & ~source("webinar"),
    )
    friday = datetime(2026, 3, 6, 16, 30, tzinfo=NY)
    tuesday_night = datetime(2026, 3, 3, 20, 0, tzinfo=NY)
    handoffs = [handoff("fri", at=friday), handoff("tue", at=tuesday_night)]
    touches = [
        touch("fri", datetime(2026, 3, 9, 9, 20, tzinfo=NY)),
        touch("tue", datetime(2026, 3, 4, 10, 5, tzinfo=NY)),
    ]
    report = rule.evaluate(handoffs, touches, now=datetime(2026, 3, 10, tzinfo=NY))
    fri, tue = report.results
    assert fri.due_at == datetime(2026, 3, 9, 9, 30, tzinfo=NY)
    assert fri.status is SlaStatus.MET
    assert fri.business_elapsed == timedelta(minutes=50)  # 30 min Friday + 20 min Monday
    # Real elapsed time: the clocks sprang forward on Sunday 8 March, so one hour less than
    # the wall clocks suggest.
    assert fri.elapsed == timedelta(days=2, hours=15, minutes=50)
    assert tue.due_at == datetime(2026, 3, 4, 10, 0, tzinfo=NY)
    assert tue.status is SlaStatus.BREACHED
    assert report.summary.p50 == timedelta(minutes=50)  # measured in business time
    text = rule.describe()
    assert text.startswith(
        "For hand-raisers (leads asking for sales follow-up), excluding "
        "source webinar: the first call, email or meeting within 1h of "
        "business time after the rep is notified"
    )


def test_target_overall_per_rep_and_per_source() -> None:
    rule = day_rule(target=0.9)
    handoffs = [handoff(f"a{i}", owner_id="ann", source="referral") for i in range(10)] + [
        handoff(f"b{i}", owner_id="bob", source="web") for i in range(10)
    ]
    touches = [touch(f"a{i}", T0 + H) for i in range(10)] + [
        touch(f"b{i}", T0 + (H if i < 8 else 30 * H)) for i in range(10)
    ]
    report = rule.evaluate(handoffs, touches, now=T0 + 48 * H)
    assert report.summary.compliance == Fraction(18, 20)
    assert report.summary.target_met is True
    assert report.by_rep["ann"].target_met is True
    assert report.by_rep["bob"].compliance == Fraction(8, 10)
    assert report.by_rep["bob"].target_met is False
    assert report.by_source["web"].target_met is False
    assert list(report.by_source) == ["referral", "web"]
    data = report.to_dict()
    assert data["summary"]["compliance"] == 0.9
    assert data["summary"]["target_met"] is True
    assert data["by_rep"]["bob"]["breached"] == 2
    assert "results" not in data
    assert len(report.to_dict(results=True)["results"]) == 20
    assert "90% met, which meets the 90% target" in report.explain()
    markdown = report.to_markdown()
    assert "| bob | 10 | 8 | 2 | 0 | 80% | 1h | 1d 6h |" in markdown
    assert len(report.with_status("breached")) == 2


def test_no_decisions_yet() -> None:
    report = day_rule(target="90%").evaluate([handoff()], [], now=T0)
    assert report.summary.compliance is None
    assert report.summary.target_met is None
    assert report.summary.p50 is None
    assert "met," in report.explain()
    assert report.by_rep["R1"].pending == 1


def test_unassigned_and_unsourced_groups() -> None:
    report = day_rule().evaluate([handoff(owner_id=None, source=None)], [], now=T0)
    assert list(report.by_rep) == ["(unassigned)"]
    assert list(report.by_source) == ["(none)"]


def test_no_source_and_a_blank_source_are_one_group() -> None:
    report = day_rule().evaluate(
        [handoff("L1", source=None), handoff("L2", source=""), handoff("L3", owner_id=None)],
        [touch("L1", T0 + H), touch("L2", T0 + 3 * H), touch("L3", T0 + 2 * H)],
        now=T0 + 30 * H,
    )
    none = report.by_source["(none)"]
    assert (none.eligible, none.met, none.p50, none.p90) == (2, 2, H, 3 * H)
    assert list(report.by_source) == ["(none)", "web"]
    assert list(report.by_rep) == ["(unassigned)", "R1"]


def test_now_defaults_to_the_current_time() -> None:
    report = day_rule().evaluate([handoff(at=datetime(2020, 1, 1, tzinfo=UTC))], [])
    assert report.results[0].status is SlaStatus.BREACHED
    assert report.now.tzinfo is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"within": "soon"}, "expected a duration"),
        ({"clock": "lunar"}, 'expected "business" or "calendar"'),
        ({"clock": "business"}, "needs a calendar"),
        ({"at_risk_at": 1.5}, "above 0 and at most 1"),
        ({"target": 2}, "between 0 and 1"),
        ({"counts": ("fax",)}, "expected channels"),
        ({"counts": ()}, "at least one channel"),
        ({"on_reassign": "never"}, '"continue" or "restart"'),
        ({"applies_to": "webinar"}, "selector"),
    ],
)
def test_bad_rules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        day_rule(**kwargs)


def test_naive_now_is_an_error() -> None:
    with pytest.raises(ValidationError, match="timezone-aware") as info:
        day_rule().evaluate([handoff()], [], now=datetime(2026, 1, 1))
    assert info.value.field == "now"


def test_stage_reached_needs_stages() -> None:
    with pytest.raises(ValidationError, match="at least one stage"):
        StageReached()


def test_calendar_clock_with_a_calendar_reports_business_time_too() -> None:
    rule = ResponseRule(within="24h", clock=Clock.CALENDAR, calendar=NY_CALENDAR)
    report = rule.evaluate([handoff()], [touch("L1", T0 + 24 * H)], now=T0 + 30 * H)
    assert report.results[0].business_elapsed == 8 * H
    assert report.results[0].elapsed == 24 * H


@pytest.mark.parametrize(
    ("zone", "notified", "due"),
    [
        # The day before a public holiday (Thanksgiving, Thursday 26 Nov 2026), after hours:
        # due in the first hour of the day after it.
        ("America/New_York", datetime(2026, 11, 25, 18, 0), datetime(2026, 11, 27, 10, 0)),
        # Friday evening before the spring-forward weekend (New York: Sunday 8 March 2026).
        ("America/New_York", datetime(2026, 3, 6, 16, 30), datetime(2026, 3, 9, 9, 30)),
        # Friday evening before the fall-back weekend (New York: Sunday 1 November 2026).
        ("America/New_York", datetime(2026, 10, 30, 16, 45), datetime(2026, 11, 2, 9, 45)),
        # London: spring forward on Sunday 29 March 2026, fall back on Sunday 25 October.
        ("Europe/London", datetime(2026, 3, 27, 16, 30), datetime(2026, 3, 30, 9, 30)),
        ("Europe/London", datetime(2026, 10, 23, 20, 0), datetime(2026, 10, 26, 10, 0)),
    ],
)
def test_seed_000_due_times_at_the_edges(zone: str, notified: datetime, due: datetime) -> None:
    tz = ZoneInfo(zone)
    holidays = "US" if zone == "America/New_York" else "GB-ENG"
    calendar = BusinessCalendar(timezone=zone, hours={"mon-fri": "09:00-17:00"}, holidays=holidays)
    rule = ResponseRule(within="1h", calendar=calendar)
    start = notified.replace(tzinfo=tz)
    report = rule.evaluate([handoff(at=start)], [], now=start)
    result = report.results[0]
    assert result.due_at == due.replace(tzinfo=tz)
    assert result.due_at.utcoffset() == due.replace(tzinfo=tz).utcoffset()
    assert rule.due(start) == result.due_at
    # Evaluated once the deadline has passed, a touch one minute late is a breach.
    late = rule.evaluate(
        [handoff(at=start)],
        [touch("L1", result.due_at + timedelta(minutes=1))],
        now=result.due_at + H,
    )
    assert late.results[0].status is SlaStatus.BREACHED
    assert late.results[0].business_elapsed == timedelta(hours=1, minutes=1)


def test_calendar_clock_counts_real_hours_across_dst() -> None:
    # 24 hours of clock time from Saturday 09:00 before spring forward end on Sunday at 10:00
    # local time: the night was an hour short.
    start = datetime(2026, 3, 7, 9, 0, tzinfo=NY)
    result = day_rule().evaluate([handoff(at=start)], [], now=start).results[0]
    assert result.due_at == datetime(2026, 3, 8, 10, 0, tzinfo=NY)
    # (Subtracting two datetimes of the same zone gives wall-clock time: compare in UTC.)
    assert result.due_at.astimezone(UTC) - start == timedelta(hours=24)


def test_results_sequence() -> None:
    report = day_rule().evaluate([handoff("a"), handoff("b")], [], now=T0)
    results = report.results
    assert len(results) == 2
    assert results[-1].handoff.lead_id == "b"
    assert [r.handoff.lead_id for r in results[0:2]] == ["a", "b"]
    assert results == list(results)
    assert results != "ab"
    assert repr(results) == "<2 response results>"


# --- the repeated hour ---------------------------------------------------------------------
# On 2026-11-01 New York's clocks go back from 02:00 EDT to 01:00 EST: 01:00-02:00 happens
# twice. Python compares two times of one zone object by wall clock, ignoring ``fold``.


def test_fall_back_hour_a_touch_after_the_notification_counts() -> None:
    notified = datetime(2026, 11, 1, 1, 20, tzinfo=NY)  # 05:20 UTC, the first 01:20
    answered = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NY)  # 06:10 UTC, the second 01:10
    report = ResponseRule(within="1h", clock="calendar").evaluate(
        [handoff(at=notified)], [touch("L1", answered)], now=notified + 5 * H
    )
    result = report.results[0]
    assert (result.status, result.first_touch_at) == (SlaStatus.MET, answered)
    assert result.elapsed == timedelta(minutes=50)


def test_fall_back_hour_the_earliest_instant_is_the_first_touch() -> None:
    notified = datetime(2026, 11, 1, 1, 0, tzinfo=NY)  # 05:00 UTC
    first = datetime(2026, 11, 1, 1, 40, tzinfo=NY)  # 05:40 UTC
    later = datetime(2026, 11, 1, 1, 5, fold=1, tzinfo=NY)  # 06:05 UTC, earlier on the wall
    for touches in ([first, later], [later, first]):
        report = ResponseRule(within="1h", clock="calendar").evaluate(
            [handoff(at=notified), handoff("L2", at=notified)],
            [touch("L1", at) for at in touches] + [touch("L2", at) for at in touches],
            now=notified + 5 * H,
            # L2 takes the general path (a stage change), L1 the common one.
            stage_changes=[StageChange(lead_id="L2", to_stage="sal", at=notified + 4 * H)],
        )
        for result in report.results:
            assert (result.status, result.first_touch_at) == (SlaStatus.MET, first)
            assert result.elapsed == timedelta(minutes=40)
