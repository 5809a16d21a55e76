"""What the clock rules (response and cadence) share: their statuses and clocks, the fields
both take, and the accountability rules.

The accountability rules, in words:

- **Withdrawal** (:func:`withdraws`): a hand-off is withdrawn when, after the rep was notified,
  the lead moves into one of the rule's ``withdraw_on`` stages (disqualified, unqualified,
  recycled by default) or back to a stage before the hand-off's own in the stage ladder
  (returned to marketing). A withdrawal counts only before the due time (or the window's
  end): withdrawing a lead after its deadline does not excuse a breach, and a response made
  before the withdrawal still decides the result.
- **Accountable rep** (:func:`owner_at`): each result names the lead's owner at the moment
  that decided it: when the clock stopped (met), when the deadline passed (breached), when the
  lead was withdrawn, or now (still open). The owner at a moment is the one given by the last
  reassignment at or before it, else the hand-off's owner.
- **Stage changes that matter** (:func:`moves_that_matter`): only moves that can withdraw a
  hand-off, or that stop a clock, change a result; a lead accepted or qualified is measured as
  if it had not moved.

Times are compared as the instants they name (see :func:`instant`), so that the hour a zone
repeats when clocks go back orders right.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

from slacore._values import RateLike, format_rate, to_rate
from slacore.calendar.duration import format_duration, parse_duration
from slacore.errors import ValidationError
from slacore.model import (
    Channel,
    Handoff,
    OwnerChange,
    StageLadder,
)
from slacore.rules.eligibility import Eligibility


class SlaStatus(enum.StrEnum):
    """Where one hand-off stands against a rule."""

    MET = "met"
    """The clock stopped in time."""
    BREACHED = "breached"
    """The clock stopped late, or the due time passed without it stopping."""
    PENDING = "pending"
    """The clock is still running and the due time is not near."""
    AT_RISK = "at_risk"
    """The clock is still running and most of the window is gone."""
    WITHDRAWN = "withdrawn"
    """The lead went back to marketing or was disqualified before its due time."""
    NOT_APPLICABLE = "not_applicable"
    """The rule does not cover this hand-off."""


class Clock(enum.StrEnum):
    """How a rule's window is measured."""

    BUSINESS = "business"
    """In working time of the rule's :class:`~slacore.calendar.BusinessCalendar`."""
    CALENDAR = "calendar"
    """In plain elapsed time, nights and weekends included."""


class Never(enum.Enum):
    """The response time of a lead never contacted: slower than any time.

    A percentile of response times is :data:`NEVER` when it falls among such leads. Its
    ``str()`` (and its JSON value) is ``"never"``.
    """

    NEVER = "never"

    def __str__(self) -> str:
        return self.value


NEVER = Never.NEVER
"""The one :class:`Never` value: test with ``p90 is NEVER``."""


def to_channels(values: Iterable[Channel | str]) -> tuple[Channel, ...]:
    """The touch channels that count, from channels or their names (any case), in the order
    given and without repeats.

    Raises:
        ValidationError: An unknown channel, or none at all.

    """
    result: list[Channel] = []
    for value in values:
        try:
            result.append(Channel(value.lower() if isinstance(value, str) else value))
        except ValueError:
            raise ValidationError(
                message=f"expected channels among call, email, meeting, other, got {value!r}",
                field="counts",
                value=value,
            ) from None
    if not result:
        raise ValidationError(message="name at least one channel that counts", field="counts")
    return tuple(dict.fromkeys(result))


def to_window(value: timedelta | str) -> timedelta:
    """A rule's window, from a ``timedelta`` or a duration such as ``"1h"`` or ``"14d"``.

    Raises:
        ValidationError: Not a positive duration.

    """
    return parse_duration(value, field="within")


def to_share(value: RateLike) -> Fraction:
    """The share of the window after which an open clock is at risk (``0.8``, ``"80%"``),
    exact: above 0 and at most 1.

    Raises:
        ValidationError: Not a share in that range.

    """
    share = to_rate(value, field="at_risk_at")
    if not 0 < share <= 1:
        raise ValidationError(
            message=f"expected a share above 0 and at most 1, got {format_rate(share)}",
            field="at_risk_at",
        )
    return share


def to_target(value: RateLike | None) -> Fraction | None:
    """A rule's target share of hand-offs met (``0.9``, ``"90%"``), exact, or ``None`` for no
    target.

    Raises:
        ValidationError: Not a share between 0 and 1.

    """
    if value is None:
        return None
    share = to_rate(value, field="target")
    if not 0 <= share <= 1:
        raise ValidationError(
            message=f"expected a share between 0 and 1, got {format_rate(share)}", field="target"
        )
    return share


def to_stages(values: Iterable[str]) -> tuple[str, ...]:
    """The stage keys that withdraw a hand-off, as a tuple."""
    return tuple(values)


