"""The agreement: loading, validation with key paths and lines, the core objects, the document."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slacore import (
    Agreement,
    AgreementError,
    Handoff,
    PlanError,
    SlaStatus,
    Team,
    Touch,
)
from slacore._toml_lines import scan, split_key
from slacore.agreement import CommitmentKind, LeadFilter, key_path
from slacore.rules.response import Clock

ROOT = Path(__file__).resolve().parents[3]
COMPANY_A = ROOT / "examples" / "company_a.toml"
HUBSPOT = ROOT / "examples" / "hubspot.toml"
KINDS = Path(__file__).resolve().parents[2] / "data" / "agreements" / "kinds.toml"
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def company_a() -> Agreement:
    return Agreement.load(COMPANY_A)


@pytest.fixture(scope="module")
def hubspot() -> Agreement:
    return Agreement.load(HUBSPOT)


# --- the examples reproduce the seeds ------------------------------------------------------------


def test_company_a_goals_match_seed_000(company_a: Agreement) -> None:
    goals = company_a.goals
    assert goals is not None
    assert goals.annual_revenue == Decimal(15_000_000)
    assert goals.run_rate().per_period == Decimal("1250000.00")
    current = goals.current_run_rate()
    assert current is not None
    assert current.per_period == Decimal("833333.33")
    assert (goals.year, goals.target_month) == (2020, 6)
    plan = goals.plan()
    assert plan.total == Decimal("15000000.00")
    assert plan.required_per_month == Decimal("1398809.53")
    assert goals.monthly_target(7) == Decimal("1398809.53")
    assert goals.monthly_target(1) == Decimal("902777.78")


def test_company_a_marketing_matches_seed_000(company_a: Agreement) -> None:
    value = company_a.marketing.lead_value
    assert value is not None
    assert value.amount == Decimal(550_000)
    assert dict(value.values) == {
        "referral": Decimal(5000),
        "content": Decimal(1000),
        "webinar": Decimal(2000),
        "web sales-ready": Decimal(4000),
    }
    sample = value.sample_period()
    assert sample is not None
    assert sample.total == Decimal(550_000)
    assert sample.meets_quota
    assert company_a.lead_values is value.values
    assert company_a.marketing.leads is None
    assert company_a.marketing.pacing.tolerance == Fraction(1, 10)


def test_company_a_sales_matches_seed_000(company_a: Agreement) -> None:
    (rule,) = company_a.response_rules
    assert rule.within == timedelta(hours=1)
    assert rule.clock is Clock.BUSINESS
    assert rule.calendar is company_a.calendar
    close, cycle = company_a.milestone_goals
    assert close.target_on(date(2020, 6, 30)) == Decimal("0.35")
    assert close.final_target == Decimal("0.5")
    assert cycle.target_on(date(2020, 7, 1)) == 40
    assert cycle.final_target == 35
    assert len(company_a.sales.process) == 2
    assert company_a.cadence_rules == ()


def test_the_calendar_has_the_holidays_the_file_names(company_a: Agreement, tmp_path: Path) -> None:
    # Company A names its country; a calendar that names none closes on no public holiday.
    assert company_a.calendar is not None
    assert company_a.calendar.holidays == ("US",)
    assert not company_a.calendar.is_open(datetime(2026, 7, 3, 12, tzinfo=NY))  # observed
    india = tmp_path / "india.toml"
    india.write_text(
        '[agreement]\ncompany = "Bangalore Co"\nversion = "1"\neffective = "2026-01-01"\n'
        '[calendar]\ntimezone = "Asia/Kolkata"\nhours = { mon-fri = "10:00-18:00" }\n'
        '[marketing.leads]\ncount = 100\n[sales.response]\nwithin = "1h"\n',
        encoding="utf-8",
    )
    calendar = Agreement.load(india).calendar
    assert calendar is not None
    assert calendar.holidays == ()
    assert calendar.is_open(datetime(2026, 7, 3, 12, tzinfo=ZoneInfo("Asia/Kolkata")))
    assert calendar.describe() == "Mon-Fri 10:00-18:00, Asia/Kolkata, no public holidays"


def test_company_a_other_sections(company_a: Agreement) -> None:
    assert company_a.ladder.keys == (
        "subscriber",
        "lead",
        "mql",
        "sal",
        "sql",
        "opportunity",
        "customer",
    )
    assert company_a.handoff is not None
    assert company_a.handoff.stage == "mql"
    communication = company_a.communication
    assert communication is not None
    assert communication.feedback_within == timedelta(hours=24)
    weekly, monthly = communication.meetings
    assert (weekly.every.value, weekly.length) == ("week", timedelta(minutes=30))
    assert (monthly.every.value, monthly.length) == ("month", timedelta(hours=1))
    assert company_a.conflict is not None
    assert company_a.conflict.time_per_side == timedelta(minutes=15)
    assert len(company_a.conflict.panel) == 3
    assert "Chief Revenue Officer" in company_a.conflict.arbiter
    assert company_a.rewards is not None
    assert company_a.rewards.pool == Decimal(5000)
    assert "Mexico" in company_a.rewards.annual
    assert [(r.after.days, r.periods, len(r.actions)) for r in company_a.ramifications] == [
        (30, 1, 4),
        (60, 2, 5),
        (90, 3, 5),
    ]
    assert company_a.review is not None
    assert company_a.review.every.value == "quarter"
    assert [t.key for t in company_a.review.triggers] == ["lead->mql", "mql->sql"]
    assert company_a.termination is not None
    assert company_a.termination.unmet_periods == 3
    assert company_a.termination.approval_withdrawn
    assert len(company_a.signatories) == 5
    assert company_a.party(Team.SALES).leader == "the Chief Sales Officer"
    assert company_a.source == str(COMPANY_A)


def handoff(lead: str, at: datetime, **kwargs: object) -> Handoff:
    return Handoff(lead_id=lead, notified_at=at, stage="mql", owner_id="rep-1", **kwargs)  # type: ignore[arg-type]


def test_company_a_response_rule_covers_hand_raisers_only(company_a: Agreement) -> None:
    (rule,) = company_a.response_rules
    friday_evening = datetime(2020, 7, 10, 18, 30, tzinfo=NY)
    handoffs = [
        handoff("demo", friday_evening, hand_raiser=True, source="web sales-ready"),
        handoff("webinar", friday_evening, hand_raiser=True, source="webinar"),
        handoff("ebook", friday_evening, source="content"),
        Handoff(lead_id="early", notified_at=friday_evening, stage="lead", hand_raiser=True),
    ]
    touches = [
        Touch(
            lead_id="demo",
            rep_id="rep-1",
            at=datetime(2020, 7, 13, 9, 45, tzinfo=NY),
            channel="call",
        )
    ]
    report = rule.evaluate(handoffs, touches, now=datetime(2020, 7, 14, tzinfo=NY))
    statuses = [r.status for r in report.results]
    assert statuses == [SlaStatus.MET] + [SlaStatus.NOT_APPLICABLE] * 3
    # After hours on a Friday: due in the first business hour of Monday.
    assert report.results[0].due_at == datetime(2020, 7, 13, 10, 0, tzinfo=NY)


def test_hubspot_matches_seed_001(hubspot: Agreement) -> None:
    leads = hubspot.marketing.leads
    assert leads is not None
    assert leads.count == 1000
    assert leads.capacity == 1000
    assert leads.per_rep is not None
    assert [s.needed for s in leads.per_rep.stages] == [100, 50, 30, 15, 5]
    assert leads.funnel is not None
    assert leads.funnel.leads_needed == 1000
    assert leads.funnel.capacity is not None
    assert leads.funnel.capacity.reps == 10
    value = hubspot.marketing.lead_value
    assert value is not None
    assert value.amount == Decimal(300_000)
    assert value.basis == "segment"
    assert dict(value.values) == {
        "demo request": Decimal("3000.00"),
        "ebook download": Decimal("1000.00"),
    }
    assert value.values.mix_for_quota(300_000, shares="demo request").count == 100
    (response,) = hubspot.response_rules
    assert (response.within, response.clock) == (timedelta(hours=24), Clock.CALENDAR)
    (cadence,) = hubspot.cadence_rules
    assert (cadence.min_touches, cadence.within) == (5, timedelta(days=14))
    assert [c.value for c in cadence.channels] == ["call"]
    assert hubspot.goals is None
    assert hubspot.personas[0].key == "mid-market-vp"


def test_other_commitment_kinds_of_seed_003() -> None:
    agreement = Agreement.load(KINDS)
    content, campaigns, reporting, training = agreement.commitments
    assert content.kind is CommitmentKind.CONTENT
    assert content.describe() == (
        "Marketing will deliver 4 blog posts, 2 white papers and 1 case study each month; "
        "sales will use them in sales pitches and follow-up emails."
    )
    assert campaigns.describe() == (
        "Marketing will launch 3 campaigns each quarter; sales will follow up the leads they "
        "generate within 48 hours."
    )
    assert reporting.per.value == "week"
    assert reporting.within == timedelta(days=7)
    assert training.other_team is Team.SALES
    assert "## Other commitments" in agreement.to_markdown()
    assert "; 4 other commitments; 0 signatories" in agreement.describe()


def test_describe_and_summary(company_a: Agreement, hubspot: Agreement) -> None:
    assert company_a.describe() == (
        "Company A agreement, version 1.0, effective 2020-01-01: marketing delivers $550,000 of "
        "lead value a month; sales responds within 1 business hour and commits to 2 milestone "
        "goals; 3 ramification rungs; reviewed every quarter; 5 signatories"
    )
    assert "calls each lead 5 times within 14 days" in hubspot.describe()
    summary = hubspot.summary()
    assert summary["marketing"]["leads"] == 1000
    assert summary["marketing"]["lead_value"] == "300000"
    assert summary["goals"] is None
    assert company_a.summary()["goals"]["monthly_run_rate"] == "1250000.00"


# --- the document --------------------------------------------------------------------------------


def test_committed_rendering_is_fresh(company_a: Agreement) -> None:
    committed = (ROOT / "docs" / "examples" / "company_a.md").read_text(encoding="utf-8")
    assert committed == company_a.to_markdown(), (
        "run: slacore render examples/company_a.toml --output docs/examples/company_a.md"
    )


def test_markdown_sentences_are_built_from_the_figures(company_a: Agreement) -> None:
    text = company_a.to_markdown()
    assert (
        "Marketing will deliver $550,000 of lead value each month: referral leads $5,000 each, "
        "content leads $1,000 each, webinar leads $2,000 each and web sales-ready leads $4,000 "
        "each." in text
    )
    assert (
        "Sales will contact every lead that requests follow-up, except webinar leads and leads "
        "at the Subscriber or Lead stage, within 1 business hour of the rep being notified." in text
    )
    assert "Sales will raise the close rate on proposals from 25% to 35% by June 30, 2020" in text
    assert "Sales will cut the sales cycle from 45 days to 40 days by June 30, 2020" in text
    assert "a pool of $5,000 each month" in text
    assert "### Shared goals not met after 90 days" in text
    assert "| Name | Title | Team | Signature | Date |" in text
    assert text.rstrip().endswith("Version 1.0, January 1, 2020.")


def test_hubspot_document(hubspot: Agreement) -> None:
    text = hubspot.to_markdown()
    assert "Marketing will deliver 1,000 qualified leads each month." in text
    assert "100 leads -> 50 connects -> 30 discovery calls -> 15 demos -> 5 customers" in text
    assert "Marketing will deliver $300,000 of lead value each month" in text
    assert "Sales will contact every lead handed to sales within 24 hours" in text
    assert "Sales will call every lead handed to sales at least 5 times within 14 days" in text


def test_html_is_self_contained_and_escaped(company_a: Agreement, tmp_path: Path) -> None:
    page = company_a.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    assert "@media print" in page
    assert "src=" not in page
    assert "<link" not in page
    assert "<h1>Service-level agreement between marketing and sales: Company A</h1>" in page
    assert '<td class="num">$550,000</td>' in page
    source = COMPANY_A.read_text(encoding="utf-8").replace(
        'company = "Company A"', 'company = "A <&> B"'
    )
    odd = tmp_path / "odd.toml"
    odd.write_text(source, encoding="utf-8")
    assert "A &lt;&amp;&gt; B" in Agreement.load(odd).to_html()


# --- validation: every problem, with key path and line -------------------------------------------


def broken(tmp_path: Path, *edits: tuple[str, str]) -> tuple[AgreementError, list[str]]:
    """Load company_a.toml with ``edits`` applied; return the error and the edited lines."""
    text = COMPANY_A.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "agreement.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgreementError) as caught:
        Agreement.load(path)
    return caught.value, text.splitlines()


def line_of(lines: list[str], snippet: str) -> int:
    (number,) = [i for i, line in enumerate(lines, start=1) if snippet in line]
    return number


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        # a wrong type
        ('within = "1h"', "within = 1", "sales.response.within", "expected a duration like"),
        (
            "pool = 5_000",
            "pool = [5000]",
            "rewards.pool",
            "expected an amount like 5000, got an array",
        ),
        ('version = "1.0"', "version = 1.0", "agreement.version", "expected a non-empty string"),
        ("binding = true", 'binding = "yes"', "conflict.binding", "expected true or false"),
        # a bad value
        ('within = "1h"', 'within = "soon"', "sales.response.within", "got 'soon'"),
        ('every = "quarter"', 'every = "fortnight"', "review.every", "expected one of week, month"),
        (
            'timezone = "America/New_York"',
            'timezone = "Mars/Olympus"',
            "calendar.timezone",
            "IANA time zone",
        ),
        # an unknown key, with the nearest valid key suggested
        (
            'within = "1h"',
            'withn = "1h"',
            "sales.response.withn",
            'unknown key; did you mean "within"?',
        ),
        (
            'clock = "business"',
            'clock = "busines"',
            "sales.response.clock",
            'did you mean "business"?',
        ),
        ("[conflict]", "[conflicts]", "conflicts", 'unknown section; did you mean "conflict"?'),
        # an unknown stage referenced by a rule
        (
            'exclude_stages = ["subscriber", "lead"]',
            'exclude_stages = ["subscriber", "leed"]',
            "sales.response.applies_to.exclude_stages[1]",
            "unknown stage 'leed'; did you mean \"lead\"?",
        ),
        (
            'from = "lead", to = "mql"',
            'from = "lead", to = "mq1"',
            "review.triggers[0].to",
            "unknown stage 'mq1'",
        ),
        # a naive date-time, and a date-time where a date is meant
        (
            'title = "Chief Executive Officer"',
            'title = "Chief Executive Officer"\nsigned_at = 2020-01-02T10:00:00',
            "signatories[2].signed_at",
            "expected a timezone-aware date-time",
        ),
        (
            "effective = 2020-01-01",
            "effective = 2020-01-01T09:00:00",
            "agreement.effective",
            "expected a date like 2020-01-01, got a date-time",
        ),
        # a negative amount
        (
            "amount = 550_000",
            "amount = -550_000",
            "marketing.lead_value.amount",
            "must not be negative, got -550000",
        ),
        (
            "referral = 5_000",
            "referral = -5_000",
            "marketing.lead_value.values.referral",
            "must not be negative",
        ),
        # rates above 1
        (
            'target = "35%"',
            'target = "135%"',
            "sales.milestones[0].targets[0].target",
            "expected a rate between 0 and 1, got 135%",
        ),
        ('below = "10%"', "below = 1.5", "review.triggers[0].below", "got 150%"),
        (
            'loading_tolerance = "20%"',
            'loading_tolerance = "60%"',
            "marketing.pacing.loading_tolerance",
            "below 50%",
        ),
        # a milestone's measure comes from a fixed set
        (
            'measure = "close_rate"',
            'measure = "close rate"',
            "sales.milestones[0].measure",
            "expected one of close_rate, sales_cycle_days, got a string 'close rate'; "
            'did you mean "close_rate"',
        ),
        # dependent checks
        (
            "  { on = 2020-12-31, target = 35 },",
            "  { on = 2020-12-31, target = 42 },",
            "sales.milestones[1].targets[1].target",
            "moves away from 40",
        ),
        (
            'after = "60d"',
            'after = "20d"',
            "ramifications[1].after",
            "must be later than the rung before",
        ),
        (
            'run_rate_by = "2020-06"',
            'run_rate_by = "June"',
            "goals.run_rate_by",
            'expected a month like "2020-06"',
        ),
        # an amount is read by one grammar: a decimal comma is no thousands separator
        (
            "pool = 5_000",
            'pool = "12,50"',
            "rewards.pool",
            "got '12,50' (with a decimal comma it would be 12.50; amounts here take a decimal "
            "point, like 1,250,000.50)",
        ),
        ("amount = 550_000", 'amount = "1.234,56"', "marketing.lead_value.amount", "1234.56"),
        ("referral = 5_000", 'referral = "1e5"', "marketing.lead_value.values.referral", "1e5"),
        (
            'web sales-ready" = 50',
            'web sales ready" = 50',
            'marketing.lead_value.sample."web sales ready"',
            "no lead value for 'web sales ready'",
        ),
    ],
)
def test_each_bad_value_names_its_key_and_line(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    error, lines = broken(tmp_path, (old, new))
    (problem,) = [e for e in error.errors if e.field == field]
    assert message in problem.message
    assert problem.file == str(tmp_path / "agreement.toml")
    last = new.splitlines()[-1]
    assert problem.line == line_of(lines, last)
    assert str(problem) == f"{problem.file}:{problem.line}: {field}: {problem.message}"


def test_missing_sections_and_keys(tmp_path: Path) -> None:
    text = COMPANY_A.read_text(encoding="utf-8")
    start = text.index("# Sales: follow up")
    end = text.index("[communication]")
    cut = text[:start] + text[end:]
    cut = cut.replace('version = "1.0"\n', "")
    path = tmp_path / "cut.toml"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(AgreementError) as caught:
        Agreement.load(path)
    found = {e.field: e.message for e in caught.value.errors}
    assert found["sales"] == "missing section [sales]: what sales commits to"
    assert found["agreement.version"] == "missing; expected a string"
    assert [e.line for e in caught.value.errors if e.field == "agreement.version"] == [12]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    error, _ = broken(
        tmp_path,
        ('within = "1h"', 'within = "soon"'),
        ("amount = 550_000", "amount = -1"),
        ('every = "quarter"', 'every = "sometimes"'),
        (
            '[[signatories]]\ntitle = "Chief Sales Officer"',
            '[[signatories]]\ntitel = "Chief Sales Officer"',
        ),
    )
    fields = [e.field for e in error.errors]
    assert fields == [
        "marketing.lead_value.amount",
        "sales.response.within",
        "review.every",
        "signatories[1].title",
        "signatories[1].titel",
    ]
    assert [e.line for e in error.errors] == sorted(e.line or 0 for e in error.errors)
    assert error.message.endswith("5 problems in the agreement")
    assert str(error).splitlines()[1:] == [str(e) for e in error.errors]
    assert isinstance(error, ValueError)


def test_a_calendar_without_timezone_is_a_located_problem(tmp_path: Path) -> None:
    path = tmp_path / "zoneless.toml"
    path.write_text(
        '[agreement]\ncompany = "A"\nversion = "1"\neffective = "2026-01-01"\n'
        '\n[calendar]\nhours = { mon-fri = "25:00-18:00" }\n'
        '[marketing.leads]\ncount = 100\n[sales.response]\nwithin = "1h"\n',
        encoding="utf-8",
    )
    with pytest.raises(AgreementError) as caught:
        Agreement.load(path)
    found = {e.field: e for e in caught.value.errors}
    zone = found["calendar.timezone"]
    assert zone.line == 6
    assert zone.file == str(path)
    assert zone.message.startswith("missing; ")
    assert "IANA time zone" in zone.message
    # The other keys of [calendar] are still checked, and the rules that use the calendar
    # do not report it missing.
    assert found["calendar.hours.mon-fri"].line == 7
    assert sorted(found) == ["calendar.hours.mon-fri", "calendar.timezone"]


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('[agreement]\ncompany = "A"\nversion = \n', encoding="utf-8")
    with pytest.raises(AgreementError) as caught:
        Agreement.load(path)
    (problem,) = caught.value.errors
    assert problem.line == 3
    assert problem.message.startswith("not valid TOML: ")
    assert "(at line" not in problem.message


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(AgreementError, match="cannot read the file"):
        Agreement.load(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[agreement]\ncompany = "Caf\xe9"\n')
    with pytest.raises(AgreementError) as caught:
        Agreement.load(latin)
    assert "not UTF-8" in caught.value.errors[0].message


def minimal() -> dict[str, object]:
    return {
        "agreement": {"company": "Mini", "version": "1", "effective": "2026-01-01"},
        "marketing": {"leads": {"count": 100}},
        "sales": {"response": {"within": "24h", "clock": "calendar"}},
    }


def test_from_dict_accepts_iso_strings_and_has_no_lines() -> None:
    agreement = Agreement.from_dict(minimal(), source="mini.toml")
    assert agreement.effective == date(2026, 1, 1)
    assert agreement.ladder.keys[0] == "subscriber"
    assert agreement.calendar is None
    assert "Sign-off" in agreement.to_markdown()
    data = minimal()
    data["sales"] = {"response": {"within": "24h"}}
    with pytest.raises(AgreementError) as caught:
        Agreement.from_dict(data, source="mini.toml")
    (problem,) = caught.value.errors
    assert str(problem) == (
        "mini.toml: sales.response.clock: the business clock needs a [calendar] section "
        '(or clock = "calendar")'
    )
    with pytest.raises(AgreementError, match="expected a table of sections"):
        Agreement.from_dict(["not", "a", "table"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"marketing": {}}, "marketing", "expected [marketing.lead_value] or [marketing.leads]"),
        ({"sales": {}}, "sales", "expected at least one of"),
        (
            {
                "sales": {
                    "response": [
                        {"within": "1h", "clock": "calendar"},
                        {"within": "2h", "clock": "calendar"},
                    ]
                }
            },
            "sales.response[1].name",
            "two rules are named 'response'",
        ),
        (
            {
                "marketing": {
                    "leads": {
                        "count": 900,
                        "funnel": {
                            "deals_per_rep": 5,
                            "reps": 10,
                            "leads_per_rep": 100,
                            "stages": [
                                {"name": "lead", "rate": "50%"},
                                {"name": "demo", "rate": "10%"},
                            ],
                        },
                    }
                }
            },
            "marketing.leads.count",
            "900 leads is fewer than the 1,000 the funnel needs",
        ),
        (
            {
                "marketing": {
                    "leads": {
                        "funnel": {
                            "deals_per_rep": 5,
                            "reps": 1,
                            "leads_per_rep": 1,
                            "stages": [{"name": "lead", "rate": 0}],
                        }
                    }
                }
            },
            "marketing.leads.funnel.stages[0].rate",
            "expected a rate above 0",
        ),
        (
            {
                "marketing": {
                    "lead_value": {
                        "amount": 1,
                        "values": {"demo": {"close_rate": "130%", "average_deal_value": 1}},
                    }
                }
            },
            "marketing.lead_value.values.demo.close_rate",
            "expected a rate between 0 and 1, got 130%",
        ),
        (
            {"stages": [{"key": "a", "owner": "marketing"}, {"key": "a", "owner": "sales"}]},
            "stages[1].key",
            "defined twice",
        ),
        (
            {"stages": [{"key": "a", "owner": "finance"}]},
            "stages[0].owner",
            "expected one of marketing, sales",
        ),
        (
            {
                "review": {
                    "every": "quarter",
                    "triggers": [{"from": "sql", "to": "mql", "below": 0.1}],
                }
            },
            "review.triggers[0].to",
            "does not come after",
        ),
        ({"conflict": {"binding": True}}, "conflict", "expected a panel, an arbiter, or both"),
        (
            {"commitments": [{"name": "x", "deliver": [{"count": 0, "item": "post"}]}]},
            "commitments[0].team",
            "missing",
        ),
        (
            {
                "commitments": [
                    {"name": "x", "team": "marketing", "deliver": [{"count": 0, "item": "post"}]}
                ]
            },
            "commitments[0].deliver[0].count",
            "expected a whole number >= 1, got 0",
        ),
        ({"handoff": {"stage": "nope"}}, "handoff.stage", "unknown stage 'nope'"),
        (
            {"goals": {"annual_revenue": 0, "run_rate_by": "2026-06"}},
            "goals.annual_revenue",
            "must be greater than zero",
        ),
        ({"parties": {"finance": {"name": "F"}}}, "parties.finance", "unknown key"),
        (
            {
                "agreement": {
                    "company": "Mini",
                    "version": "1",
                    "effective": "2026-01-01",
                    "expires": "2025-12-31",
                }
            },
            "agreement.expires",
            "must be after effective",
        ),
    ],
)
def test_cross_checks(change: dict[str, object], field: str, message: str) -> None:
    data = minimal() | change
    with pytest.raises(AgreementError) as caught:
        Agreement.from_dict(data)
    found = {e.field: e.message for e in caught.value.errors}
    assert field in found, found
    assert message in found[field]


def test_lead_filter_words_and_selector() -> None:
    every = LeadFilter()
    assert every.words() == "every lead handed to sales"
    picky = LeadFilter(sources=("referral", "web"), stages=("mql",), exclude_segments=("smb",))
    assert picky.words() == (
        "every lead from referral or web at the Marketing qualified lead stage, except leads "
        "in the smb segment,"
    )
    t = datetime(2026, 1, 5, 10, tzinfo=NY)
    selector = picky.eligibility()
    assert selector.matches(Handoff(lead_id="1", notified_at=t, stage="mql", source="web"))
    assert not selector.matches(
        Handoff(lead_id="2", notified_at=t, stage="mql", source="web", segment="smb")
    )
    assert not selector.matches(Handoff(lead_id="3", notified_at=t, stage="sal", source="web"))


# --- key paths and lines -------------------------------------------------------------------------


def test_key_path_formatting() -> None:
    assert key_path(("sales", "response", "within")) == "sales.response.within"
    assert key_path(("ramifications", 2, "actions", 0)) == "ramifications[2].actions[0]"
    assert key_path(("values", 'a "b"')) == 'values."a \\"b\\""'


def test_lines_of_tables_keys_and_array_elements() -> None:
    text = "\n".join(
        [
            "# comment = 1",  # 1
            "[agreement]",  # 2
            'company = "A"  # trailing',  # 3
            'notes = """',  # 4
            "[not.a.table]",  # 5
            'x = "still a string"',  # 6
            '"""',  # 7
            "[[rungs]]",  # 8
            'after = "30d"',  # 9
            "[[rungs]]",  # 10
            "actions = [",  # 11
            '  "one",',  # 12
            "  # a comment, with a comma",  # 13
            '  "two, with a comma",',  # 14
            "]",  # 15
            "[rungs.detail]",  # 16
            "a.'b.c' = 1",  # 17
            "[[rungs.extra]]",  # 18
            "k = [[1, 2], [3]]",  # 19
        ]
    )
    lines = scan(text)
    assert lines.line(("agreement", "company")) == 3
    assert lines.line(("agreement", "notes")) == 4
    assert lines.line(("not",)) is None
    assert lines.line(("agreement", "x")) == 2  # falls back to the table
    assert lines.line(("rungs", 0, "after")) == 9
    assert lines.line(("rungs", 1)) == 10
    assert lines.line(("rungs", 1, "actions", 0)) == 12
    assert lines.line(("rungs", 1, "actions", 1)) == 14
    assert lines.line(("rungs", 1, "actions", 5)) == 11
    assert lines.line(("rungs", 1, "detail", "a", "b.c")) == 17
    assert lines.line(("rungs", 1, "extra", 0, "k", 1)) == 19
    assert lines.line(("rungs",)) == 8
    assert lines.line(()) is None


