"""The signed document: the agreement in plain sentences, as Markdown or one HTML page.

Private: :meth:`~slacore.agreement.Agreement.to_markdown` and
:meth:`~slacore.agreement.Agreement.to_html` call :func:`_document`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from slacore._values import format_rate
from slacore.agreement._words import (
    _ACTION_VERBS,
    _MONTHS,
    _count_of,
    _join,
    _long_date,
    _number,
    _plural,
    _sentence,
    _span_words,
    _team_name,
)
from slacore.agreement.sections import (
    Communication,
    CompanyGoals,
    ConflictResolution,
    Party,
    Rewards,
)
from slacore.agreement.terms import (
    CadenceCommitment,
    ResponseCommitment,
)
from slacore.model import StageLadder, Team
from slacore.planning.milestones import Direction, MilestoneGoal, Ramp
from slacore.render import Page, format_money
from slacore.rules.response import Clock, FirstTouch, StageReached

if TYPE_CHECKING:
    from slacore.agreement._core import Agreement


_CSS = """
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; color: #111; max-width: 46em;
  margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #888; margin-top: 1.6em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.8em 0; }
th, td { border: 1px solid #888; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.num { text-align: right; }
table.sign td { height: 2.6em; }
@page { margin: 2cm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2, h3 { break-after: avoid; }
  table, ul, p { break-inside: avoid; }
  th { background: none; }
}
""".strip()


def _figure_text(goal: MilestoneGoal, value: Decimal) -> str:
    if goal.unit == "%":
        return format_rate(Fraction(value))
    text = _number(value)
    return f"{text} {goal.unit}" if goal.unit else text


def _milestone_sentence(goal: MilestoneGoal) -> str:
    verb = "raise" if goal.direction is Direction.HIGHER else "cut"
    steps = " and ".join(
        f"to {_figure_text(goal, m.target)} by {_long_date(m.on)}" for m in goal.milestones
    )
    text = f"Sales will {verb} the {goal.metric} from {_figure_text(goal, goal.baseline)} {steps}"
    if goal.ramp is Ramp.LINEAR:
        text += ", on a steady daily path between the dates"
    return text + "."


def _response_sentences(item: ResponseCommitment, ladder: StageLadder) -> list[str]:
    rule = item.rule
    business = rule.clock is Clock.BUSINESS
    window = _span_words(rule.within, business=business)
    who = item.applies_to.words(ladder)
    stop = rule.stop_event
    if isinstance(stop, StageReached):
        targets = _join([ladder.get(k).label if k in ladder else k for k in stop.stages], "or")
        action = f"move {who} to {targets}"
    else:
        action = f"contact {who}"
    text = [f"Sales will {action} within {window} of the rep being notified."]
    if business:
        first = "business hour" if rule.within == timedelta(hours=1) else window
        text.append(
            f"A lead that comes in after hours is due within the first {first} of the next "
            "business day: the clock runs only in business hours."
        )
    else:
        text.append("The clock runs day and night, weekends included.")
    if isinstance(stop, FirstTouch):
        channels = _join([c.value for c in stop.channels], "or")
        text.append(
            f"The clock starts when the rep is notified of the lead and stops at the first "
            f"{channels}."
        )
    if rule.target is not None:
        text.append(f"This holds for at least {format_rate(rule.target)} of those leads.")
    return text


def _cadence_sentence(item: CadenceCommitment, ladder: StageLadder) -> str:
    rule = item.rule
    who = item.applies_to.words(ladder)
    if len(rule.channels) == 1 and rule.channels[0] in _ACTION_VERBS:
        verb, how = _ACTION_VERBS[rule.channels[0]], ""
    else:
        verb = "touch"
        how = f" (by {_join([_plural(2, c.value) for c in rule.channels], 'or')})"
    window = _span_words(rule.within, business=rule.clock is Clock.BUSINESS)
    text = (
        f"Sales will {verb} {who} at least {_count_of(rule.min_touches, 'time')}{how} "
        f"within {window} of the hand-off"
    )
    if rule.target is not None:
        text += f", for at least {format_rate(rule.target)} of those leads"
    return text + "."


def _document(agreement: Agreement) -> Page:
    a = agreement
    doc = Page(f"{a.title}: {a.company}", css=_CSS)
    doc.heading(1, f"{a.title}: {a.company}")
    marketing, sales = a.party(Team.MARKETING), a.party(Team.SALES)

    def party_words(party: Party) -> str:
        return f"{party.name} (led by {party.leader})" if party.leader else party.name

    dates = f"effective {_long_date(a.effective)}"
    if a.expires is not None:
        dates += f" until {_long_date(a.expires)}"
    doc.paragraph(
        f"An agreement between {party_words(marketing)} and {party_words(sales)} of "
        f"{a.company}. Version {a.version}, {dates}. Commitments are measured each {a.period}."
    )
    doc.paragraph(
        "Marketing and sales sign this agreement together. It states exactly what marketing "
        "will do and exactly what sales will do to support the company's revenue goals."
    )

    if a.goals is not None:
        _goals_section(doc, a, a.goals)
    _stages_section(doc, a)
    _marketing_section(doc, a)
    _sales_section(doc, a)
    if a.commitments:
        doc.heading(2, "Other commitments")
        for commitment in a.commitments:
            doc.paragraph(f"{commitment.name.capitalize()}: {commitment.describe()}")
    if a.communication is not None:
        _communication_section(doc, a.communication)
    if a.conflict is not None:
        _conflict_section(doc, a.conflict)
    if a.rewards is not None:
        _rewards_section(doc, a, a.rewards)
    if a.ramifications:
        doc.heading(2, "Ramifications if goals are not met")
        doc.paragraph(
            "Both teams are measured on a set of shared goals, and both are accountable for "
            "all of them, not only those in their own lane. Should the shared goals not be "
            "met, the following actions take place."
        )
        for rung in a.ramifications:
            doc.heading(3, rung.title())
            doc.bullets(rung.actions)
    if a.review is not None or a.termination is not None:
        _review_section(doc, a)
    _signoff_section(doc, a)
    return doc


def _goals_section(doc: Page, a: Agreement, goals: CompanyGoals) -> None:
    doc.heading(2, "Company goals")
    goal = format_money(goals.annual_revenue)
    rate = format_money(goals.run_rate().per_period)
    month = f"{_MONTHS[goals.target_month - 1]} {goals.year}"
    current = goals.current_run_rate()
    if current is not None and goals.current_annual_revenue is not None:
        doc.paragraph(
            f"{a.company} will grow from {format_money(goals.current_annual_revenue)} to {goal} "
            f"in annual revenue: from a run rate of {format_money(current.per_period)} a month "
            f"to {rate} a month. It will reach the new run rate by {month} and sustain or "
            f"surpass it through December, so that {goals.year} ends with {goal} in revenue."
        )
    else:
        doc.paragraph(
            f"{a.company} will reach {goal} in annual revenue in {goals.year}: a run rate of "
            f"{rate} a month, reached by {month}."
        )
    items = [
        f"Goal 1: generate monthly revenue of {rate} by {month} and sustain it through "
        "the end of the year."
    ]
    if goals.target_month > 1:
        before = f"{_MONTHS[0]} to {_MONTHS[goals.target_month - 2]}"
        if goals.target_month == 2:
            before = _MONTHS[0]
        text = (
            f"Goal 2: from {_MONTHS[goals.target_month - 1]} to December {goals.year}, "
            f"generate enough revenue above {rate} a month to make up for the months below it "
            f"from {before} {goals.year}"
        )
        if current is not None:
            required = goals.plan().required_per_month or Decimal(0)
            verb = "ramps" if goals.target_month == 2 else "ramp"
            text += (
                f": {format_money(required)} a month, if {before} {verb} up steadily from "
                "today's run rate"
            )
        items.append(text + ".")
    items.append(f"Goal {len(items) + 1}: finish {goals.year} with {goal} in annual revenue.")
    doc.bullets(items)


def _stages_section(doc: Page, a: Agreement) -> None:
    doc.heading(2, "Lead stages and hand-off")
    doc.paragraph("Both teams use these definitions of the stages a lead goes through.")
    doc.table(
        ["Stage", "Owner", "Definition", "Enters when"],
        [[s.label, _team_name(s.owner), s.definition, s.handoff_trigger] for s in a.ladder.stages],
    )
    if a.handoff is not None and a.handoff.stage in a.ladder:
        h = a.handoff
        entered = a.ladder.get(h.stage)
        text = f"A lead passes from marketing to sales when it becomes a {entered.label}."
        if h.notified_by:
            text += (
                f" {_sentence(h.notified_by)[:-1]} notifies the owning rep, and the response "
                "clock starts at that notification."
            )
        doc.paragraph(text)
        if h.information:
            doc.paragraph("Marketing passes with each lead:")
            doc.bullets(h.information)
        if h.exit_stages:
            doc.paragraph(
                f"A lead that moves to {_join(list(h.exit_stages), 'or')} leaves the sales clocks."
            )
    if a.personas:
        doc.heading(3, "Buyer personas")
        doc.bullets([f"{p.name}: {p.description}" if p.description else p.name for p in a.personas])
    if a.calendar is not None:
        doc.heading(3, "Business hours")
        doc.paragraph(f"Business hours are {a.calendar.describe()}.")


def _marketing_section(doc: Page, a: Agreement) -> None:
    doc.heading(2, "Marketing commitments")
    value, leads = a.marketing.lead_value, a.marketing.leads
    if leads is not None:
        doc.paragraph(
            f"Marketing will deliver {_count_of(leads.count, 'qualified lead')} each {a.period}."
        )
        if leads.funnel is not None and leads.per_rep is not None:
            one, team = leads.per_rep, leads.funnel
            chain = " -> ".join(_count_of(s.needed, s.name) for s in one.stages)
            reps = team.capacity.reps if team.capacity is not None else None
            doc.paragraph(f"The count comes from the funnel of one rep each {a.period}: {chain}.")
            if reps is not None and team.capacity is not None:
                doc.paragraph(
                    f"With {reps} reps that is {_count_of(team.leads_needed, 'lead')} a "
                    f"{a.period}. {team.capacity.explain()}"
                )
    if value is not None:
        parts = [
            f"{name} leads {format_money(amount)} each" for name, amount in value.values.items()
        ]
        doc.paragraph(
            f"Marketing will deliver {format_money(value.amount)} of lead value each "
            f"{a.period}: {_join(parts)}."
        )
        doc.paragraph(
            f"The value of a lead is what it is worth when it converts: the close rate of its "
            f"{value.basis} times the average deal value it brings."
        )
        if value.workings:
            doc.bullets(
                [
                    f"{w.segment}: {format_rate(w.close_rate)} close at "
                    f"{format_money(w.average_deal_value)} = {format_money(w.value)} a lead"
                    for w in value.workings
                ]
            )
        sample = value.sample_period()
        if sample is not None:
            doc.paragraph(f"A sample {a.period}:")
            rows: list[list[Any]] = [
                [line.key, line.count, line.unit_value, line.value] for line in sample.lines
            ]
            rows.append(["total", sample.count, "", sample.total])
            doc.table([value.basis.capitalize(), "Leads", "Value each", "Lead value"], rows)
            verdict = "meets" if sample.meets_quota else "falls short of"
            doc.paragraph(
                f"That is {format_money(sample.total)} of lead value, which {verdict} the "
                f"{format_money(value.amount)} commitment."
            )
    pacing = a.marketing.pacing
    what = "lead value" if value is not None else "leads"
    doc.paragraph(
        f"Marketing delivers at an even pace, hugging a straight line by business day: "
        f"delivered to date stays within {format_rate(pacing.tolerance)} of the line. A "
        f"{a.period} with {format_rate(Fraction(1, 2) + pacing.loading_tolerance)} or more of "
        f"its {what} in the first half of its business days is front-loaded, one with "
        f"{format_rate(Fraction(1, 2) - pacing.loading_tolerance)} or less is back-loaded; "
        f"either is flagged before the {a.period} ends, so that the leads sent to sales match "
        "the capacity sales has to work them."
    )


def _sales_section(doc: Page, a: Agreement) -> None:
    doc.heading(2, "Sales commitments")
    for response in a.sales.response:
        doc.paragraph(" ".join(_response_sentences(response, a.ladder)))
    for cadence in a.sales.cadence:
        doc.paragraph(_cadence_sentence(cadence, a.ladder))
    for goal in a.sales.milestones:
        doc.paragraph(_milestone_sentence(goal))
    if a.sales.process:
        doc.paragraph("Sales also agrees to:")
        doc.bullets(a.sales.process)


def _communication_section(doc: Page, c: Communication) -> None:
    doc.heading(2, "Communication and feedback")
    if c.feedback_within is not None:
        text = f"Feedback between the teams is shared within {_span_words(c.feedback_within)}"
        if c.feedback_at:
            text += f" and discussed to resolution at {c.feedback_at}"
        doc.paragraph(text + ".")
    if c.marketing_feedback:
        doc.paragraph(f"Marketing gives feedback on {c.marketing_feedback.rstrip('.')}.")
    if c.sales_feedback:
        doc.paragraph(f"Sales gives feedback on {c.sales_feedback.rstrip('.')}.")
    for meeting in c.meetings:
        doc.paragraph(
            f"{meeting.name}: {meeting.attendees} meet every {meeting.every} for "
            f"{_span_words(meeting.length)}" + (" to:" if meeting.agenda else ".")
        )
        doc.bullets(meeting.agenda)


def _conflict_section(doc: Page, c: ConflictResolution) -> None:
    doc.heading(2, "Conflict resolution")
    if c.panel:
        text = (
            f"Any conflict or challenge the teams cannot resolve goes to a panel of "
            f"{_join(list(c.panel))}. Marketing and sales each select a representative to "
            "present their side"
        )
        if c.time_per_side is not None:
            text += f", with {_span_words(c.time_per_side)} each"
        text += "; then the panel decides."
        if c.binding:
            text += " The panel's decision is binding: each team agrees in advance to follow it."
        doc.paragraph(text)
        if c.arbiter:
            doc.paragraph(f"If there is {c.arbiter}, that person is the sole arbiter instead.")
    else:
        doc.paragraph(f"{_sentence(c.arbiter)[:-1]} is the sole arbiter of any conflict.")


def _rewards_section(doc: Page, a: Agreement, r: Rewards) -> None:
    doc.heading(2, "Rewards")
    doc.paragraph("Marketing and sales are measured together and rewarded together.")
    if r.pool is not None:
        text = (
            f"When {r.condition}, both teams share a pool of {format_money(r.pool)} each {a.period}"
        )
        if r.distribution:
            text += f", distributed {r.distribution}"
        doc.paragraph(text + ".")
    if r.annual:
        doc.paragraph(f"When {r.annual_condition}, both teams are rewarded with {r.annual}.")


def _review_section(doc: Page, a: Agreement) -> None:
    doc.heading(2, "Review and termination")
    if a.review is not None:
        review = a.review
        first = review.first or review.every.shift(a.effective, 1)
        doc.paragraph(
            f"This is a living document. The parties review it every {review.every}, the first "
            f"time on {_long_date(first)}, and share every change with both teams."
        )
        if review.triggers:
            doc.paragraph("It is reviewed early when:")
            doc.bullets([f"{t.name} falls below {format_rate(t.below)}" for t in review.triggers])
    t = a.termination
    if t is not None:
        reasons: list[str] = []
        if t.unmet_periods is not None:
            periods = _count_of(t.unmet_periods, a.period.value)
            reasons.append(f"when the shared goals stay unmet for {periods} running")
        if t.approval_withdrawn:
            reasons.append("when the parties no longer approve it")
        if reasons:
            doc.paragraph(f"The agreement ends {_join(reasons, 'or')}.")


def _signoff_section(doc: Page, a: Agreement) -> None:
    doc.heading(2, "Sign-off")
    doc.paragraph(
        "Everyone in both departments signs this agreement and keeps a copy in a visible "
        "place. It is referred to regularly in conversations, communication and meetings."
    )
    rows = [
        [
            s.name,
            s.title,
            "" if s.team is None else _team_name(s.team),
            "",
            "" if s.signed_at is None else _signed_day(s.signed_at).isoformat(),
        ]
        for s in a.signatories
    ]
    if not rows:
        rows = [["", "", _team_name(team), "", ""] for team in Team]
    doc.table(["Name", "Title", "Team", "Signature", "Date"], rows, css="sign")
    doc.paragraph(f"{a.title}, {a.company}. Version {a.version}, {_long_date(a.effective)}.")


def _signed_day(moment: date | datetime) -> date:
    return moment.date() if isinstance(moment, datetime) else moment
