"""The response engine against a plain reference: one hand-off at a time, scalar calendar calls.

The engine takes a column-at-a-time path for most hand-offs and a general path for leads with
several hand-offs, stage changes or reassignments. Both must give what the rules say, written
here as directly as possible, on random small data sets.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from slacore import Handoff, OwnerChange, Rep, StageChange, Touch
from slacore.calendar.business import BusinessCalendar
from slacore.model import STANDARD_LADDER, Team
from slacore.rules.cadence import CadenceRule
from slacore.rules.eligibility import hand_raisers, source
from slacore.rules.response import NEVER, Clock, Never, ResponseRule, SlaStatus

NY = ZoneInfo("America/New_York")
# Two weeks around each change of clocks in New York: March 8 and November 1, 2026.
SPRING = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
AUTUMN = datetime(2026, 10, 26, 0, 0, tzinfo=UTC)
CALENDAR = BusinessCalendar(
    timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays="US"
)
RULES = [
    ResponseRule(within="1h", calendar=CALENDAR, applies_to=hand_raisers() & ~source("webinar")),
    ResponseRule(within="4h", clock="calendar", counts=("call",), calendar=CALENDAR),
    ResponseRule(within="2h", calendar=CALENDAR, on_reassign="restart", at_risk_at=0.5),
    # Plain time without a calendar: the engine measures with datetimes, not microseconds.
    ResponseRule(within="90m", clock="calendar", on_reassign="restart", at_risk_at=0.5),
]
LEADS = ["L1", "L2", "L3", "L4"]

minutes = st.builds(
    lambda base, m: base + timedelta(minutes=m),
    st.sampled_from([SPRING, AUTUMN]),
    # Mostly around the change of clocks, where the fall-back hour repeats.
    st.one_of(st.integers(0, 14 * 24 * 60), st.integers(8 * 24 * 60 + 270, 8 * 24 * 60 + 390)),
)
zoned = st.builds(lambda at, ny: at.astimezone(NY) if ny else at, minutes, st.booleans())
handoffs = st.builds(
    Handoff,
    lead_id=st.sampled_from(LEADS),
    notified_at=zoned,
    stage=st.sampled_from(["mql", "sql"]),
    owner_id=st.sampled_from(["R1", "R2", None]),
    source=st.sampled_from(["web", "webinar", None]),
    hand_raiser=st.booleans(),
)
touches = st.builds(
    Touch,
    lead_id=st.sampled_from(LEADS),
    rep_id=st.sampled_from(["R1", "R2"]),
    at=zoned,
    channel=st.sampled_from(["call", "email", "other"]),
)
changes = st.builds(
    StageChange,
    lead_id=st.sampled_from(LEADS),
    to_stage=st.sampled_from(["disqualified", "sal", "lead"]),
    at=zoned,
)
reassignments = st.builds(
    OwnerChange, lead_id=st.sampled_from(LEADS), owner_id=st.sampled_from(["R3", "R4"]), at=zoned
)


def u(at: datetime) -> datetime:
    """The instant: two times of one zone object compare by wall clock, wrongly in the
    repeated hour, so the reference compares and subtracts in UTC only."""
    return at.astimezone(UTC)


def _due(rule: ResponseRule, start: datetime) -> datetime:
    if rule.clock is Clock.BUSINESS:
        return CALENDAR.add(start, rule.within)
    return u(start) + rule.within


def _on_clock(rule: ResponseRule | CadenceRule, start: datetime, end: datetime) -> timedelta:
    if rule.clock is Clock.BUSINESS:
        return CALENDAR.elapsed(start, end)
    return max(u(end) - u(start), timedelta(0))


def _withdraws(handoff: Handoff, stage: str, rule: ResponseRule | CadenceRule) -> bool:
    if stage in rule.withdraw_on:
        return True
    return stage in STANDARD_LADDER and STANDARD_LADDER.is_before(stage, handoff.stage)


@dataclass(frozen=True)
class Case:
    """A small data set and the moment to evaluate it at."""

    items: list[Handoff]
    touched: list[Touch]
    changed: list[StageChange]
    moved: list[OwnerChange]
    now: datetime
    teams: bool


cases = st.builds(
    Case,
    items=st.lists(handoffs, max_size=6),
    touched=st.lists(touches, max_size=12),
    changed=st.lists(changes, max_size=3),
    moved=st.lists(reassignments, max_size=3),
    now=zoned,
    teams=st.booleans(),
)
# With teams: R2 is a marketing rep, whose touches do not count for sales.
REPS = [Rep(id="R1", name="Ann", team="sales"), Rep(id="R2", name="Bo", team="marketing")]


def evaluate(rule: ResponseRule | CadenceRule, case: Case) -> tuple[Any, dict[str, Team] | None]:
    """The rule's report on ``case``, and the teams by rep id it was given (if any)."""
    report = rule.evaluate(
        case.items,
        case.touched,
        now=case.now,
        stage_changes=case.changed,
        owner_changes=case.moved,
        reps=REPS if case.teams else None,
    )
    return report, ({rep.id: rep.team for rep in REPS} if case.teams else None)


