"""What a cadence evaluation answers: a result per hand-off and the figures over them.

:meth:`~slacore.rules.cadence.CadenceRule.evaluate` gives a :class:`CadenceReport`: one
:class:`CadenceResult` per hand-off with its :class:`~slacore.rules.common.SlaStatus`, the
touches counted and the window, and a :class:`CadenceSummary` overall and per rep: counts and
the compliance share against a target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import attrs

from slacore._arrow import TableResult, pandas_of
from slacore._values import format_rate
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
from slacore.rules._engine.results import LazyResults
from slacore.rules._tables import cadence_summary_table, cadence_table
from slacore.rules.common import SlaStatus, result_sentence

if TYPE_CHECKING:
    from slacore.rules.cadence import CadenceRule

__all__ = ["CadenceReport", "CadenceResult", "CadenceSummary"]


@attrs.frozen(kw_only=True)
class CadenceResult:
    """One hand-off measured against a cadence rule.

    Attributes:
        handoff: The hand-off.
        status: Met, breached, pending, at risk, withdrawn or not applicable.
        window_end: When the window closes (``None`` when the rule does not apply).
        touches: Counted touches in the window so far (up to ``now``).
        met_at: When the last touch needed was made, for met results.
        withdrawn_at: When the lead was withdrawn, for withdrawn results.
        owner_id: The accountable rep: the owner when the cadence was met, when the window
            closed (breached), when withdrawn, or now (pending).

    """

    handoff: Handoff
    status: SlaStatus
    window_end: datetime | None = None
    touches: int = 0
    met_at: datetime | None = None
    withdrawn_at: datetime | None = None
    owner_id: str | None = None

    def _facts(self) -> list[tuple[str, object]]:
        return [
            ("touches", self.touches if self.window_end is not None else None),
            ("window ends", self.window_end),
            ("met", self.met_at),
            ("withdrawn", self.withdrawn_at),
            ("rep", self.owner_id),
        ]

    def explain(self) -> str:
        """One sentence: the lead, its status, the touches counted and the window."""
        return result_sentence(self.handoff.lead_id, self.status, self._facts())

    def to_markdown(self) -> str:
        """The explanation and the figures as a table."""
        rows = [[label, value] for label, value in self._facts() if value is not None]
        return result_markdown(self.explain(), ["", "value"], rows)

    def to_dict(self) -> dict[str, Any]:
        """The result, JSON-ready."""
        return json_dict(
            {
                "lead_id": self.handoff.lead_id,
                "status": self.status,
                "window_end": self.window_end,
                "touches": self.touches,
                "met_at": self.met_at,
                "withdrawn_at": self.withdrawn_at,
                "owner_id": self.owner_id,
            }
        )


@attrs.frozen(kw_only=True)
class CadenceSummary:
    """Counts and compliance of a group of hand-offs under a cadence rule.

    Attributes:
        eligible: Hand-offs the rule applies to.
        met, breached, pending, at_risk, withdrawn: Counts by status.
        compliance: ``met / (met + breached)``, or ``None`` with nothing decided.
        target: The rule's target share, if any.

    """

    eligible: int
    met: int
    breached: int
    pending: int
    at_risk: int
    withdrawn: int
    compliance: Fraction | None
    target: Fraction | None

    @property
    def target_met(self) -> bool | None:
        """Whether compliance reaches the target (``None`` without target or decisions)."""
        if self.target is None or self.compliance is None:
            return None
        return self.compliance >= self.target

    def explain(self) -> str:
        """One sentence: the counts by status and compliance."""
        text = (
            f"{self.eligible:,} eligible hand-offs, {self.met:,} met, {self.breached:,} "
            f"breached, {self.pending + self.at_risk:,} with the window open "
            f"({self.at_risk:,} at risk), {self.withdrawn:,} withdrawn"
        )
        if self.compliance is not None:
            text += f"; {format_rate(self.compliance)} met"
        return text + "."

    def to_markdown(self) -> str:
        """The explanation and the counts as a table."""
        return result_markdown(
            self.explain(),
            ["eligible", "met", "breached", "pending", "at risk", "withdrawn", "met %"],
            [
                [
                    self.eligible,
                    self.met,
                    self.breached,
                    self.pending,
                    self.at_risk,
                    self.withdrawn,
                    "" if self.compliance is None else format_rate(self.compliance),
                ]
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False) | {"target_met": self.target_met})


def _summarise(counts: Mapping[SlaStatus, int], target: Fraction | None) -> CadenceSummary:
    """The summary of a group from its count of hand-offs by status."""
    counts = dict.fromkeys(SlaStatus, 0) | dict(counts)
    decided = counts[SlaStatus.MET] + counts[SlaStatus.BREACHED]
    return CadenceSummary(
        eligible=sum(n for s, n in counts.items() if s is not SlaStatus.NOT_APPLICABLE),
        met=counts[SlaStatus.MET],
        breached=counts[SlaStatus.BREACHED],
        pending=counts[SlaStatus.PENDING],
        at_risk=counts[SlaStatus.AT_RISK],
        withdrawn=counts[SlaStatus.WITHDRAWN],
        compliance=Fraction(counts[SlaStatus.MET], decided) if decided else None,
        target=target,
    )


@attrs.frozen(kw_only=True)
class CadenceReport(TableResult):
    """The result of :meth:`CadenceRule.evaluate`.

    Attributes:
        rule: The rule evaluated.
        now: The moment of evaluation.
        results: One :class:`CadenceResult` per hand-off, in input order (a read-only
            sequence that builds each result when it is read).
        summary: Figures over all eligible hand-offs.
        by_rep: Figures per accountable rep, sorted by rep id.

    """

    rule: CadenceRule
    now: datetime
    results: Sequence[CadenceResult]
    summary: CadenceSummary
    by_rep: Mapping[str, CadenceSummary]

    def with_status(self, *statuses: SlaStatus | str) -> tuple[CadenceResult, ...]:
        """The results with one of ``statuses``, in input order."""
        wanted = {SlaStatus(s) for s in statuses}
        if isinstance(self.results, LazyResults):
            return self.results.with_status(wanted)  # builds only those
        return tuple(r for r in self.results if r.status in wanted)

    def to_arrow(self) -> Any:
        """The results as a ``pyarrow.Table``: a row per hand-off, in input order.

        Columns: ``lead_id``, ``stage``, ``source``, ``owner_id`` (strings); ``status``
        (dictionary of every :class:`SlaStatus`, a pandas category); ``window_end``,
        ``met_at``, ``withdrawn_at`` (``timestamp[us, tz=UTC]``); ``touches`` (int). A figure
        a result does not have is null (``touches`` is 0). Made from the evaluation's
        columns, without building the result objects. ``to_pandas()`` gives the same as a
        ``DataFrame``; ``polars.from_arrow()`` takes it.

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return cadence_table(self.results, self.rule.min_touches)

    def summary_to_arrow(self, by: str = "rep") -> Any:
        """The summaries as a ``pyarrow.Table``: a row per rep (``by="rep"``, as
        :attr:`by_rep`) or one for all (``by="all"``).

        Columns: the group (``rep`` or ``all``, a string), ``eligible``, ``met``,
        ``breached``, ``pending``, ``at_risk``, ``withdrawn`` (ints), ``compliance`` and
        ``target`` (float shares, null for none) and ``target_met`` (bool).

        Raises:
            ValidationError: ``by`` is not ``"rep"`` or ``"all"``.
            ModuleNotFoundError: pyarrow is not installed.

        """
        groups = {"rep": self.by_rep, "all": {"all": self.summary}}
        if by not in groups:
            raise ValidationError(
                message=f'expected "rep" or "all", got {by!r}', field="by", value=by
            )
        return cadence_summary_table(by, groups[by])

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
        }
        if results:
            data["results"] = [r.to_dict() for r in self.results]
        return json_dict(data)

    def explain(self) -> str:
        """Two sentences: the rule and how the eligible hand-offs stand."""
        moment = self.now.isoformat(timespec="minutes")
        return f"{self.rule.describe()} As of {moment}: {self.summary.explain()}"

    def to_blocks(self) -> list[Block]:
        """The explanation and a table per rep: the blocks of a page
        (:class:`slacore.render.Page`)."""
        rows = [
            [
                rep,
                s.eligible,
                s.met,
                s.breached,
                s.pending + s.at_risk,
                "" if s.compliance is None else format_rate(s.compliance),
            ]
            for rep, s in self.by_rep.items()
        ]
        return [
            Paragraph(self.explain()),
            Table(["rep", "eligible", "met", "breached", "open", "met %"], rows),
        ]

    def to_markdown(self) -> str:
        """The explanation and a table per rep."""
        return blocks_markdown(self.to_blocks())
