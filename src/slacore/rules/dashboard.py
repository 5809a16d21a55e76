"""The "Don't Be On It" dashboard (seed 001).

"Anytime a lead wasn't called within 24 hours, boom, your name showed up with the number of
leads that fall under that category. Anytime a lead that had been in the cycle for two weeks
wasn't called five times, then boom, that would show up on the dashboard."

:func:`dont_be_on_it` takes the reports of a response rule and (optionally) a cadence rule and
lists, per rep, the leads that breached each: most violations first.

    response = ResponseRule(within="24h", clock="calendar", counts=("call",))
    cadence = CadenceRule(min_touches=5, within="14d", channels=("call",))
    board = dont_be_on_it(response.evaluate(...), cadence.evaluate(...))
    print(board.to_markdown())
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore.calendar.duration import format_duration
from slacore.render import Block, Paragraph, Table, blocks_markdown, json_dict
from slacore.rules._engine.results import LazyResults
from slacore.rules.cadence_report import CadenceReport
from slacore.rules.response import FirstTouch, SlaStatus
from slacore.rules.response_report import ResponseReport

__all__ = ["DashboardRow", "DontBeOnIt", "dont_be_on_it"]

UNASSIGNED = "(unassigned)"


@attrs.frozen(kw_only=True)
class DashboardRow:
    """One rep on the dashboard.

    Attributes:
        rep_id: The accountable rep (``"(unassigned)"`` for leads without an owner).
        not_contacted: Leads not contacted within the response window (late or never).
        under_touched: Leads whose cadence window closed without enough touches.

    """

    rep_id: str
    not_contacted: tuple[str, ...]
    under_touched: tuple[str, ...]

    @property
    def violations(self) -> int:
        """Both counts added."""
        return len(self.not_contacted) + len(self.under_touched)


@attrs.frozen(kw_only=True)
class DontBeOnIt(arrow.TableResult):
    """Per rep, the leads that broke the response or the cadence rule; most violations first.

    Attributes:
        rows: One row per rep with at least one violation.
        response_rule: The response rule in words.
        cadence_rule: The cadence rule in words, if one was given.
        response_label: Column heading for the response breaches ("not called within 24h").
        cadence_label: Column heading for the cadence breaches, if any.

    """

    rows: tuple[DashboardRow, ...]
    response_rule: str
    cadence_rule: str | None
    response_label: str
    cadence_label: str | None

    def row(self, rep_id: str) -> DashboardRow | None:
        """The row of ``rep_id``, or ``None`` if the rep is not on the dashboard."""
        return next((r for r in self.rows if r.rep_id == rep_id), None)

    def to_arrow(self) -> Any:
        """The rows as a ``pyarrow.Table``, most violations first: ``rep_id`` (string),
        ``not_contacted`` and ``under_touched`` (lists of lead ids) and ``violations`` (int).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.table(
            {
                "rep_id": arrow.strings([r.rep_id for r in self.rows]),
                "not_contacted": arrow.string_lists([r.not_contacted for r in self.rows]),
                "under_touched": arrow.string_lists([r.under_touched for r in self.rows]),
                "violations": arrow.integers([r.violations for r in self.rows]),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The dashboard, JSON-ready."""
        return json_dict(
            {
                "response_rule": self.response_rule,
                "cadence_rule": self.cadence_rule,
                "reps": [
                    {
                        "rep_id": r.rep_id,
                        "not_contacted": len(r.not_contacted),
                        "under_touched": len(r.under_touched),
                        "violations": r.violations,
                        "not_contacted_leads": list(r.not_contacted),
                        "under_touched_leads": list(r.under_touched),
                    }
                    for r in self.rows
                ],
            }
        )

    def explain(self) -> str:
        """One sentence: how many reps are on the dashboard, and who is worst."""
        if not self.rows:
            return "Nobody is on the dashboard: every lead was contacted and worked in time."
        worst = self.rows[0]
        count = len(self.rows)
        return (
            f"{count} {'rep is' if count == 1 else 'reps are'} on the dashboard "
            f"({self.response_rule}); {worst.rep_id} is worst with {worst.violations} "
            f"{'violation' if worst.violations == 1 else 'violations'}."
        )

    def to_blocks(self, *, max_ids: int = 10) -> list[Block]:
        """A table: rep, the two counts, and the lead ids (the first ``max_ids`` of each); the
        explanation alone when nobody is on the dashboard. The blocks of a page
        (:class:`slacore.render.Page`)."""
        if not self.rows:
            return [Paragraph(self.explain())]

        def ids(leads: tuple[str, ...]) -> str:
            shown = ", ".join(leads[:max_ids])
            more = len(leads) - max_ids
            return f"{shown} (+{more} more)" if more > 0 else shown

        header = ["rep", self.response_label]
        if self.cadence_label is not None:
            header.append(self.cadence_label)
        header.append("leads")
        rows: list[list[Any]] = []
        for r in self.rows:
            row: list[Any] = [r.rep_id, len(r.not_contacted)]
            if self.cadence_label is not None:
                row.append(len(r.under_touched))
            row.append(ids(r.not_contacted + r.under_touched))
            rows.append(row)
        return [Table(header, rows)]

    def to_markdown(self, *, max_ids: int = 10) -> str:
        """A table: rep, the two counts, and the lead ids (the first ``max_ids`` of each)."""
        return blocks_markdown(self.to_blocks(max_ids=max_ids))


def _breached(report: ResponseReport | CadenceReport) -> list[tuple[str | None, str]]:
    """The accountable rep and the lead id of each breached result, in input order; from
    an evaluation's figures when it has them, without building a result object each."""
    if isinstance(report.results, LazyResults):
        return report.results.accountable_leads({SlaStatus.BREACHED})
    return [(r.owner_id, r.handoff.lead_id) for r in report.with_status(SlaStatus.BREACHED)]


def dont_be_on_it(response: ResponseReport, cadence: CadenceReport | None = None) -> DontBeOnIt:
    """Build the "Don't Be On It" dashboard from a response and a cadence report.

    A lead is on the dashboard under its accountable rep (the owner when the deadline passed)
    when its response result is breached, or when its cadence window closed without enough
    touches. Pending, withdrawn and not-applicable leads are not on it.

    Args:
        response: The report of the response rule (e.g. "called within 24 hours").
        cadence: The report of the cadence rule (e.g. "5 calls within 14 days"), if any.

    Returns:
        A :class:`DontBeOnIt`, reps with most violations first, then by rep id.

    """
    late: dict[str, list[str]] = defaultdict(list)
    short: dict[str, list[str]] = defaultdict(list)
    for owner, lead in _breached(response):
        late[owner or UNASSIGNED].append(lead)
    if cadence is not None:
        for owner, lead in _breached(cadence):
            short[owner or UNASSIGNED].append(lead)
    rows = [
        DashboardRow(rep_id=rep, not_contacted=tuple(late[rep]), under_touched=tuple(short[rep]))
        for rep in set(late) | set(short)
    ]
    rows.sort(key=lambda r: (-r.violations, r.rep_id))
    stop = response.rule.stop_event
    window = format_duration(response.rule.within)
    if isinstance(stop, FirstTouch):
        kinds = [c.value for c in stop.channels]
        listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
        response_label = f"no {listed} within {window}"
    else:
        response_label = f"not done within {window}"
    cadence_label = None
    if cadence is not None:
        rule = cadence.rule
        names = " or ".join(c.value for c in rule.channels)
        cadence_label = f"fewer than {rule.min_touches} {names}s in {format_duration(rule.within)}"
    return DontBeOnIt(
        rows=tuple(rows),
        response_rule=response.rule.describe(),
        cadence_rule=None if cadence is None else cadence.rule.describe(),
        response_label=response_label,
        cadence_label=cadence_label,
    )
