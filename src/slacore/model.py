"""The domain model: lead stages, leads, hand-offs, touches, deals and reps.

All of these are frozen, slotted attrs classes validated on construction. Times are
timezone-aware ``datetime`` objects (naive input raises :class:`~slacore.errors.ValidationError`)
in the years 1900 to 2099 in UTC (a time outside them is a placeholder such as
``0001-01-01`` or ``9999-12-31``, and raises it too), money is :class:`~decimal.Decimal`, and
records refer to each other by id (``lead_id``, ``owner_id``) so that a million of them stay
cheap.

Record identity is stated here and nowhere else. Each record class names the fields that
identify it, its ``KEY_FIELDS``: :func:`natural_key` gives their values and says when two
records are versions of one. The first key field is the record's id in the source system,
its own (``id``: leads, deals, reps) or its lead's (``lead_id``: the events of a lead);
:func:`id_field` names it, and errors and rejected records name a record by it. When the id
is the whole key (:func:`id_is_key`), one export holds each id once, so a repeat is a
duplicate; events of one lead share its id.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import attrs

from slacore._values import aware, flag, identifier, non_negative, to_money
from slacore.errors import UnknownKeyError, ValidationError

__all__ = [
    "STANDARD_LADDER",
    "Channel",
    "Deal",
    "Handoff",
    "Lead",
    "LeadStage",
    "OwnerChange",
    "Rep",
    "StageChange",
    "StageLadder",
    "Team",
    "Touch",
    "id_field",
    "id_is_key",
    "natural_key",
]


class Team(enum.StrEnum):
    """The two parties to the agreement."""

    MARKETING = "marketing"
    SALES = "sales"


class Channel(enum.StrEnum):
    """How a rep touched a lead."""

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    OTHER = "other"


def _team(value: Team | str, field: str = "team") -> Team:
    try:
        return Team(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise ValidationError(
            message=f"expected one of {', '.join(t.value for t in Team)}, got {value!r}",
            field=field,
            value=value,
        ) from None


def _optional_team(value: Team | str | None) -> Team | None:
    return None if value is None else _team(value)


def _from_team(value: Team | str) -> Team:
    return _team(value, "from_team")


def _to_team(value: Team | str) -> Team:
    return _team(value, "to_team")


def _owner_team(value: Team | str) -> Team:
    return _team(value, "owner")


def _channel(value: Channel | str) -> Channel:
    try:
        return Channel(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise ValidationError(
            message=f"expected one of {', '.join(c.value for c in Channel)}, got {value!r}",
            field="channel",
            value=value,
        ) from None


def _amount(value: Decimal | int | str | float) -> Decimal:
    return to_money(value, field="amount")


def _not_before(earlier: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Validator: this time field is not before the ``earlier`` field."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        start = getattr(instance, earlier)
        # Compared in UTC: two times of one zone compare by wall clock in Python, wrongly in
        # the repeated hour of a fall-back night.
        if (
            isinstance(value, datetime)
            and isinstance(start, datetime)
            and value.astimezone(UTC) < start.astimezone(UTC)
        ):
            raise ValidationError(
                message=f"{value.isoformat()} is before {earlier} {start.isoformat()}",
                field=attribute.name,
                value=value,
                record_id=getattr(instance, "id", None),
            )

    return check


@attrs.frozen(kw_only=True)
class LeadStage:
    """One stage of the lead life cycle both teams agree on (seed 004's "lead stages").

    Attributes:
        key: A short identifier used in data and rules, e.g. ``"mql"``.
        label: The human name, e.g. ``"Marketing qualified lead"``.
        order: Position in the ladder; lower comes first.
        owner: The team that owns leads in this stage.
        definition: What makes a lead belong to this stage, in words.
        handoff_trigger: What moves a lead into this stage, in words (e.g. "requests a demo").

    """

    key: str = attrs.field(validator=identifier)
    label: str
    order: int
    owner: Team = attrs.field(converter=_owner_team)
    definition: str = ""
    handoff_trigger: str = ""


def _in_order(stages: Iterable[LeadStage]) -> tuple[LeadStage, ...]:
    return tuple(sorted(stages, key=lambda stage: stage.order))


@attrs.frozen
class StageLadder:
    """An ordered set of :class:`LeadStage` objects with unique keys.

    The standard ladder is :data:`STANDARD_LADDER`; build your own to rename, drop or add
    stages, or derive one with :meth:`with_stage` and :meth:`without`.

    Raises:
        ValidationError: Two stages share a key or an order, or the ladder is empty.

    """

    stages: tuple[LeadStage, ...] = attrs.field(converter=_in_order)

    @stages.validator
    def _check(
        self, attribute: attrs.Attribute[tuple[LeadStage, ...]], value: tuple[LeadStage, ...]
    ) -> None:
        if not value:
            raise ValidationError(message="a stage ladder needs at least one stage", field="stages")
        seen_keys: set[str] = set()
        seen_orders: set[int] = set()
        for stage in value:
            if stage.key in seen_keys:
                raise ValidationError(
                    message=f"stage key {stage.key!r} appears twice", field="stages"
                )
            if stage.order in seen_orders:
                raise ValidationError(
                    message=f"stage order {stage.order} is used by two stages", field="stages"
                )
            seen_keys.add(stage.key)
            seen_orders.add(stage.order)

    @classmethod
    def standard(cls) -> StageLadder:
        """The standard ladder: subscriber, lead, MQL, SAL, SQL, opportunity, customer."""
        return STANDARD_LADDER

    def __iter__(self) -> Iterator[LeadStage]:
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    def __contains__(self, key: object) -> bool:
        return any(stage.key == key for stage in self.stages)

    @property
    def keys(self) -> tuple[str, ...]:
        """The stage keys, in order."""
        return tuple(stage.key for stage in self.stages)

    def get(self, key: str) -> LeadStage:
        """Return the stage with ``key``.

        Raises:
            UnknownKeyError: No stage has that key.

        """
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise UnknownKeyError(message=f"no lead stage {key!r}", key=key, known=self.keys)

    def index(self, key: str) -> int:
        """Position of stage ``key`` in the ladder, from 0."""
        return self.stages.index(self.get(key))

    def is_before(self, first: str, second: str) -> bool:
        """Whether stage ``first`` comes before stage ``second``."""
        return self.index(first) < self.index(second)

    def with_stage(self, stage: LeadStage) -> StageLadder:
        """A new ladder with ``stage`` added, or replacing the stage with the same key."""
        kept = [s for s in self.stages if s.key != stage.key]
        return StageLadder([*kept, stage])

    def without(self, key: str) -> StageLadder:
        """A new ladder without stage ``key``."""
        self.get(key)
        return StageLadder([s for s in self.stages if s.key != key])

    def handoffs(self) -> Iterable[tuple[LeadStage, LeadStage]]:
        """The consecutive pairs of stages where ownership changes team."""
        return [
            (a, b) for a, b in zip(self.stages, self.stages[1:], strict=False) if a.owner != b.owner
        ]


STANDARD_LADDER = StageLadder(
    [
        LeadStage(
            key="subscriber",
            label="Subscriber",
            order=10,
            owner=Team.MARKETING,
            definition="Opted in to hear from us (blog, newsletter); no buying signal yet.",
            handoff_trigger="subscribes",
        ),
        LeadStage(
            key="lead",
            label="Lead",
            order=20,
            owner=Team.MARKETING,
            definition="Gave contact details in exchange for content or an event.",
            handoff_trigger="converts on a form",
        ),
        LeadStage(
            key="mql",
            label="Marketing qualified lead",
            order=30,
            owner=Team.MARKETING,
            definition="Fits a buyer persona and shows enough intent for sales to review.",
            handoff_trigger="reaches the agreed fit and intent score, or raises a hand",
        ),
        LeadStage(
            key="sal",
            label="Sales accepted lead",
            order=40,
            owner=Team.SALES,
            definition="Sales has reviewed the MQL and accepted it for follow-up.",
            handoff_trigger="a rep accepts the MQL",
        ),
        LeadStage(
            key="sql",
            label="Sales qualified lead",
            order=50,
            owner=Team.SALES,
            definition="Sales has confirmed need, budget and timing in a conversation.",
            handoff_trigger="a rep qualifies the lead in a call",
        ),
        LeadStage(
            key="opportunity",
            label="Opportunity",
            order=60,
            owner=Team.SALES,
            definition="A deal is open in the CRM.",
            handoff_trigger="a deal is created",
        ),
        LeadStage(
            key="customer",
            label="Customer",
            order=70,
            owner=Team.SALES,
            definition="Has bought.",
            handoff_trigger="a deal is won",
        ),
    ]
)
"""The standard ladder: subscriber -> lead -> MQL -> SAL -> SQL -> opportunity -> customer."""


@attrs.frozen(kw_only=True)
class Rep:
    """A person on either team who owns or works leads.

    Attributes:
        id: The rep's id in the source system.
        name: Display name.
        email: Email address, if known.
        team: Which team the rep belongs to (default sales).
        active: Whether the rep currently takes leads.

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id",)
    """The natural key: its id (see :func:`natural_key`)."""

    id: str = attrs.field(validator=identifier)
    name: str = ""
    email: str | None = None
    team: Team = attrs.field(default=Team.SALES, converter=_team)
    active: bool = True


@attrs.frozen(kw_only=True)
class Lead:
    """A person (or account) marketing generated, as the CRM knows it.

    Attributes:
        id: The lead's id in the source system.
        created_at: When the lead was created (aware).
        source: Where it came from (``"referral"``, ``"webinar"``, ...), for lead value by source.
        segment: The segment it belongs to (e.g. persona x action), for calibration.
        owner_id: The rep who owns it now, if any.
        stage: The key of its current :class:`LeadStage`, if known.
        hand_raiser: Whether it asked for sales follow-up (demo or contact request).

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id",)
    """The natural key: its id (see :func:`natural_key`)."""

    id: str = attrs.field(validator=identifier)
    created_at: datetime = attrs.field(validator=aware)
    source: str | None = None
    segment: str | None = None
    owner_id: str | None = attrs.field(default=None, validator=identifier)
    stage: str | None = None
    hand_raiser: bool = attrs.field(default=False, validator=flag)


@attrs.frozen(kw_only=True)
class StageChange:
    """A lead moving from one stage to another at a moment in time.

    Attributes:
        lead_id: The lead that moved.
        to_stage: The stage key it moved into.
        at: When (aware).
        from_stage: The stage key it left, if known.
        owner_id: The lead's owner after the change, if known.

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("lead_id", "at", "to_stage")
    """The natural key: the lead, the moment and the stage entered (see :func:`natural_key`)."""

    lead_id: str = attrs.field(validator=identifier)
    to_stage: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(validator=aware)
    from_stage: str | None = None
    owner_id: str | None = attrs.field(default=None, validator=identifier)


@attrs.frozen(kw_only=True)
class OwnerChange:
    """A lead assigned to a (new) owner at a moment in time.

    Response and cadence rules use these to hold the right rep to account: a breach counts
    against the owner who held the lead when the deadline passed.

    Attributes:
        lead_id: The lead reassigned.
        owner_id: Its owner from ``at`` on.
        at: When (aware).

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("lead_id", "at")
    """The natural key: the lead and the moment (see :func:`natural_key`)."""

    lead_id: str = attrs.field(validator=identifier)
    owner_id: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(validator=aware)


@attrs.frozen(kw_only=True)
class Handoff:
    """A lead passed from one team to the other: the moment an SLA clock can start.

    The response clock starts at ``notified_at``, when the rep was told of the lead, not when
    the lead was created (seed 000).

    Attributes:
        lead_id: The lead handed off.
        notified_at: When the receiving rep was notified (aware).
        stage: The stage key the lead entered with the hand-off (e.g. ``"mql"``).
        owner_id: The rep the lead was handed to, if assigned.
        from_team: The team handing the lead over (default marketing).
        to_team: The team receiving it (default sales).
        source: The lead's source, for rules and lead value by source.
        segment: The lead's segment.
        hand_raiser: Whether the lead asked for follow-up (only those count for seed 000's
            response rule).

    Raises:
        ValidationError: ``from_team`` equals ``to_team``, a time is naive, an id is empty.

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("lead_id", "notified_at", "stage")
    """The natural key: the lead, the moment and the stage handed off (see :func:`natural_key`)."""

    lead_id: str = attrs.field(validator=identifier)
    notified_at: datetime = attrs.field(validator=aware)
    stage: str = attrs.field(validator=identifier)
    owner_id: str | None = attrs.field(default=None, validator=identifier)
    from_team: Team = attrs.field(default=Team.MARKETING, converter=_from_team)
    to_team: Team = attrs.field(default=Team.SALES, converter=_to_team)
    source: str | None = None
    segment: str | None = None
    hand_raiser: bool = attrs.field(default=False, validator=flag)

    @to_team.validator
    def _check_teams(self, attribute: attrs.Attribute[Team], value: Team) -> None:
        if value == self.from_team:
            raise ValidationError(
                message=f"a hand-off goes from one team to the other, got {value} to {value}",
                field="to_team",
                value=value,
                record_id=self.lead_id,
            )


@attrs.frozen(kw_only=True)
class Touch:
    """A rep's attempt to reach a lead: a call, an email, a meeting.

    Attributes:
        lead_id: The lead touched.
        rep_id: The rep who made the touch.
        at: When (aware).
        channel: ``call``, ``email``, ``meeting`` or ``other``.

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("lead_id", "rep_id", "at", "channel")
    """The natural key: the lead, the rep, the moment and the channel (see :func:`natural_key`)."""

    lead_id: str = attrs.field(validator=identifier)
    rep_id: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(validator=aware)
    channel: Channel = attrs.field(converter=_channel)


@attrs.frozen(kw_only=True)
class Deal:
    """A sales opportunity, and its outcome once closed.

    Attributes:
        id: The deal's id in the source system.
        lead_id: The lead it came from, if known.
        amount: Its value (Decimal; ints, floats and strings are converted; never negative).
        opened_at: When it was opened (aware).
        closed_at: When it was closed, or ``None`` while open.
        won: Whether it was won. A won deal must have ``closed_at``.
        owner_id: The rep who owns it, if known.

    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id",)
    """The natural key: its id (see :func:`natural_key`)."""

    id: str = attrs.field(validator=identifier)
    amount: Decimal = attrs.field(converter=_amount, validator=non_negative)
    opened_at: datetime = attrs.field(validator=aware)
    lead_id: str | None = attrs.field(default=None, validator=identifier)
    closed_at: datetime | None = attrs.field(
        default=None, validator=[aware, _not_before("opened_at")]
    )
    won: bool = attrs.field(default=False)
    owner_id: str | None = attrs.field(default=None, validator=identifier)

    @won.validator
    def _check_won(self, attribute: attrs.Attribute[bool], value: bool) -> None:
        flag(self, attribute, value)
        if value and self.closed_at is None:
            raise ValidationError(
                message="a won deal needs closed_at",
                field="closed_at",
                record_id=self.id,
            )

    @property
    def is_open(self) -> bool:
        """Whether the deal is still open."""
        return self.closed_at is None


_Record: TypeAlias = Lead | StageChange | Handoff | Touch | Deal | Rep | OwnerChange


def natural_key(record: _Record) -> tuple[Any, ...]:
    """What identifies a record: the values of its class's ``KEY_FIELDS``, in order.

    Two records with equal keys are two versions of one record (a lead whose stage moved, a
    deal now won); a store keeps one current version per key and source. Times compare as
    instants, so one moment written in two time zones is one key.

    >>> from datetime import datetime, timezone, timedelta
    >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> paris = at.astimezone(timezone(timedelta(hours=1)))
    >>> natural_key(Touch(lead_id="L1", rep_id="R1", at=at, channel="call")) == natural_key(
    ...     Touch(lead_id="L1", rep_id="R1", at=paris, channel="call")
    ... )
    True
    """
    return tuple(getattr(record, name) for name in record.KEY_FIELDS)


def id_field(record_type: type[_Record]) -> str:
    """The field that names a record of ``record_type``: the first of its ``KEY_FIELDS``.

    It is the record's id in the source system: its own ``id`` for leads, deals and reps,
    its lead's ``lead_id`` for stage changes, hand-offs, touches and owner changes. A rejected
    record and an error name the record by its value.

    >>> id_field(Deal), id_field(Touch)
    ('id', 'lead_id')
    """
    return record_type.KEY_FIELDS[0]


def id_is_key(record_type: type[_Record]) -> bool:
    """Whether the id (:func:`id_field`) alone is the natural key of ``record_type``.

    It is for leads, deals and reps: one export lists each of them once, so a second record
    with an id already read is a duplicate. The events of a lead (stage changes, hand-offs,
    touches, owner changes) share their lead's id, and a repeat is no error.

    >>> id_is_key(Lead), id_is_key(Touch)
    (True, False)
    """
    return len(record_type.KEY_FIELDS) == 1
