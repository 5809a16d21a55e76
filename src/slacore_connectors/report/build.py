"""The SLA report: the agreement evaluated on what the store holds, for one period.

:func:`build_report` reads the period's hand-offs (and the touches, stage changes and
reassignments after them) from the store, evaluates every response and cadence rule of the
agreement, builds the "Don't Be On It" dashboard, paces marketing's delivery, scores the
period and walks the escalation ladder over the periods before it, and counts the rejected
records. Everything in the report comes from the core's result objects: the report formats,
it does not recompute.

``as_of`` reproduces the past: the store is read as it stood at that moment (records carry
when the store learnt them) and the clocks are evaluated at that moment, so last month's
report comes out the same after later syncs.

Formats: :meth:`SlaReport.to_text` (Markdown, also for terminals), :meth:`SlaReport.to_dict`
(JSON), :meth:`SlaReport.to_html` (one self-contained file with charts, for phones and paper).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from slacore._arrow import pandas_of
from slacore._values import FIRST_YEAR, LAST_YEAR
from slacore.agreement import Agreement
from slacore.calendar.periods import PeriodSpan
from slacore.connector import RejectedRecord, rejected_table
from slacore.errors import PlanError, SlacoreError, ValidationError
from slacore.model import Deal
from slacore.planning.curve import PacingCurve, pacing_curve
from slacore.planning.escalation_ladder import Escalation, PeriodVerdict, escalation
from slacore.planning.outcomes import deal_outcomes
from slacore.planning.pacing import Delivery, Pacing
from slacore.planning.scorecards import Scorecard, scorecard
from slacore.render import Block, Paragraph, Table, json_dict
from slacore.rules._engine.gc import gc_paused
from slacore.rules.cadence_report import CadenceReport
from slacore.rules.dashboard import DontBeOnIt, dont_be_on_it
from slacore.rules.response_report import ResponseReport
from slacore_connectors.report import _columns
from slacore_connectors.report.html import report_page
from slacore_connectors.report.period_results import PeriodLedger
from slacore_connectors.store.base import Store

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "REJECTED_SHOWN",
    "NothingToReportError",
    "SlaReport",
    "build_report",
    "period_span",
]


REJECTED_SHOWN = 50
"""How many rejected rows the text, Markdown and HTML report list; the JSON lists them all."""


@attrs.frozen(auto_exc=True, kw_only=True)
class NothingToReportError(SlacoreError, LookupError):
    """The store holds no hand-offs in the period asked for (or held none ``as_of``): a report
    of it would be all zeros, so none is made. The message says which periods it does hold.

    Attributes:
        period: The label of the period asked for (by default the one holding ``as_of``).
        first: The label of the first period the store holds hand-offs in, or ``None``.
        last: The label of the last such period, or ``None``.

    """

    period: str
    first: str | None = None
    last: str | None = None


@attrs.frozen(kw_only=True)
class SlaReport:
    """One period of an agreement, evaluated.

    Attributes:
        title: The agreement's title and company.
        span: The period.
        as_of: The moment of evaluation (and of the store snapshot).
        responses: One report per response rule.
        cadences: One report per cadence rule.
        dashboard: The "Don't Be On It" dashboard, when there is a response rule.
        pacing: Marketing's pacing in the period, when the agreement has a quota.
        curve: Pacing by business day (delivered to date against the straight line), when
            the agreement has a quota.
        scorecard: The period's scorecard, when anything could be measured.
        escalation: The ramifications ladder over the periods up to this one.
        rejected: How many rejected records the store holds.
        rejected_rows: Those records, in the store's order: file, line, id, field and reason
            of each (the text lists the first :data:`REJECTED_SHOWN`, the JSON all).
        handoffs: Hand-offs in the period.
        notices: What the report left out and why, one line each (records dated outside the
            years it covers, kept by an older slacore).

    """

    title: str
    span: PeriodSpan
    as_of: datetime
    responses: tuple[ResponseReport, ...]
    cadences: tuple[CadenceReport, ...]
    dashboard: DontBeOnIt | None
    pacing: Pacing | None
    curve: PacingCurve | None
    scorecard: Scorecard | None
    escalation: Escalation | None
    rejected: int
    handoffs: int
    notices: tuple[str, ...] = ()
    rejected_rows: tuple[RejectedRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The report, JSON-ready (money as decimal strings, durations in seconds)."""
        return json_dict(
            {
                "title": self.title,
                "period": self.span.to_dict(),
                "as_of": self.as_of,
                "handoffs": self.handoffs,
                "response": [r.to_dict() for r in self.responses],
                "cadence": [c.to_dict() for c in self.cadences],
                "dashboard": None if self.dashboard is None else self.dashboard.to_dict(),
                "pacing": None if self.pacing is None else self.pacing.to_dict(),
                "scorecard": None if self.scorecard is None else self.scorecard.to_dict(),
                "escalation": None if self.escalation is None else self.escalation.to_dict(),
                "rejected_records": self.rejected,
                "rejected_rows": [r.to_dict() for r in self.rejected_rows],
                "notices": list(self.notices),
            }
        )

    def to_arrow(self) -> dict[str, Any]:
        """The report's tables as ``pyarrow.Table`` s, by name, in the report's order.

        Names: for each response rule ``response.<rule name>`` (a row per hand-off of the
        period, :meth:`ResponseReport.to_arrow
        <slacore.rules.response_report.ResponseReport.to_arrow>`), ``...by_rep`` and
        ``...by_source`` (its summaries); for each cadence rule ``cadence.<rule name>`` and
        ``...by_rep``; then, when the report has them, ``dashboard``, ``pacing`` (the
        weeks), ``curve`` (the business days), ``scorecard`` (the lines), ``escalation``
        (the periods) and always ``rejected`` (the rejected rows,
        :func:`~slacore.connector.rejected_table`). A rule name used twice gets ``#2``.
        Column types as in :mod:`slacore._arrow`: UTC timestamps, exact decimals for money,
        dictionaries for statuses.

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        tables: dict[str, Any] = {}

        def put(name: str, *parts: tuple[str, Any]) -> None:
            taken = sum(1 for key in tables if key == name or key.startswith(f"{name}#"))
            if taken:
                name = f"{name}#{taken + 1}"
            for suffix, table in parts:
                tables[name + suffix] = table

        for response in self.responses:
            put(
                f"response.{response.rule.name}",
                ("", response.to_arrow()),
                (".by_rep", response.summary_to_arrow("rep")),
                (".by_source", response.summary_to_arrow("source")),
            )
        for cadence in self.cadences:
            put(
                f"cadence.{cadence.rule.name}",
                ("", cadence.to_arrow()),
                (".by_rep", cadence.summary_to_arrow("rep")),
            )
        for name, part in (
            ("dashboard", self.dashboard),
            ("pacing", self.pacing),
            ("curve", self.curve),
            ("scorecard", self.scorecard),
            ("escalation", self.escalation),
        ):
            if part is not None:
                tables[name] = part.to_arrow()
        tables["rejected"] = rejected_table(self.rejected_rows)
        return tables

    def to_pandas(self) -> dict[str, Any]:
        """:meth:`to_arrow`'s tables as pandas ``DataFrame`` s, by the same names.

        Raises:
            ModuleNotFoundError: pyarrow or pandas is not installed.

        """
        return {name: pandas_of(table) for name, table in self.to_arrow().items()}

    def _sections(self) -> list[tuple[str, list[Block]]]:
        """(heading, the result's blocks) for each part of the report."""
        sections = [("Response time", r.to_blocks()) for r in self.responses]
        sections += [("Cadence", c.to_blocks()) for c in self.cadences]
        if self.dashboard is not None:
            sections.append(("Don't Be On It", self.dashboard.to_blocks()))
        if self.pacing is not None:
            sections.append(("Marketing pacing", self.pacing.to_blocks()))
        if self.scorecard is not None:
            sections.append(("Scorecard", self.scorecard.to_blocks()))
        if self.escalation is not None:
            sections.append(("Escalation", self.escalation.to_blocks()))
        quality: list[Block] = [*self._rejected_blocks(), *(Paragraph(n) for n in self.notices)]
        sections.append(("Data quality", quality))
        return sections

    def _rejected_blocks(self) -> list[Block]:
        """The rejected rows: a count, the first :data:`REJECTED_SHOWN` as a table, and how
        many more there are and where to see them all."""
        if not self.rejected:
            return [Paragraph("No rejected records.")]
        one = self.rejected == 1
        blocks: list[Block] = [
            Paragraph(
                f"{self.rejected:,} rejected record{'' if one else 's'} "
                f"{'is' if one else 'are'} kept in the store with "
                f"{'its reason' if one else 'their reasons'}:"
            )
        ]
        shown = self.rejected_rows[:REJECTED_SHOWN]
        blocks.append(
            Table(
                ["stream", "file", "line", "id", "field", "reason"],
                [
                    [
                        r.stream.value,
                        r.source or "",
                        "" if r.line is None else str(r.line),
                        r.record_id or "",
                        r.field or "",
                        " ".join(r.reason.split()),
                    ]
                    for r in shown
                ],
                css="rejected",
                numeric=(False, False, True, False, False, False),
            )
        )
        more = self.rejected - len(shown)
        if more > 0:
            blocks.append(
                Paragraph(
                    f"... and {more:,} more: the JSON report (slacore report --json) lists "
                    "them all under rejected_rows."
                )
            )
        return blocks

    def _heading(self) -> str:
        return (
            f"{self.title}: SLA report for {self.span.label} "
            f"(as of {self.as_of.isoformat(timespec='minutes')})"
        )

    def to_markdown(self) -> str:
        """The report in Markdown."""
        return report_page(self, charts=False).markdown()

    def to_text(self) -> str:
        """The report for a terminal: the Markdown, which reads well as plain text."""
        return self.to_markdown()

    def to_html(self) -> str:
        """One self-contained HTML page with charts; no network needed to view or print it."""
        return report_page(self).html()


# --- building ---------------------------------------------------------------------------------


# The years a report covers, as record times in UTC, are the model's range (FIRST_YEAR and
# LAST_YEAR of slacore._values). A period or ``as_of`` outside them is refused; records outside
# them (placeholders such as 0001-01-01 or 9999-12-31 that an older slacore stored) are left
# out, with a notice.
_EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_END = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
_SLACK = timedelta(days=2)
_TIMED = ("handoffs", "touches", "stage_changes", "owner_changes", "deals")


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def period_span(agreement: Agreement, period: date | str) -> PeriodSpan:
    """The span of the agreement's period holding ``period`` (a day or a label such as
    ``"2020-06"``), as :func:`build_report` takes it.

    Raises:
        ValidationError: ``period`` is malformed, or outside the years :data:`FIRST_YEAR` to
            :data:`LAST_YEAR`; its field is ``period``.

    """
    outside = ValidationError(
        message=f"expected a period in the years {FIRST_YEAR} to {LAST_YEAR}, got {period!r}",
        field="period",
        value=period,
    )
    try:
        span = agreement.period.span(period)
    except ValidationError:
        raise
    except (ValueError, OverflowError):  # a period at the very end of the calendar
        raise outside from None
    if not FIRST_YEAR <= span.start.year <= LAST_YEAR:
        raise outside
    return span


def _left_out(store: Store, as_of: datetime | None, refused: int) -> str | None:
    """The notice for the records left out: dated outside the years covered (counted here),
    plus ``refused`` rows the model refused while the report read the others."""
    skipped: list[ValidationError] = []
    count = refused
    for stream in _TIMED:
        before = store.records(stream, as_of=as_of, until=_EARLIEST, invalid=skipped.append)
        after = store.records(stream, as_of=as_of, since=_END, invalid=skipped.append)
        count += sum(1 for _ in before) + sum(1 for _ in after)
    count += len(skipped)
    if not count:
        return None
    return (
        f"{count:,} record{'' if count == 1 else 's'} dated outside the years {FIRST_YEAR} to "
        f"{LAST_YEAR} (placeholders "
        "such as 0001-01-01 or 9999-12-31) are left out of this report."
    )


def build_report(
    store: Store,
    agreement: Agreement,
    *,
    period: date | str | None = None,
    as_of: datetime | None = None,
) -> SlaReport:
    """Evaluate ``agreement`` on the store's records for one period.

    Args:
        store: The store to read.
        agreement: The agreement to evaluate.
        period: A day in the period or its label (``"2020-06"``); default the period of the
            latest hand-off the store knows.
        as_of: Evaluate as of this moment, reading only what the store knew then; default
            now.

    Returns:
        An :class:`SlaReport`.

    Raises:
        PlanError: The agreement has no calendar (needed to place days and pace delivery).
        NothingToReportError: The store holds no hand-offs in the period (or held none at
            ``as_of``); the message says which periods it holds.
        ValidationError: A naive ``as_of`` or a malformed period, or either outside the years
            :data:`FIRST_YEAR` to :data:`LAST_YEAR`.

    """
    # Reading the store makes a few records a hand-off that form no cycles and stay alive to
    # the end: with the collector on, each burst of them set off collections that walked
    # every record read so far.
    with gc_paused():
        return _build(store, agreement, period=period, as_of=as_of)


def _build(
    store: Store,
    agreement: Agreement,
    *,
    period: date | str | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
    ledger: PeriodLedger | None = None,
    ledger_only: bool = False,
) -> SlaReport:
    """:func:`build_report`, evaluated at ``now`` (default the current time) when ``as_of``
    is not given, with the kept period results of ``ledger`` (default those valid in the
    store; a sync passes its own, which notes what to keep). ``ledger_only``: for the sync,
    which keeps the ledger's results and drops the report: the parts no period result
    depends on (dashboard, pacing, the rejected rows, the notices) are left out."""
    moment = as_of or now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValidationError(message="expected a timezone-aware time", field="as_of")
    # A day's slack either side: --as-of 2099-12-31 means the end of that day, in any zone.
    if not _EARLIEST - _SLACK <= moment < _END + _SLACK:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR}, got "
            f"{moment.isoformat()}",
            field="as_of",
        )
    calendar = agreement.calendar
    if calendar is None:
        raise PlanError(message="the report needs the agreement's [calendar]")
    zone = calendar.zone
    # Records dated outside the years covered are never read: each is left out, said once.
    # A row in the years whose other times the model refuses (an older slacore stored it) is
    # skipped and counted too.
    refused: list[ValidationError] = []
    # The store answers in Arrow tables; the rules evaluate them a column at a time.
    known = store.columns(
        "handoffs", as_of=as_of, since=_EARLIEST, until=_END, invalid=refused.append
    )
    held = _columns.bounds(known, "notified_at")
    if period is None:
        latest = moment if held is None else held[1]
        period = min(latest.astimezone(zone).date(), date(LAST_YEAR, 12, 31))
    span = period_span(agreement, period)

    def handoffs_in(part: PeriodSpan) -> Any:
        first = _start_of(part.start, zone)
        stop = _start_of(part.end + timedelta(days=1), zone)
        return _columns.between(known, "notified_at", first, stop)

    first_span = span
    if held is not None:
        earliest = held[0].astimezone(zone).date()
        first_span = period_span(agreement, max(earliest, date(FIRST_YEAR, 1, 1)))
    since = max(_start_of(first_span.start, zone), _EARLIEST)
    touches = store.columns("touches", as_of=as_of, since=since, until=_END, invalid=refused.append)
    changes = store.columns(
        "stage_changes", as_of=as_of, since=since, until=_END, invalid=refused.append
    )
    owners = store.columns(
        "owner_changes", as_of=as_of, since=since, until=_END, invalid=refused.append
    )
    reps = store.columns("reps", as_of=as_of, invalid=refused.append)
    deals = list(
        store.records("deals", as_of=as_of, since=_EARLIEST, until=_END, invalid=refused.append)
    )

    def evaluate(
        part: PeriodSpan, chosen: Any = None
    ) -> tuple[Any, tuple[ResponseReport, ...], tuple[CadenceReport, ...]]:
        if chosen is None:
            chosen = handoffs_in(part)
        # Clocks of a past period are judged now: a late touch after the period still counts.
        responses = tuple(
            rule.evaluate_columns(
                chosen, touches, now=moment, stage_changes=changes, owner_changes=owners, reps=reps
            )
            for rule in agreement.response_rules
        )
        cadences = tuple(
            rule.evaluate_columns(
                chosen, touches, now=moment, stage_changes=changes, owner_changes=owners, reps=reps
            )
            for rule in agreement.cadence_rules
        )
        return chosen, responses, cadences

    chosen = handoffs_in(span)
    if chosen.num_rows == 0:
        raise _nothing_to_report(store, agreement, span.label, held, as_of, refused)
    chosen, responses, cadences = evaluate(span, chosen)
    dashboard = (
        dont_be_on_it(responses[0], cadences[0] if cadences else None)
        if responses and not ledger_only
        else None
    )

    pacing: Pacing | None = None
    curve: PacingCurve | None = None
    pace_day = min(moment.astimezone(zone).date(), span.end)
    # The period's deliveries, made once for the pacing and the scorecard.
    delivered: list[Delivery] | None = None
    wanted = agreement.marketing.lead_value is not None or agreement.marketing.leads is not None
    if wanted and not ledger_only:
        delivered = _columns.summed(_columns.deliveries(agreement, chosen))
        pacing = agreement.pace(delivered, as_of=pace_day)
        curve = pacing_curve(pacing, delivered, calendar=calendar)

    # The ladder's earlier periods: a kept result (period_results.py) where one is valid,
    # else evaluated; the period reported always is.
    if ledger is None:
        ledger = PeriodLedger.for_report(store, agreement, as_of=as_of)
    history: list[Scorecard | PeriodVerdict] = []
    card: Scorecard | None = None
    part = first_span
    while part.start <= span.start:
        kept = None if part == span else ledger.verdict(part, first_span.start)
        if kept is not None:
            if kept.met is not None:
                history.append(PeriodVerdict(span=part, met=kept.met))
            part = agreement.period.span(part.end + timedelta(days=1))
            continue
        part_chosen, part_responses, part_cadences = (
            (chosen, responses, cadences) if part == span else evaluate(part)
        )
        result = _score(
            agreement,
            part,
            part_chosen,
            part_responses,
            part_cadences,
            deals,
            min(moment.astimezone(zone).date(), part.end),
            delivered if part == span else None,
        )
        ledger.evaluated(
            part,
            first_span.start,
            result,
            _lead_ids(part_chosen),
            part_responses,
            part_cadences,
        )
        if result is not None:
            history.append(result)
            card = result if part == span else card
        part = agreement.period.span(part.end + timedelta(days=1))
    ladder = escalation(agreement, history) if history and agreement.ramifications else None
    rejected = [] if ledger_only else store.rejected(as_of=as_of)
    left_out = None if ledger_only else _left_out(store, as_of, len(refused))

    return SlaReport(
        title=f"{agreement.title}: {agreement.company}",
        span=span,
        as_of=moment,
        responses=responses,
        cadences=cadences,
        dashboard=dashboard,
        pacing=pacing,
        curve=curve,
        scorecard=card,
        escalation=ladder,
        rejected=len(rejected),
        rejected_rows=tuple(rejected),
        handoffs=chosen.num_rows,
        notices=() if left_out is None else (left_out,),
    )


