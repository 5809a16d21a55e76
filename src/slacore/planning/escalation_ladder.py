"""Escalation: what follows from a history of missed shared goals.

:func:`escalation` reads a history of scorecards (or plain met/missed flags), oldest first:
how many periods in a row the shared goals have been missed, which rung of the ramifications
ladder applies (30, 60, 90 days), and whether the termination condition is reached ("goals
unmet three months running", seed 002). Meeting the goals again resets the ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from operator import attrgetter
from typing import Any

import attrs

from slacore import _arrow as arrow
from slacore.agreement import Agreement, Rung
from slacore.calendar.periods import Period, PeriodSpan
from slacore.errors import ValidationError
from slacore.planning.scorecards import Scorecard
from slacore.render import (
    Block,
    Bullets,
    Paragraph,
    Table,
    blocks_markdown,
    json_dict,
)

__all__ = ["Escalation", "EscalationStep", "PeriodVerdict", "escalation"]


@attrs.frozen(kw_only=True)
class PeriodVerdict:
    """A period's shared-goal verdict without the scorecard it came from: all the ladder
    needs of a period evaluated earlier (a report keeps those of ended periods).

    Attributes:
        span: The period.
        met: Whether the shared goals were met.

    """

    span: PeriodSpan
    met: bool

    @property
    def label(self) -> str:
        """The period's label, ``"2020-07"``."""
        return self.span.label


