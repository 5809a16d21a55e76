"""What the clock rules (response, cadence) share: the status and clock enums, the
converters and checks of their fields, and the accountability rules (who owns a lead when, and
which stage changes withdraw a hand-off).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

from slacore._values import RateLike, format_rate, to_rate
from slacore.calendar.duration import parse_duration
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


def to_channels(values: Iterable[Channel | str]) -> tuple[Channel, ...]:
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
    return parse_duration(value, field="within")


def to_share(value: RateLike) -> Fraction:
    share = to_rate(value, field="at_risk_at")
    if not 0 < share <= 1:
        raise ValidationError(
            message=f"expected a share above 0 and at most 1, got {format_rate(share)}",
            field="at_risk_at",
        )
    return share


def to_target(value: RateLike | None) -> Fraction | None:
    if value is None:
        return None
    share = to_rate(value, field="target")
    if not 0 <= share <= 1:
        raise ValidationError(
            message=f"expected a share between 0 and 1, got {format_rate(share)}", field="target"
        )
    return share


def to_stages(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def aware_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError(
            message=f"expected a timezone-aware datetime, got {now!r}", field="now", value=now
        )
    return now


def _clock(value: Clock | str) -> Clock:
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
    """The lead's owner at ``moment``: the last reassignment by then, else the hand-off's."""
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
    """Whether moving into ``stage`` withdraws the hand-off: a withdrawing stage, or back
    to a stage before the hand-off's own in the ladder (returned to marketing)."""
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
    stages = {h.stage for h in handoffs}
    keys = ladder.keys
    placed = [stage for stage in stages if stage in keys]
    back = {key for key in keys if any(ladder.is_before(key, stage) for stage in placed)}
    return frozenset(withdraw_on).union(back, also)