def same_instants(values: tuple[object, ...]) -> tuple[object, ...]:
    """Times as UTC instants, so that equal instants compare equal.

    Python never finds two aware times of different zones equal when either falls in a
    repeated hour (PEP 495), even when they are the same instant: the engine answers in the
    hand-off's zone, the reference in UTC.
    """
    return tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in values)


def covered(
    rule: ResponseRule | CadenceRule, case: Case, report: Any
) -> Iterator[tuple[Handoff, Any]]:
    """The hand-offs the rule covers, with their results; the others must be not applicable."""
    assert len(report.results) == len(case.items)
    for handoff, result in zip(case.items, report.results, strict=True):
        if rule.applies_to.matches(handoff):
            yield handoff, result
        else:
            assert result.status is SlaStatus.NOT_APPLICABLE


def reference(
    rule: ResponseRule, handoff: Handoff, case: Case, team_of: dict[str, Team] | None
) -> tuple[object, ...]:
    """status, due, first touch, withdrawn, owner, elapsed, business elapsed of one hand-off."""
    all_touches, all_changes, all_owners, now = case.touched, case.changed, case.moved, case.now
    lead = handoff.lead_id
    counted = sorted(
        (
            t.at
            for t in all_touches
            if t.lead_id == lead
            and t.channel in rule.counts
            and u(handoff.notified_at) <= u(t.at) <= u(now)
            and (team_of is None or team_of.get(t.rep_id, handoff.to_team) == handoff.to_team)
        ),
        key=u,
    )
    stopped = counted[0] if counted else None
    reassigned = sorted((c for c in all_owners if c.lead_id == lead and u(c.at) <= u(now)), key=_at)
    mine = sorted((c for c in all_changes if c.lead_id == lead and u(c.at) <= u(now)), key=_at)
    leaving = next(
        (
            c.at
            for c in mine
            if u(c.at) > u(handoff.notified_at) and _withdraws(handoff, c.to_stage, rule)
        ),
        None,
    )
    start = handoff.notified_at
    due = _due(rule, start)
    if rule.on_reassign == "restart":
        # Reassignments restart the clock until it stops: a touch, the due time, or the
        # lead leaving sales.
        for change in reassigned:
            if u(change.at) <= u(handoff.notified_at):
                continue
            if (
                u(change.at) >= due
                or (stopped is not None and u(change.at) >= u(stopped))
                or (leaving is not None and u(change.at) >= u(leaving))
            ):
                break
            start, due = change.at, _due(rule, change.at)
    withdrawn = leaving if leaving is not None and u(leaving) < due else None
    if stopped is not None and (withdrawn is None or u(stopped) <= u(withdrawn)):
        status = SlaStatus.MET if u(stopped) <= due else SlaStatus.BREACHED
        end, blame, withdrawn = stopped, stopped if status is SlaStatus.MET else due, None
    elif withdrawn is not None:
        status, end, blame, stopped = SlaStatus.WITHDRAWN, withdrawn, withdrawn, None
    elif u(now) >= due:
        status, end, blame = SlaStatus.BREACHED, now, due
    else:
        spent = _on_clock(rule, start, now) / timedelta(microseconds=1)
        late = spent >= rule.within / timedelta(microseconds=1) * rule.at_risk_at
        status = SlaStatus.AT_RISK if late else SlaStatus.PENDING
        end, blame = now, now
    owner = handoff.owner_id
    for change in reassigned:
        if u(change.at) <= u(blame):
            owner = change.owner_id
    return (
        status,
        due,
        stopped,
        withdrawn,
        owner,
        max(u(end) - u(start), timedelta(0)),
        None if rule.calendar is None else CALENDAR.elapsed(start, end),
    )


