"""Each rule's results, summaries and the dashboard explain themselves in words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slacore import BusinessCalendar, CadenceRule, Handoff, ResponseRule, Touch, dont_be_on_it

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 6, 1, 9, tzinfo=NY)
CAL = BusinessCalendar(timezone="America/New_York", hours={"mon-fri": "09:00-17:00"}, holidays=None)
HANDOFFS = [
    Handoff(lead_id="L1", notified_at=AT, stage="mql", owner_id="R1"),
    Handoff(lead_id="L2", notified_at=AT, stage="mql", owner_id="R2"),
]
TOUCHES = [Touch(lead_id="L1", rep_id="R1", at=AT + timedelta(minutes=5), channel="call")]
NOW = AT + timedelta(days=2)


def test_a_response_result_says_what_decided_it() -> None:
    report = ResponseRule(within="1h", calendar=CAL).evaluate(HANDOFFS, TOUCHES, now=NOW)
    met, breached = report.results
    assert met.explain() == (
        "Lead L1: met (started 2026-06-01 09:00-04:00; due 2026-06-01 10:00-04:00; "
        "first touch 2026-06-01 09:05-04:00; elapsed 5m; rep R1)."
    )
    assert breached.explain() == (
        "Lead L2: breached (started 2026-06-01 09:00-04:00; due 2026-06-01 10:00-04:00; "
        "elapsed 16h; rep R2)."
    )
    assert "| first touch | 2026-06-01T09:05:00-04:00 |" in met.to_markdown()
    assert report.summary.explain() == (
        "2 eligible hand-offs, 1 met, 1 breached, 0 pending (0 at risk), 0 withdrawn; 50% met. "
        "Median response 5m, 90th percentile never (1 of 2 never contacted, counted as slowest)."
    )
    assert report.explain().endswith(report.summary.explain())
    assert "| never | 1 |" in report.summary.to_markdown()


def test_a_cadence_result_and_summary_say_where_they_stand() -> None:
    report = CadenceRule(min_touches=2, within="14d").evaluate(HANDOFFS, TOUCHES, now=NOW)
    assert report.results[0].explain() == (
        "Lead L1: pending (touches 1; window ends 2026-06-15 09:00-04:00; rep R1)."
    )
    assert report.summary.explain() == (
        "2 eligible hand-offs, 0 met, 0 breached, 2 with the window open (0 at risk), 0 withdrawn."
    )
    assert "| 2 | 0 | 0 | 2 | 0 | 0 |" in report.summary.to_markdown()


def test_the_dashboard_names_the_worst_rep() -> None:
    response = ResponseRule(within="1h", calendar=CAL).evaluate(HANDOFFS, TOUCHES, now=NOW)
    board = dont_be_on_it(response)
    assert board.explain().startswith("1 rep is on the dashboard (")
    assert board.explain().endswith("R2 is worst with 1 violation.")
    touched = ResponseRule(within="1h", calendar=CAL).evaluate(HANDOFFS[:1], TOUCHES, now=NOW)
    assert dont_be_on_it(touched).explain().startswith("Nobody is on the dashboard")
