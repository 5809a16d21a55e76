"""Rewards: whether a period's verdict earns the agreement's pool and its annual reward.

The pool is earned when the shared goals are met and the period's revenue is known; the
annual reward when the goals are met and the year's revenue reaches the annual goal. A
:class:`~slacore.planning.scorecards.Scorecard` carries these checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from slacore.agreement import Agreement
from slacore.render import format_money, json_dict, result_markdown

if TYPE_CHECKING:
    from slacore.planning.scorecards import ScoreLine

__all__ = ["RewardCheck"]


@attrs.frozen(kw_only=True)
class RewardCheck:
    """Whether a reward is earned.

    Attributes:
        name: ``"pool"`` or ``"annual"``.
        description: The reward in words.
        amount: The money, for a pool.
        earned: Whether it is earned.
        reason: Why (or why not), in words.

    """

    name: str
    description: str
    amount: Decimal | None
    earned: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The check, JSON-ready."""
        return json_dict(attrs.asdict(self, recurse=False))

    def explain(self) -> str:
        """One sentence: whether the reward is earned, and why."""
        return f"{self.reason}."

    def to_markdown(self) -> str:
        """The explanation and the check as a table."""
        return result_markdown(
            self.explain(),
            ["reward", "amount", "earned", "reason"],
            [[self.name, self.amount, self.earned, self.reason]],
        )


def _rewards(
    agreement: Agreement, met: bool, lines: Mapping[str, ScoreLine]
) -> tuple[RewardCheck, ...]:
    rewards = agreement.rewards
    if rewards is None:
        return ()
    found: list[RewardCheck] = []
    revenue = lines.get("goals.revenue")
    if rewards.pool is not None:
        pool = format_money(rewards.pool)
        if not met:
            earned, reason = False, f"The {pool} pool is not earned: shared goals missed"
        elif revenue is not None and revenue.met is None:
            earned, reason = False, f"The {pool} pool waits for the period's revenue"
        else:
            earned, reason = True, f"The {pool} pool is earned"
        found.append(
            RewardCheck(
                name="pool",
                description=f"a pool of {pool} shared by both teams",
                amount=rewards.pool,
                earned=earned,
                reason=reason,
            )
        )
    year = lines.get("goals.annual_revenue")
    if rewards.annual and year is not None:
        earned = bool(met and year.met)
        found.append(
            RewardCheck(
                name="annual",
                description=rewards.annual,
                amount=None,
                earned=earned,
                reason=(
                    f"The annual reward ({rewards.annual}) is "
                    + ("earned" if earned else "not earned")
                ),
            )
        )
    return tuple(found)