def _at(record: StageChange | OwnerChange) -> datetime:
    return u(record.at)


def _nearest_rank(
    values: list[timedelta], share: Fraction, never: int = 0
) -> timedelta | Never | None:
    """Nearest rank over the times and ``never`` leads never contacted, slower than any."""
    ranked: list[timedelta | Never] = [*sorted(values), *[NEVER] * never]
    if not ranked:
        return None
    return ranked[max(1, math.ceil(share * len(ranked))) - 1]


def _buckets(values: list[timedelta], *, never: int, clock: Clock) -> dict[str, int]:
    limits = [timedelta(minutes=5), timedelta(hours=1), timedelta(hours=24)]
    if clock is Clock.BUSINESS:
        names = ["within 5 business minutes", "within 1 business hour", "within 24 business hours"]
        over = "over 24 business hours"
    else:
        names = ["within 5 minutes (clock)", "within 1 hour (clock)", "within 24 hours (clock)"]
        over = "over 24 hours (clock)"
    counts = dict.fromkeys([*names, over], 0)
    for value in values:
        counts[next((n for n, top in zip(names, limits, strict=True) if value <= top), over)] += 1
    return {**counts, "never": never}


@settings(max_examples=300, deadline=None)
@given(rule=st.sampled_from(RULES), case=cases)
def test_engine_equals_reference(rule: ResponseRule, case: Case) -> None:
    report, team_of = evaluate(rule, case)
    items = case.items
    times: list[timedelta] = []
    counts = dict.fromkeys(SlaStatus, 0)
    groups: dict[tuple[str, str], list[timedelta]] = defaultdict(list)
    sizes: Counter[tuple[str, str]] = Counter()
    nevers: Counter[tuple[str, str]] = Counter()
    for handoff, result in covered(rule, case, report):
        expected = reference(rule, handoff, case, team_of)
        got = (
            result.status,
            result.due_at,
            result.first_touch_at,
            result.withdrawn_at,
            result.owner_id,
            result.elapsed,
            result.business_elapsed,
        )
        assert same_instants(got) == same_instants(expected), handoff
        counts[result.status] += 1
        rep, origin = result.owner_id or "(unassigned)", handoff.source or "(none)"
        sizes["rep", rep] += 1
        sizes["source", origin] += 1
        if result.status is SlaStatus.BREACHED and result.first_touch_at is None:
            nevers["rep", rep] += 1
            nevers["source", origin] += 1
        if result.first_touch_at is not None:
            spent = result.business_elapsed if rule.clock is Clock.BUSINESS else result.elapsed
            assert spent is not None
            times.append(spent)
            groups["rep", rep].append(spent)
            groups["source", origin].append(spent)
    summary = report.summary
    assert (summary.met, summary.breached, summary.pending, summary.at_risk) == (
        counts[SlaStatus.MET],
        counts[SlaStatus.BREACHED],
        counts[SlaStatus.PENDING],
        counts[SlaStatus.AT_RISK],
    )
    assert summary.withdrawn == counts[SlaStatus.WITHDRAWN]
    never = sum(
        1
        for handoff, result in zip(items, report.results, strict=True)
        if result.status is SlaStatus.BREACHED and result.first_touch_at is None
    )
    assert summary.p50 == _nearest_rank(times, Fraction(1, 2), never)
    assert summary.p90 == _nearest_rank(times, Fraction(9, 10), never)
    assert summary.buckets == _buckets(times, never=never, clock=rule.clock)
    for (kind, name), size in sizes.items():
        group = (report.by_rep if kind == "rep" else report.by_source)[name]
        assert group.eligible == size
        assert group.p50 == _nearest_rank(groups[kind, name], Fraction(1, 2), nevers[kind, name])
        assert group.p90 == _nearest_rank(groups[kind, name], Fraction(9, 10), nevers[kind, name])
    assert len(report.by_rep) == len([k for k in sizes if k[0] == "rep"])
    assert len(report.by_source) == len([k for k in sizes if k[0] == "source"])


CADENCES = [
    CadenceRule(min_touches=2, within="2d", channels=("call", "email")),
    CadenceRule(min_touches=1, within="8h", clock="business", calendar=CALENDAR, at_risk_at=0.5),
    CadenceRule(min_touches=3, within="14d", applies_to=hand_raisers()),
]