@attrs.frozen(kw_only=True)
class EscalationStep:
    """Where the ladder stood after one period of the history.

    Attributes:
        label: The period (``"2020-07"``, or ``"period 3"`` for a plain flag).
        met: Whether the shared goals were met.
        missed_in_a_row: Periods missed in a row up to and including this one.
        level: The rung that applies (1 = first), 0 for none.
        terminate: Whether the termination condition is reached.

    """

    label: str
    met: bool
    missed_in_a_row: int
    level: int
    terminate: bool

    def to_dict(self) -> dict[str, Any]:
        """The step, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False))


@attrs.frozen(kw_only=True)
class Escalation(arrow.TableResult):
    """The ramifications ladder after a history of periods. See :func:`escalation`.

    Attributes:
        steps: One step per period of the history, oldest first.
        rungs: The agreement's ladder.
        period: The agreement's period (what "in a row" counts).
        unmet_periods: Periods running after which the agreement ends, if it says so.

    """

    steps: tuple[EscalationStep, ...]
    rungs: tuple[Rung, ...]
    period: Period
    unmet_periods: int | None = None

    @property
    def missed_in_a_row(self) -> int:
        """Periods the shared goals have been missed in a row, up to the latest."""
        return self.steps[-1].missed_in_a_row if self.steps else 0

    @property
    def level(self) -> int:
        """The rung that applies now (1 = first), 0 for none."""
        return self.steps[-1].level if self.steps else 0

    @property
    def rung(self) -> Rung | None:
        """The rung that applies now, with its actions; ``None`` for none."""
        return self.rungs[self.level - 1] if self.level else None

    @property
    def terminate(self) -> bool:
        """Whether the termination condition is reached now."""
        return bool(self.steps) and self.steps[-1].terminate

    @property
    def first_terminated(self) -> str | None:
        """The first period of the history in which the termination condition was reached."""
        return next((step.label for step in self.steps if step.terminate), None)

    def to_arrow(self) -> Any:
        """The steps as a ``pyarrow.Table``, a row per period, oldest first: ``label``
        (string), ``met`` (bool), ``missed_in_a_row`` and ``level`` (ints), ``terminate``
        (bool).

        Raises:
            ModuleNotFoundError: pyarrow is not installed (``pip install 'slacore[arrow]'``).

        """
        return arrow.records_table(
            self.steps,
            [
                ("label", arrow.strings, attrgetter("label")),
                ("met", arrow.flags, attrgetter("met")),
                ("missed_in_a_row", arrow.integers, attrgetter("missed_in_a_row")),
                ("level", arrow.integers, attrgetter("level")),
                ("terminate", arrow.flags, attrgetter("terminate")),
            ],
        )

    def to_dict(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        rung = self.rung
        return json_dict(
            {
                "missed_in_a_row": self.missed_in_a_row,
                "level": self.level,
                "rung_after_days": None if rung is None else rung.after.days,
                "actions": [] if rung is None else list(rung.actions),
                "terminate": self.terminate,
                "unmet_periods": self.unmet_periods,
                "first_terminated": self.first_terminated,
                "steps": [step.to_dict() for step in self.steps],
            }
        )

    def explain(self) -> str:
        """The current position on the ladder, in a few sentences."""
        if not self.steps:
            return "No periods scored yet."
        latest = self.steps[-1]
        if latest.met:
            text = f"{latest.label}: shared goals met; no ramification applies."
        else:
            count = self.missed_in_a_row
            plural = self.period.value if count == 1 else f"{self.period.value}s"
            text = f"{latest.label}: shared goals missed {count} {plural} in a row"
            rung = self.rung
            if rung is None:
                text += "; no rung of the ladder applies yet."
            else:
                text += (
                    f": rung {self.level} of {len(self.rungs)} applies ({rung.title().lower()})."
                )
        if self.unmet_periods is not None:
            if self.terminate:
                text += (
                    f" The termination condition is reached: goals unmet {self.unmet_periods} "
                    f"{self.period.value}s running."
                )
            else:
                text += (
                    f" Termination after {self.unmet_periods} {self.period.value}s running: "
                    "not reached."
                )
        return text

    def to_blocks(self) -> list[Block]:
        """The explanation, the actions of the rung that applies, and the history: the blocks
        of a page (:class:`slacore.render.Page`)."""
        blocks: list[Block] = [Paragraph(self.explain())]
        rung = self.rung
        if rung is not None:
            blocks.append(Bullets(rung.actions))
        blocks.append(
            Table(
                ["period", "shared goals", "missed in a row", "rung", "terminate"],
                [
                    [
                        s.label,
                        "met" if s.met else "missed",
                        s.missed_in_a_row,
                        s.level or "",
                        "yes" if s.terminate else "",
                    ]
                    for s in self.steps
                ],
            )
        )
        return blocks

    def to_markdown(self) -> str:
        """The explanation, the actions of the rung that applies, and the history."""
        return blocks_markdown(self.to_blocks())


def escalation(
    agreement: Agreement, history: Sequence[Scorecard | PeriodVerdict | bool]
) -> Escalation:
    """Walk the ramifications ladder over a history of periods, oldest first.

    Each miss in a row climbs the ladder: the rung that applies is the last one whose length
    (30 days = 1 month) the run of misses has reached, and it stays at the top rung however
    long the run lasts. A met period resets the run and the ladder. The termination condition
    is reached while the run is at least the agreement's ``unmet_periods``.

    Args:
        agreement: Gives the ladder, the period and the termination condition.
        history: Scorecards or verdicts (their ``met``) or plain ``True``/``False`` flags,
            consecutive periods, oldest first.

    Returns:
        An :class:`Escalation`.

    Raises:
        ValidationError: An item is neither a scorecard, a verdict nor a flag, or two
            scorecards or verdicts in a row are not consecutive periods.

    """
    rungs = agreement.ramifications
    limit = None if agreement.termination is None else agreement.termination.unmet_periods
    steps: list[EscalationStep] = []
    run = 0
    previous: Scorecard | PeriodVerdict | None = None
    for index, item in enumerate(history):
        if isinstance(item, Scorecard | PeriodVerdict):
            if previous is not None and item.span.start != previous.span.end + timedelta(days=1):
                raise ValidationError(
                    message=(
                        f"the history must be consecutive periods, oldest first: "
                        f"{item.label} follows {previous.label}"
                    ),
                    field=f"history[{index}]",
                )
            met, label, previous = item.met, item.label, item
        elif isinstance(item, bool):
            met, label, previous = item, f"period {index + 1}", None
        else:
            raise ValidationError(
                message=(
                    f"expected a Scorecard, PeriodVerdict or True/False, got {type(item).__name__}"
                ),
                field=f"history[{index}]",
            )
        run = 0 if met else run + 1
        level = sum(1 for rung in rungs if rung.periods <= run)
        steps.append(
            EscalationStep(
                label=label,
                met=met,
                missed_in_a_row=run,
                level=level,
                terminate=limit is not None and run >= limit,
            )
        )
    return Escalation(steps=tuple(steps), rungs=rungs, period=agreement.period, unmet_periods=limit)