def _lead_ids(handoffs: Any) -> Callable[[], Iterable[str]]:
    """The lead ids of a table of hand-offs, when asked for."""
    return lambda: handoffs.column("lead_id").to_pylist()


def _held(agreement: Agreement, held: tuple[datetime, datetime] | None) -> tuple[str, str] | None:
    """The labels of the first and the last period holding hand-offs notified from
    ``held[0]`` to ``held[1]``."""
    if held is None:
        return None
    calendar = agreement.calendar
    assert calendar is not None
    first = held[0].astimezone(calendar.zone).date()
    last = held[1].astimezone(calendar.zone).date()
    first = max(first, date(FIRST_YEAR, 1, 1))
    last = min(last, date(LAST_YEAR, 12, 31))
    return period_span(agreement, first).label, period_span(agreement, last).label


def _periods(held: tuple[str, str]) -> str:
    first, last = held
    return f"in {first} only" if first == last else f"from {first} to {last}"


def _nothing_to_report(
    store: Store,
    agreement: Agreement,
    period: str,
    known: tuple[datetime, datetime] | None,
    as_of: datetime | None,
    refused: list[ValidationError],
) -> NothingToReportError:
    """The error for a period without hand-offs: what the store holds instead, and, for an
    ``as_of`` before the store learnt of any hand-off, when the first were stored."""
    held = _held(agreement, known)
    if held is not None:
        holds = (
            "the store holds"
            if as_of is None
            else f"as of {as_of.isoformat(timespec='minutes')} the store held"
        )
        return NothingToReportError(
            message=f"nothing to report: no hand-offs in {period}; {holds} hand-offs "
            f"{_periods(held)}",
            period=period,
            first=held[0],
            last=held[1],
        )
    now = (
        _held(
            agreement,
            _columns.bounds(
                store.columns("handoffs", since=_EARLIEST, until=_END, invalid=refused.append),
                "notified_at",
            ),
        )
        if as_of is not None
        else None
    )
    if as_of is None or now is None:
        return NothingToReportError(
            message="nothing to report: the store holds no hand-offs yet", period=period
        )
    stored = [
        run.started_at
        for run in store.runs()
        if run.counts.get("handoffs", {}).get("stored", 0) > 0
    ]
    since = f", the first stored by the sync of {min(stored).date()}" if stored else ""
    return NothingToReportError(
        message=(
            f"nothing to report: as of {as_of.isoformat(timespec='minutes')} the store held no "
            f"hand-offs; it holds hand-offs {_periods(now)}{since}"
        ),
        period=period,
        first=now[0],
        last=now[1],
    )


