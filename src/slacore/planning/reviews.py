"""Reviews: whether the agreement is due for an early review, and when the next one is.

An early-review trigger fires when a period's conversion rate (lead-to-MQL, MQL-to-SQL
acceptance, seed 004) falls below its threshold; the review rhythm gives the next scheduled
review after a period. A :class:`~slacore.planning.scorecards.Scorecard` carries both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from typing import Any

import attrs

from slacore._values import RateLike, format_rate, to_rate
from slacore.agreement import Agreement
from slacore.errors import UnknownKeyError, ValidationError
from slacore.render import json_dict, result_markdown

__all__ = ["TriggerCheck"]


@attrs.frozen(kw_only=True)
class TriggerCheck:
    """An early-review trigger against the period's conversion rate.

    Attributes:
        name: The trigger ("lead-to-MQL conversion").
        key: ``"lead->mql"``.
        below: The threshold.
        actual: The period's rate, or ``None`` when not given.
        fired: Whether the rate is below the threshold.

    """

    name: str
    key: str
    below: Fraction
    actual: Fraction | None
    fired: bool

    def to_dict(self) -> dict[str, Any]:
        """The check, JSON-ready (rates as numbers)."""
        return json_dict(attrs.asdict(self, recurse=False))

    def explain(self) -> str:
        """One sentence: the rate against the threshold."""
        if self.actual is None:
            return (
                f"{self.name}: no rate given, so the trigger below "
                f"{format_rate(self.below)} was not checked."
            )
        verdict = "fired: an early review is due" if self.fired else "not fired"
        return (
            f"{self.name}: {format_rate(self.actual)} against a threshold of "
            f"{format_rate(self.below)}; {verdict}."
        )

    def to_markdown(self) -> str:
        """The explanation and the check as a table."""
        return result_markdown(
            self.explain(),
            ["trigger", "below", "actual", "fired"],
            [[self.name, self.below, self.actual, self.fired]],
        )


def _next_review(agreement: Agreement, after: date) -> date | None:
    review = agreement.review
    if review is None:
        return None
    anchor = review.first or review.every.shift(agreement.effective, 1)
    step = 0
    day = anchor
    while day <= after:
        step += 1
        day = review.every.shift(anchor, step)
    return day


def _triggers(
    agreement: Agreement, conversions: Mapping[str, RateLike] | None
) -> tuple[TriggerCheck, ...]:
    review = agreement.review
    triggers = () if review is None else review.triggers
    given = dict(conversions or {})
    known = [t.key for t in triggers] + [t.name for t in triggers]
    for key in given:
        if key not in known:
            raise UnknownKeyError(message=f"no review trigger {key!r}", key=key, known=tuple(known))
    found: list[TriggerCheck] = []
    for trigger in triggers:
        raw = given.get(trigger.key, given.get(trigger.name))
        actual = None
        if raw is not None:
            actual = to_rate(raw, field=f"conversions.{trigger.key}")
            if not 0 <= actual <= 1:
                raise ValidationError(
                    message=f"expected a rate between 0 and 1, got {format_rate(actual)}",
                    field=f"conversions.{trigger.key}",
                )
        found.append(
            TriggerCheck(
                name=trigger.name,
                key=trigger.key,
                below=trigger.below,
                actual=actual,
                fired=actual is not None and actual < trigger.below,
            )
        )
    return tuple(found)