def aware_now(now: datetime | None) -> datetime:
    """The moment of an evaluation: ``now``, or the current time in UTC for ``None``.

    Raises:
        ValidationError: ``now`` is not a timezone-aware datetime.

    """
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError(
            message=f"expected a timezone-aware datetime, got {now!r}", field="now", value=now
        )
    return now


def to_clock(value: Clock | str) -> Clock:
    """A rule's clock, from a :class:`Clock` or its name (``"business"``, ``"calendar"``).

    Raises:
        ValidationError: Another name.

    """
    try:
        return Clock(value)
    except ValueError:
        raise ValidationError(
            message=f'expected "business" or "calendar", got {value!r}', field="clock"
        ) from None


def check_rule(*, needs_calendar: bool, calendar: object, applies_to: object) -> None:
    """The checks every clock rule makes on construction.

    Raises:
        ValidationError: The business clock without a calendar, or ``applies_to`` is not a
            selector.

    """
    if needs_calendar and calendar is None:
        raise ValidationError(
            message='the business clock needs a calendar (or use clock="calendar")',
            field="calendar",
        )
    if not isinstance(applies_to, Eligibility):
        raise ValidationError(
            message="expected a selector from slacore.rules.eligibility, e.g. hand_raisers()",
            field="applies_to",
            value=applies_to,
        )


def instant(at: datetime) -> datetime:
    """``at`` as a datetime that compares by the instant it names.

    Python compares two datetimes that share a ``tzinfo`` object by their wall clocks and
    ignores ``fold``: in a zone's fall-back hour, 01:10 EST (the later instant) sorts before
    01:30 EDT. Fixed offsets (``timezone.utc`` and the like) have no such hour and are kept as
    they are; other zones are converted to UTC.
    """
    return at if type(at.tzinfo) is timezone else at.astimezone(UTC)


def owner_at(handoff: Handoff, changes: Sequence[OwnerChange], moment: datetime) -> str | None:
    """The lead's owner at ``moment``: the owner given by the last reassignment at or before
    ``moment``, else the hand-off's owner.

    Args:
        handoff: The hand-off, whose ``owner_id`` holds until the first reassignment.
        changes: The lead's reassignments, in time order.
        moment: The moment that decided the result (see the module's accountability rules).

    Returns:
        The owner's rep id, or ``None`` when the lead had no owner then.

    """
    owner = handoff.owner_id
    moment = instant(moment)
    for change in changes:
        if instant(change.at) > moment:
            break
        owner = change.owner_id
    return owner


def withdraws(
    handoff: Handoff, stage: str, withdraw_on: tuple[str, ...], ladder: StageLadder
) -> bool:
    """Whether the lead moving into ``stage`` withdraws ``handoff``.

    It does when ``stage`` is one of ``withdraw_on`` (disqualified, say), or when both
    ``stage`` and the hand-off's own stage are in ``ladder`` and ``stage`` comes before it
    (returned to marketing). Whether the move came in time (before the due time) is for the
    rule to decide.

    Args:
        handoff: The hand-off.
        stage: The stage key the lead moves into.
        withdraw_on: The rule's withdrawing stage keys.
        ladder: The stage ladder, for "moved back".

    """
    if stage in withdraw_on:
        return True
    if stage in ladder and handoff.stage in ladder:
        return ladder.is_before(stage, handoff.stage)
    return False


def moves_that_matter(
    handoffs: Iterable[Handoff],
    withdraw_on: tuple[str, ...],
    ladder: StageLadder,
    also: Iterable[str] = (),
) -> frozenset[str]:
    """The stage keys a move into which can withdraw one of ``handoffs`` (see
    :func:`withdraws`), with ``also`` (the stages that stop a clock).

    A lead's other moves (accepted, qualified) change nothing for a clock rule: leaving them
    out keeps such leads off the one-at-a-time path.
    """
    return stages_that_matter({h.stage for h in handoffs}, withdraw_on, ladder, also)


def stages_that_matter(
    stages: Iterable[str],
    withdraw_on: tuple[str, ...],
    ladder: StageLadder,
    also: Iterable[str] = (),
) -> frozenset[str]:
    """:func:`moves_that_matter` for hand-offs into ``stages``."""
    keys = ladder.keys
    placed = [stage for stage in stages if stage in keys]
    back = {key for key in keys if any(ladder.is_before(key, stage) for stage in placed)}
    return frozenset(withdraw_on).union(back, also)


def result_sentence(lead_id: str, status: SlaStatus, facts: Iterable[tuple[str, object]]) -> str:
    """One hand-off's result in words: ``"Lead L1: met (due 2026-06-01 10:00, ...)."``.

    ``facts`` are ``(label, value)`` pairs; those whose value is ``None`` are left out, times
    are shown to the minute with their offset, durations as ``"1h 5m"``.
    """
    shown = []
    for label, value in facts:
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat(sep=" ", timespec="minutes")
        elif isinstance(value, timedelta):
            value = format_duration(value)
        shown.append(f"{label} {value}")
    detail = f" ({'; '.join(shown)})" if shown else ""
    return f"Lead {lead_id}: {status.value.replace('_', ' ')}{detail}."