def cadence_reference(
    rule: CadenceRule, handoff: Handoff, case: Case, team_of: dict[str, Team] | None
) -> tuple[object, ...]:
    """status, window end, touches, met at, withdrawn, owner of one hand-off."""
    all_touches, all_changes, all_owners, now = case.touched, case.changed, case.moved, case.now
    lead, start = handoff.lead_id, handoff.notified_at
    end = (
        CALENDAR.add(start, rule.within) if rule.clock is Clock.BUSINESS else u(start) + rule.within
    )
    counted = sorted(
        (
            t.at
            for t in all_touches
            if t.lead_id == lead
            and t.channel in rule.channels
            and u(start) <= u(t.at) <= u(end)
            and u(t.at) <= u(now)
            and (team_of is None or team_of.get(t.rep_id, handoff.to_team) == handoff.to_team)
        ),
        key=u,
    )
    met_at = counted[rule.min_touches - 1] if len(counted) >= rule.min_touches else None
    mine = sorted((c for c in all_changes if c.lead_id == lead and u(c.at) <= u(now)), key=_at)
    withdrawn = next(
        (c.at for c in mine if u(c.at) > u(start) and _withdraws(handoff, c.to_stage, rule)),
        None,
    )
    if withdrawn is not None and (
        u(withdrawn) >= u(end) or (met_at is not None and u(met_at) <= u(withdrawn))
    ):
        withdrawn = None
    if met_at is not None and withdrawn is None:
        status, blame = SlaStatus.MET, met_at
    elif withdrawn is not None:
        status, blame = SlaStatus.WITHDRAWN, withdrawn
    elif u(now) >= u(end):
        status, blame = SlaStatus.BREACHED, end
    else:
        spent = _on_clock(rule, start, now)
        late = spent * rule.at_risk_at.denominator >= rule.within * rule.at_risk_at.numerator
        status, blame = (SlaStatus.AT_RISK if late else SlaStatus.PENDING), now
    owner = handoff.owner_id
    for change in sorted(
        (c for c in all_owners if c.lead_id == lead and u(c.at) <= u(now)), key=_at
    ):
        if u(change.at) <= u(blame):
            owner = change.owner_id
    return status, end, len(counted), met_at if status is SlaStatus.MET else None, withdrawn, owner


@settings(max_examples=300, deadline=None)
@given(rule=st.sampled_from(CADENCES), case=cases)
# A window that ends in New York's repeated hour (01:00 EDT on 2026-11-01): the engine
# answers in the hand-off's zone, the reference in UTC, the same instant.
@example(
    rule=CADENCES[0],
    case=Case(
        items=[
            Handoff(
                lead_id="L1",
                notified_at=datetime(2026, 10, 30, 1, 0, tzinfo=NY),
                stage="mql",
                owner_id="R1",
                source="web",
            )
        ],
        touched=[],
        changed=[],
        moved=[],
        now=datetime(2026, 10, 30, 5, 0, tzinfo=UTC),
        teams=False,
    ),
)
def test_cadence_equals_reference(rule: CadenceRule, case: Case) -> None:
    report, team_of = evaluate(rule, case)
    counts: Counter[SlaStatus] = Counter()
    per_rep: defaultdict[str, Counter[SlaStatus]] = defaultdict(Counter)
    for handoff, result in covered(rule, case, report):
        expected = cadence_reference(rule, handoff, case, team_of)
        got = (
            result.status,
            result.window_end,
            result.touches,
            result.met_at,
            result.withdrawn_at,
            result.owner_id,
        )
        assert same_instants(got) == same_instants(expected), handoff
        counts[result.status] += 1
        per_rep[result.owner_id or "(unassigned)"][result.status] += 1
    summary = report.summary
    assert (summary.met, summary.breached, summary.pending, summary.at_risk) == (
        counts[SlaStatus.MET],
        counts[SlaStatus.BREACHED],
        counts[SlaStatus.PENDING],
        counts[SlaStatus.AT_RISK],
    )
    assert (summary.withdrawn, summary.eligible) == (
        counts[SlaStatus.WITHDRAWN],
        sum(counts.values()),
    )
    assert {rep: s.eligible for rep, s in report.by_rep.items()} == {
        rep: sum(c.values()) for rep, c in per_rep.items()
    }
    assert {rep: s.met for rep, s in report.by_rep.items()} == {
        rep: c[SlaStatus.MET] for rep, c in per_rep.items()
    }
