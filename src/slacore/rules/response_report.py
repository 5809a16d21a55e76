"""What a response-time evaluation answers: a result per hand-off and the figures over them.

:meth:`~slacore.rules.response.ResponseRule.evaluate` gives a :class:`ResponseReport`: one
:class:`ResponseResult` per hand-off with its :class:`~slacore.rules.common.SlaStatus` and the
times that decided it, and a :class:`ResponseSummary` overall, per rep and per source: counts,
the compliance share against a target, and the distribution of response times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from slacore._arrow import TableResult, pandas_of
from slacore._values import format_rate
from slacore.calendar.duration import format_duration
from slacore.errors import ValidationError
from slacore.model import Handoff
from slacore.render import (
    Block,
    Paragraph,
    Table,
    blocks_markdown,
    json_dict,
    result_markdown,
)
from slacore.rules._engine.columns import _ONE_US
from slacore.rules._engine.results import LazyResults
from slacore.rules._engine.tallies import _percentile, _Runs, _Tally
from slacore.rules._tables import response_summary_table, response_table
from slacore.rules.common import NEVER, Clock, Never, SlaStatus, result_sentence

if TYPE_CHECKING:
    from slacore.rules.response import ResponseRule

__all__ = [
    "BUCKETS",
    "NEVER",
    "Never",
    "ResponseReport",
    "ResponseResult",
    "ResponseSummary",
    "bucket_labels",
    "format_response_time",
]


@attrs.frozen(kw_only=True)
class ResponseResult:
    """One hand-off measured against a rule.

    Attributes:
        handoff: The hand-off.
        status: Where it stands.
        started_at: When the clock started (the notification, or the last restart on
            reassignment), or ``None`` when the rule does not apply.
        due_at: When the clock runs out, or ``None`` when the rule does not apply.
        first_touch_at: When the clock stopped (the first counted touch, or the stage change
            for a stage rule), or ``None`` if it has not.
        withdrawn_at: When the lead was withdrawn, for withdrawn results.
        owner_id: The rep accountable: the owner when the clock stopped (met), when the
            deadline passed (breached), when withdrawn, or now (pending).
        elapsed: Calendar time from the start to the stop, or to ``now`` if not stopped.
        business_elapsed: The same in business time, or ``None`` without a calendar.

    """

    handoff: Handoff
    status: SlaStatus
    started_at: datetime | None = None
    due_at: datetime | None = None
    first_touch_at: datetime | None = None
    withdrawn_at: datetime | None = None
    owner_id: str | None = None
    elapsed: timedelta | None = None
    business_elapsed: timedelta | None = None

    @property
    def responded(self) -> bool:
        """Whether the clock stopped (there was a counted touch or stage change)."""
        return self.first_touch_at is not None

    def _facts(self) -> list[tuple[str, object]]:
        return [
            ("started", self.started_at),
            ("due", self.due_at),
            ("first touch", self.first_touch_at),
            ("withdrawn", self.withdrawn_at),
            (
                "elapsed",
                self.business_elapsed if self.business_elapsed is not None else self.elapsed,
            ),
            ("rep", self.owner_id),
        ]

    def explain(self) -> str:
        """One sentence: the lead, its status, and the times that decided it."""
        return result_sentence(self.handoff.lead_id, self.status, self._facts())

    def to_markdown(self) -> str:
        """The explanation and the times as a table."""
        rows = [[label, value] for label, value in self._facts() if value is not None]
        return result_markdown(self.explain(), ["", "value"], rows)

    def to_dict(self) -> dict[str, Any]:
        """The result, JSON-ready (times ISO 8601, durations in seconds)."""
        return json_dict(
            {
                "lead_id": self.handoff.lead_id,
                "status": self.status,
                "started_at": self.started_at,
                "due_at": self.due_at,
                "first_touch_at": self.first_touch_at,
                "withdrawn_at": self.withdrawn_at,
                "owner_id": self.owner_id,
                "source": self.handoff.source,
                "elapsed": self.elapsed,
                "business_elapsed": self.business_elapsed,
            }
        )


BUCKETS: tuple[timedelta, ...] = (timedelta(minutes=5), timedelta(hours=1), timedelta(hours=24))
"""The upper limits of the response-time buckets, on the rule's clock; a time above the last
goes in the "over" bucket, and a hand-off breached without a touch in ``"never"`` (names in
:func:`bucket_labels`)."""


def _limit_words(limit: timedelta) -> tuple[int, str]:
    """``(5, "minutes")``, ``(1, "hour")``, ``(24, "hours")``."""
    if limit < timedelta(hours=1):
        amount, unit = limit // timedelta(minutes=1), "minute"
    else:
        amount, unit = limit // timedelta(hours=1), "hour"
    return amount, unit if amount == 1 else f"{unit}s"


def bucket_labels(clock: Clock | str) -> tuple[str, ...]:
    """The names of the response-time buckets, in order, saying which clock they count.

    >>> bucket_labels("business")[1], bucket_labels("calendar")[1]
    ('within 1 business hour', 'within 1 hour (clock)')
    >>> bucket_labels("business")[-2:]
    ('over 24 business hours', 'never')

    """
    business = Clock(clock) is Clock.BUSINESS

    def label(word: str, limit: timedelta) -> str:
        amount, unit = _limit_words(limit)
        return f"{word} {amount} business {unit}" if business else f"{word} {amount} {unit} (clock)"

    return (
        *(label("within", limit) for limit in BUCKETS),
        label("over", BUCKETS[-1]),
        "never",
    )


def format_response_time(value: timedelta | Never | None) -> str:
    """A percentile as shown: ``"1h 30m"``, ``"never"``, or ``""`` when there is none."""
    if value is None:
        return ""
    if isinstance(value, Never):
        return str(value)
    return format_duration(value)


@attrs.frozen(kw_only=True)
class ResponseSummary:
    """Counts, compliance and the response-time distribution of a group of hand-offs.

    Attributes:
        eligible: Hand-offs the rule applies to (withdrawn ones included).
        met: Stopped in time.
        breached: Late or never.
        pending: Still running, not at risk.
        at_risk: Still running, most of the window gone.
        withdrawn: Withdrawn before their due time.
        compliance: ``met / (met + breached)``: the share of decided hand-offs met, or
            ``None`` when none is decided yet.
        target: The rule's target share, if any.
        p50: Median response time on the rule's clock (nearest rank), over the hand-offs
            that were touched and those breached without a touch, which count as slower than
            any touched one: :data:`NEVER` when the median falls among them. ``None`` when
            there are neither.
        p90: 90th percentile of the same (nearest rank), :data:`NEVER` likewise.
        buckets: Hand-offs per response-time bucket, named by :func:`bucket_labels` for the
            rule's clock (``"within 1 business hour"``, ``"within 1 hour (clock)"``), the
            last ``"never"`` for those breached without a touch.

    """

    eligible: int
    met: int
    breached: int
    pending: int
    at_risk: int
    withdrawn: int
    compliance: Fraction | None
    target: Fraction | None
    p50: timedelta | Never | None
    p90: timedelta | Never | None
    buckets: Mapping[str, int]

    @property
    def target_met(self) -> bool | None:
        """Whether compliance reaches the target (``None`` without a target or decisions)."""
        if self.target is None or self.compliance is None:
            return None
        return self.compliance >= self.target

    def explain(self) -> str:
        """One sentence: the counts by status, compliance against the target, percentiles."""
        text = (
            f"{self.eligible:,} eligible hand-offs, {self.met:,} met, {self.breached:,} "
            f"breached, {self.pending + self.at_risk:,} pending ({self.at_risk:,} at risk), "
            f"{self.withdrawn:,} withdrawn"
        )
        if self.compliance is not None:
            text += f"; {format_rate(self.compliance)} met"
            if self.target is not None:
                verdict = "meets" if self.target_met else "misses"
                text += f", which {verdict} the {format_rate(self.target)} target"
        if self.p50 is not None and self.p90 is not None:
            text += (
                f". Median response {format_response_time(self.p50)}, "
                f"90th percentile {format_response_time(self.p90)}"
            )
            never = self.buckets.get("never", 0)
            if never:
                counted = sum(self.buckets.values())
                text += f" ({never:,} of {counted:,} never contacted, counted as slowest)"
        return text + "."

    def to_markdown(self) -> str:
        """The explanation and the response-time distribution."""
        return result_markdown(
            self.explain(), ["response time", "hand-offs"], list(self.buckets.items())
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready (shares as numbers, durations in seconds, ``"never"``)."""
        return json_dict(
            {
                "eligible": self.eligible,
                "met": self.met,
                "breached": self.breached,
                "pending": self.pending,
                "at_risk": self.at_risk,
                "withdrawn": self.withdrawn,
                "compliance": self.compliance,
                "target": self.target,
                "target_met": self.target_met,
                "p50_seconds": self.p50,
                "p90_seconds": self.p90,
                "buckets": dict(self.buckets),
            }
        )