def _score(
    agreement: Agreement,
    span: PeriodSpan,
    chosen: Any,
    responses: tuple[ResponseReport, ...],
    cadences: tuple[CadenceReport, ...],
    deals: list[Deal],
    as_of: date,
    delivered: list[Delivery] | None = None,
) -> Scorecard | None:
    """The scorecard of one period from the store's records, or ``None`` if nothing counts.

    ``chosen``: the period's hand-offs (a table of :meth:`Store.columns`); ``delivered``:
    their deliveries, when the caller made them already.
    """
    calendar = agreement.calendar
    assert calendar is not None
    zone = calendar.zone
    outcome = deal_outcomes(deals, span, zone=zone)
    # A goal without a measure is one the CRM's deals cannot answer: it stays unmeasured.
    milestones: dict[str, Decimal] = {}
    for goal in agreement.milestone_goals:
        figure = None if goal.measure is None else outcome.figure(goal.measure)
        if figure is not None:
            milestones[goal.metric] = figure
    lead_value: Decimal | None = None
    if agreement.lead_values is not None:
        if delivered is None:
            delivered = _columns.summed(_columns.deliveries(agreement, chosen))
        lead_value = sum((d.value for d in delivered), Decimal(0))
    kwargs: dict[str, Any] = {
        "revenue": outcome.revenue if agreement.goals is not None else None,
        "lead_value": lead_value,
        "leads": chosen.num_rows if agreement.marketing.leads is not None else None,
        "response": {r.rule.name: r for r in responses} or None,
        "cadence": {c.rule.name: c for c in cadences} or None,
        "milestones": milestones or None,
    }
    try:
        return scorecard(
            agreement, span.start, **{k: v for k, v in kwargs.items() if v is not None}
        )
    except (PlanError, SlacoreError):
        return None