def test_split_key() -> None:
    assert split_key(' a . "b.c" . d ') == ("a", "b.c", "d")
    assert split_key("'x y'") == ("x y",)
    assert split_key('"a\\"b"') == ('a"b',)
    for bad in ("", "a.", "a b", '"open', "'open", "a..b"):
        assert split_key(bad) is None


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@given(
    st.lists(
        st.tuples(NAMES, st.lists(NAMES, min_size=1, max_size=4, unique=True), st.booleans()),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_scan_finds_every_key_tomllib_reads(
    tables: list[tuple[str, list[str], bool]],
) -> None:
    """Generated files: each key's line holds that key, and tomllib agrees on the values."""
    out: list[str] = []
    expected: dict[tuple[str | int, ...], int] = {}
    counts: dict[str, int] = {}
    for name, keys, many in tables:
        index = counts.get(name, 0)
        out.append(f"[[{name}]]" if many else f"[{name}]")
        for position, key in enumerate(keys):
            out.append(f"{key} = {position}")
            path: tuple[str | int, ...] = (name, index, key) if many else (name, key)
            expected[path] = len(out)
        out.append("")
        counts[name] = index + 1
    text = "\n".join(out)
    data = tomllib.loads(text)
    lines = scan(text)
    for path, number in expected.items():
        assert lines.line(path) == number
        value: object = data
        for part in path:
            value = value[part]  # type: ignore[index]
        assert out[number - 1].endswith(f"= {value}")


def test_unknown_key_error_from_sample_uses_suggestion() -> None:
    data = minimal()
    data["marketing"] = {
        "lead_value": {"amount": 100, "values": {"demo": 10}, "sample": {"dem": 10}}
    }
    with pytest.raises(AgreementError) as caught:
        Agreement.from_dict(data)
    (problem,) = caught.value.errors
    assert problem.message == "no lead value for 'dem'; did you mean \"demo\"?"


def test_pace_through_the_agreement(company_a: Agreement, hubspot: Agreement) -> None:
    t = datetime(2020, 7, 1, 11, tzinfo=NY)
    handoffs = [
        Handoff(lead_id=str(i), notified_at=t + timedelta(days=i), stage="mql", source="referral")
        for i in range(10)
    ]
    check = company_a.pace(company_a.deliveries(handoffs), as_of="2020-07-15")
    assert check.target == Decimal(550_000)
    assert check.delivered == Decimal(50_000)
    assert check.status.value == "behind"
    assert check.capacity is None
    # A source without a lead value is delivered unvalued, and the pacing names it.
    (tv,) = company_a.deliveries([Handoff(lead_id="x", notified_at=t, stage="mql", source="tv")])
    assert (tv.value, tv.unvalued) == (Decimal(0), ("source", "tv"))
    check = company_a.pace([*company_a.deliveries(handoffs), tv], as_of="2020-07-15")
    assert check.delivered == Decimal(50_000)
    assert check.unvalued_leads == 1
    assert check.warnings[0].startswith("1 lead from source 'tv' has no lead value")
    counted = hubspot.pace([], as_of="2013-03-15", measure="leads")
    assert counted.capacity == 1000
    assert counted.target == 1000
    bare = Agreement.from_dict(minimal())
    with pytest.raises(PlanError, match="no \\[calendar\\]"):
        bare.pace([], as_of="2026-01-05")


def test_guide_toml_blocks_are_excerpts_of_the_examples() -> None:
    """The guide quotes the example files; a quote that drifts from them fails here."""
    import re

    guide = (ROOT / "docs" / "guide" / "agreement.md").read_text(encoding="utf-8")
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (COMPANY_A, HUBSPOT, KINDS))
    blocks = re.findall(r"^```toml\n(.*?)^```", guide, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 8
    for block in blocks:
        assert block in sources, block


def variant() -> dict[str, object]:
    """An agreement that takes the other branch of every choice Company A makes."""
    return {
        "agreement": {"company": "Variant", "version": "2", "effective": "2026-01-01"},
        "calendar": {"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}},
        "stages": [
            {"key": "lead", "owner": "marketing"},
            {"key": "mql", "label": "MQL", "owner": "marketing"},
            {"key": "sal", "label": "SAL", "owner": "sales"},
        ],
        "handoff": {"exit_stages": ["rejected"]},
        "goals": {
            "annual_revenue": 1_200_000,
            "current_annual_revenue": 600_000,
            "run_rate_by": "2026-02",
        },
        "marketing": {"leads": {"count": 400}},
        "sales": {
            "response": {
                "within": "8h",
                "stop_stages": ["sal", "rejected"],
                "target": "95%",
                "applies_to": {"segments": ["enterprise"], "stages": ["mql"]},
            },
            "cadence": {
                "name": "touches",
                "min_touches": 3,
                "within": "1h 30m",
                "channels": ["call", "email"],
                "clock": "business",
                "target": 0.9,
            },
            "milestones": [
                {
                    "metric": "deals per rep",
                    "baseline": 2,
                    "ramp": "linear",
                    "targets": [{"on": "2026-12-31", "target": 4}],
                },
                {
                    "metric": "win rate",
                    "unit": "x",
                    "baseline": 1,
                    "targets": [{"on": "2026-06-30", "target": 2}],
                },
            ],
        },
        "conflict": {"arbiter": "the Chief Revenue Officer"},
        "rewards": {"pool": 1000},
        "review": {"every": "month", "first": "2026-03-01"},
        "termination": {"unmet_periods": 2},
        "signatories": [
            {"title": "CRO", "name": "Ada", "signed_at": "2026-01-02"},
            {"title": "CMO", "team": "marketing", "signed_at": "2026-01-02T10:00:00+00:00"},
        ],
    }


def test_document_variants() -> None:
    agreement = Agreement.from_dict(variant())
    assert agreement.handoff is not None
    assert agreement.handoff.stage == "mql"  # the last marketing stage before sales
    text = agreement.to_markdown()
    for sentence in [
        "An agreement between Marketing and Sales of Variant.",
        "from February to December 2026, generate enough revenue above $100,000 a month to make "
        "up for the months below it from January 2026: $102,272.73 a month, if January ramps up "
        "steadily from today's run rate.",
        "Sales will move every lead in the enterprise segment at the MQL stage to SAL or "
        "rejected within 8 business hours of the rep being notified.",
        "due within the first 8 business hours of the next business day",
        "This holds for at least 95% of those leads.",
        "Sales will touch every lead handed to sales at least 3 times (by calls or emails) "
        "within 1 business hour 30 minutes of the hand-off, for at least 90% of those leads.",
        "Sales will raise the deals per rep from 2 to 4 by December 31, 2026, on a steady daily "
        "path between the dates.",
        "Sales will raise the win rate from 1 x to 2 x by June 30, 2026.",
        "The Chief Revenue Officer is the sole arbiter of any conflict.",
        "When both teams hit their goals and the company's revenue goal, both teams share a pool "
        "of $1,000 each month.",
        "The parties review it every month, the first time on March 1, 2026",
        "The agreement ends when the shared goals stay unmet for 2 months running.",
        "| Ada | CRO |  |  | 2026-01-02 |",
        "|  | CMO | Marketing |  | 2026-01-02 |",
        "A lead that moves to rejected leaves the sales clocks.",
    ]:
        assert sentence in text, sentence
    assert "calls each lead" not in agreement.describe()
    assert "touches each lead 3 times within 1 hour 30 minutes" in agreement.describe()
    with pytest.raises(PlanError, match="no lead-value quota"):
        agreement.pace([], as_of="2026-03-02", measure="value")
    assert agreement.pace([], as_of="2026-03-02").target == 400


def test_goals_without_todays_revenue() -> None:
    data = minimal() | {"goals": {"annual_revenue": 1_200_000, "run_rate_by": date(2026, 4, 1)}}
    agreement = Agreement.from_dict(data)
    assert agreement.goals is not None
    assert agreement.goals.monthly_target(2) == Decimal("100000.00")
    text = agreement.to_markdown()
    assert (
        "Mini will reach $1,200,000 in annual revenue in 2026: a run rate of $100,000 a month, "
        "reached by April 2026." in text
    )
    assert "from January to March 2026." in text
    valued = Agreement.from_dict(
        variant() | {"marketing": {"lead_value": {"amount": 1, "values": {"a": 1}}}}
    )
    with pytest.raises(PlanError, match="no lead-count quota"):
        valued.pace([], as_of="2026-03-02", measure="leads")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"sales": {"process": "call them"}},
            "sales.process",
            "expected an array of strings, got a string",
        ),
        (
            {"sales": {"process": ["call", 5]}},
            "sales.process[1]",
            "expected a string, got an integer 5",
        ),
        (
            {"sales": {"cadence": {"min_touches": "5", "within": "1d"}}},
            "sales.cadence.min_touches",
            "expected a whole number, got a string '5'",
        ),
        (
            {"sales": {"cadence": {"min_touches": 5, "within": "1d", "target": [1]}}},
            "sales.cadence.target",
            "got an array",
        ),
        (
            {"sales": {"cadence": {"min_touches": 5, "within": "1d", "target": "most"}}},
            "sales.cadence.target",
            "expected a rate like",
        ),
        (
            {"sales": {"cadence": {"min_touches": 5, "within": "1d", "channels": ["fax"]}}},
            "sales.cadence.channels[0]",
            "expected one of call, email",
        ),
        (
            {"sales": {"cadence": {"min_touches": 5, "within": "1d", "clock": 5}}},
            "sales.cadence.clock",
            "got an integer 5",
        ),
        (
            {
                "sales": {
                    "milestones": [
                        {
                            "metric": "m",
                            "baseline": 1,
                            "start": "soon",
                            "targets": [{"on": "2026-02-01", "target": 2}],
                        }
                    ]
                }
            },
            "sales.milestones[0].start",
            "expected a date like 2020-01-01, got a string 'soon'",
        ),
        (
            {
                "sales": {
                    "milestones": {
                        "metric": "m",
                        "baseline": 1,
                        "targets": [{"on": "2025-02-01", "target": 2}],
                    }
                }
            },
            "sales.milestones.targets",
            "is not after start 2026-01-01",
        ),
        (
            {"signatories": [{"title": "CEO", "signed_at": "yesterday"}]},
            "signatories[0].signed_at",
            "expected a date or a date-time",
        ),
        (
            {"signatories": [{"title": "CEO", "signed_at": 5}]},
            "signatories[0].signed_at",
            "got an integer 5",
        ),
        (
            {"signatories": [{"title": "CEO", "signed_at": "2026-01-02T10:00:00"}]},
            "signatories[0].signed_at",
            "got naive",
        ),
        ({"calendar": "weekdays"}, "calendar", "expected a table, got a string 'weekdays'"),
        (
            {"calendar": {"hours": {"mon-fri": "9-5"}}},
            "calendar.hours.mon-fri",
            "expected working hours like",
        ),
        ({"stages": "lead, mql"}, "stages", "expected a table or an array of tables"),
        ({"stages": [{"key": "a"}]}, "stages[0].owner", "missing; expected marketing or sales"),
        (
            {"review": {"every": 3}},
            "review.every",
            "expected one of week, month, quarter, year, got 3",
        ),
        (
            {"review": {"every": "month", "first": "2025-01-01"}},
            "review.first",
            "must be after the effective date",
        ),
        (
            {"marketing": {"lead_value": {"amount": 1, "values": {}}}},
            "marketing.lead_value.values",
            "at least one source",
        ),
        (
            {"marketing": {"lead_value": {"amount": 1}}},
            "marketing.lead_value.values",
            "missing section",
        ),
        ({"marketing": {"leads": {}}}, "marketing.leads.count", "or a funnel"),
        (
            {"marketing": {"leads": {"count": 0}}},
            "marketing.leads.count",
            "expected a whole number >= 1, got 0",
        ),
        (
            {
                "marketing": {
                    "leads": {"funnel": {"deals_per_rep": 1, "reps": 1, "leads_per_rep": 1}}
                }
            },
            "marketing.leads.funnel.stages",
            "missing section",
        ),
        (
            {"marketing": {"lead_value": {"amount": {"x": 1}, "values": {"a": 1}}}},
            "marketing.lead_value.amount",
            "expected an amount like 5000, got a table",
        ),
        (
            {"marketing": {"lead_value": {"amount": True, "values": {"a": 1}}}},
            "marketing.lead_value.amount",
            "got a boolean",
        ),
        ({"rewards": {"pool": "lots"}}, "rewards.pool", "expected an amount of money"),
        (
            {
                "communication": {
                    "meetings": [{"name": "m", "attendees": "all", "every": "day", "length": "1h"}]
                }
            },
            "communication.meetings[0].every",
            "expected one of week, month, quarter, year, got 'day'",
        ),
        (
            {
                "commitments": [
                    {
                        "name": "x",
                        "team": "marketing",
                        "within": "soon",
                        "deliver": [{"count": 1, "item": "post"}],
                    }
                ]
            },
            "commitments[0].within",
            "got 'soon'",
        ),
        (
            {
                "commitments": [
                    {"name": "x", "team": "marketing", "deliver": [{"count": 1, "item": "post"}]},
                    {"name": "x", "team": "sales", "deliver": [{"count": 1, "item": "call"}]},
                ]
            },
            "commitments[1].name",
            "two commitments are named 'x'",
        ),
        (
            {"ramifications": [{"after": "30d", "actions": []}]},
            "ramifications[0].actions",
            "expected at least one entry",
        ),
        (
            {"agreement": {"company": "", "version": "1", "effective": "2026-01-01"}},
            "agreement.company",
            "expected a non-empty string",
        ),
    ],
)
def test_more_bad_values(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(AgreementError) as caught:
        Agreement.from_dict(minimal() | change)
    found = {e.field: e.message for e in caught.value.errors}
    assert field in found, found
    assert message in found[field]