def _summarise(tally: _Tally, target: Fraction | None, clock: Clock) -> ResponseSummary:
    """The summary of a group from its tally, its buckets named for ``clock``."""
    counts, times = tally.counts, _Runs(tally.runs)
    names = bucket_labels(clock)
    buckets: dict[str, int] = {}
    below = 0
    for name, limit in zip(names, BUCKETS, strict=False):
        upto = times.count_upto(limit // _ONE_US)
        buckets[name] = upto - below
        below = upto
    buckets[names[-2]] = times.size - below
    buckets[names[-1]] = tally.never
    met, breached = counts[SlaStatus.MET], counts[SlaStatus.BREACHED]
    return ResponseSummary(
        eligible=sum(n for st, n in counts.items() if st is not SlaStatus.NOT_APPLICABLE),
        met=met,
        breached=breached,
        pending=counts[SlaStatus.PENDING],
        at_risk=counts[SlaStatus.AT_RISK],
        withdrawn=counts[SlaStatus.WITHDRAWN],
        compliance=Fraction(met, met + breached) if met + breached else None,
        target=target,
        p50=_percentile(times, Fraction(1, 2), tally.never),
        p90=_percentile(times, Fraction(9, 10), tally.never),
        buckets=buckets,
    )


@attrs.frozen(kw_only=True)
class ResponseReport(TableResult):
    """The result of :meth:`ResponseRule.evaluate`.

    Attributes:
        rule: The rule evaluated.
        now: The moment of evaluation.
        results: One :class:`ResponseResult` per hand-off, in input order (a read-only
            sequence that builds each result when it is read).
        summary: Figures over all eligible hand-offs.
        by_rep: Figures per accountable rep (``"(unassigned)"`` for none), sorted by rep id.
        by_source: Figures per lead source (``"(none)"`` for none), sorted by source.

    """

    rule: ResponseRule
    now: datetime
    results: Sequence[ResponseResult]
    summary: ResponseSummary
    by_rep: Mapping[str, ResponseSummary]
    by_source: Mapping[str, ResponseSummary]

    def with_status(self, *statuses: SlaStatus | str) -> tuple[ResponseResult, ...]:
        """The results with one of ``statuses``, in input order."""
        wanted = {SlaStatus(s) for s in statuses}
        if isinstance(self.results, LazyResults):
            return self.results.with_status(wanted)  # builds only those
        return tuple(r for r in self.results if r.status in wanted)

    def to_arrow(self) -> Any:
        """The results as a ``pyarrow.Table``: a row per hand-off, in input order.

        Columns: ``lead_id``, ``stage``, ``source``, ``owner_id`` (strings); ``status``
        (dictionary of every :class:`SlaStatus`, a pandas category); ``started_at``,
        ``due_at``, ``first_touch_at``, ``withdrawn_at`` (``timestamp[us, tz=UTC]``);
        ``elapsed``, ``business_elapsed`` (``duration[us]``). A figure a result does not have
        (``None``) is null: a not-applicable hand-off has its hand-off's columns and status
        only. Made from the evaluation's columns, without building the result objects.
        ``to_pandas()`` gives the same as a ``DataFrame``; ``polars.from_arrow()`` takes it.

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return response_table(self.results)

    def summary_to_arrow(self, by: str = "rep") -> Any:
        """The summaries as a ``pyarrow.Table``: a row per rep (``by="rep"``, as
        :attr:`by_rep`), per source (``by="source"``) or one for all (``by="all"``).

        Columns: the group (``rep``, ``source`` or ``all``, a string), ``eligible``, ``met``,
        ``breached``, ``pending``, ``at_risk``, ``withdrawn`` (ints), ``compliance`` and
        ``target`` (float shares, null for none), ``target_met`` (bool), ``p50`` and ``p90``
        (``duration[us]``, null for none or never), ``p50_never`` and ``p90_never`` (the
        percentile falls among the hand-offs never touched), then one int column per
        response-time bucket, named by :func:`bucket_labels` for the rule's clock.

        Raises:
            ValidationError: ``by`` is not ``"rep"``, ``"source"`` or ``"all"``.
            ModuleNotFoundError: pyarrow is not installed.

        """
        groups = {"rep": self.by_rep, "source": self.by_source, "all": {"all": self.summary}}
        if by not in groups:
            raise ValidationError(
                message=f'expected "rep", "source" or "all", got {by!r}', field="by", value=by
            )
        return response_summary_table(by, groups[by], bucket_labels(self.rule.clock))

    def summary_to_pandas(self, by: str = "rep") -> Any:
        """:meth:`summary_to_arrow` as a pandas ``DataFrame``."""
        return pandas_of(self.summary_to_arrow(by))

    def to_dict(self, *, results: bool = False) -> dict[str, Any]:
        """The report, JSON-ready; with ``results=True`` every hand-off's result too."""
        data: dict[str, Any] = {
            "rule": self.rule.describe(),
            "now": self.now,
            "summary": self.summary.to_dict(),
            "by_rep": {rep: s.to_dict() for rep, s in self.by_rep.items()},
            "by_source": {source: s.to_dict() for source, s in self.by_source.items()},
        }
        if results:
            data["results"] = [r.to_dict() for r in self.results]
        return json_dict(data)

    def explain(self) -> str:
        """Two sentences: the rule, and how the eligible hand-offs stand."""
        moment = self.now.isoformat(timespec="minutes")
        return f"{self.rule.describe()} As of {moment}: {self.summary.explain()}"

    def to_blocks(self) -> list[Block]:
        """The explanation, the distribution, and tables per rep and per source: the blocks
        of a page (:class:`slacore.render.Page`)."""

        def rows(groups: Mapping[str, ResponseSummary]) -> list[list[Any]]:
            return [
                [
                    name,
                    s.eligible,
                    s.met,
                    s.breached,
                    s.pending + s.at_risk,
                    "" if s.compliance is None else format_rate(s.compliance),
                    format_response_time(s.p50),
                    format_response_time(s.p90),
                ]
                for name, s in groups.items()
            ]

        header = ["", "eligible", "met", "breached", "pending", "met %", "p50", "p90"]
        return [
            Paragraph(self.explain()),
            Table(["response time", "hand-offs"], list(self.summary.buckets.items())),
            Table(["rep", *header[1:]], rows(self.by_rep)),
            Table(["source", *header[1:]], rows(self.by_source)),
        ]

    def to_markdown(self) -> str:
        """The explanation, the distribution, and tables per rep and per source."""
        return blocks_markdown(self.to_blocks())
