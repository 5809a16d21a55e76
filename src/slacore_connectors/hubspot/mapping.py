"""HubSpot's CRM objects, as its API answers them, mapped onto slacore's core objects.

Pure functions, no network: the client fetches pages, these read them.

- :func:`map_contact`: a contact gives a :class:`~slacore.model.Lead`, its
  :class:`~slacore.model.StageChange` s (from ``propertiesWithHistory.lifecyclestage``, or
  without history from the time each stage was entered, ``hs_v2_date_entered_<stage>``,
  falling back to ``hs_lifecyclestage_<stage>_date``), its :class:`~slacore.model.OwnerChange` s
  (from the ``hubspot_owner_id`` history) and its :class:`~slacore.model.Handoff` s (see
  :class:`HandoffClock`).
- :func:`map_engagement`: a call, a sent email or a meeting gives a
  :class:`~slacore.model.Touch` per contact it is associated with.
- :func:`map_deal`: a deal gives a :class:`~slacore.model.Deal`; won or lost comes from the
  pipeline's stage metadata (:func:`deal_stages`) or ``hs_is_closed``/``hs_is_closed_won``.
- :func:`map_owner`: an owner, archived ones too, gives a :class:`~slacore.model.Rep`.

Nothing is silent: each object gives its records (a :class:`Mapped`) or one
:class:`~slacore.connector.RejectedRecord` naming the object's id, the HubSpot property at
fault and the reason. A contact is mapped whole or rejected whole, as are the others: its
records share its values, and half a contact would be a wrong one.

Times: HubSpot writes ISO 8601 strings (with or without milliseconds, ``Z`` or an offset) in
v3 properties and history, and epoch milliseconds in its older answers (numbers, or strings
of digits). :func:`parse_time` reads both and gives aware UTC times; see it for what is
refused. HubSpot's property values are all strings (``amount: "3000"``), an empty one
``null``.

The settings of the mapping are :class:`HubSpotMapping` (schema :data:`MAPPING_SETTINGS`);
:func:`properties` lists the properties each object type needs, so the client asks only for
those, and :func:`mapped_properties` the ones the settings name, which the connector checks
against HubSpot's properties at start (HubSpot drops a property it does not know without a
word).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

import attrs

from slacore._config import Problems, suggest
from slacore._values import FIRST_YEAR, LAST_YEAR, read_amount
from slacore.agreement.sections import DEFAULT_EXIT_STAGES
from slacore.connector import Record, RejectedRecord, Setting, SettingKind, Stream
from slacore.connector._converters import parse_boolean
from slacore.errors import ValidationError
from slacore.model import (
    STANDARD_LADDER,
    Channel,
    Deal,
    Handoff,
    Lead,
    OwnerChange,
    Rep,
    StageChange,
    Team,
    Touch,
    natural_key,
)

__all__ = [
    "DEFAULT_STAGE_VALUES",
    "MAPPING_SETTINGS",
    "DealStage",
    "HandoffClock",
    "HubSpotMapping",
    "Mapped",
    "ObjectType",
    "PendingHandoff",
    "check_properties",
    "deal_stages",
    "history_properties",
    "map_contact",
    "map_deal",
    "map_engagement",
    "map_owner",
    "mapped_properties",
    "parse_time",
    "properties",
]

R = TypeVar("R", bound=Record)


class ObjectType(enum.StrEnum):
    """The HubSpot CRM object types read, by their names in HubSpot's API paths."""

    CONTACTS = "contacts"
    CALLS = "calls"
    EMAILS = "emails"
    MEETINGS = "meetings"
    DEALS = "deals"


class HandoffClock(enum.StrEnum):
    """When the rep is notified of a hand-off, the moment the response clock starts."""

    LATER_OF_STAGE_AND_OWNER = "later_of_stage_and_owner"
    """The later of the moment the contact reached the hand-off stage and the moment it had
    an owner (the default): a contact that already had an owner is notified when it reaches
    the stage, one without when its owner is assigned. One that has no owner yet has no
    hand-off yet (a :class:`PendingHandoff`): its notification time is not known."""
    STAGE_ENTERED = "stage_entered"
    """The moment the contact reached the hand-off stage, owner or not."""


DEFAULT_STAGE_VALUES: Final[Mapping[str, str]] = {
    "subscriber": "subscriber",
    "lead": "lead",
    "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql",
    "opportunity": "opportunity",
    "customer": "customer",
}
"""HubSpot's standard lifecycle stages (internal values) -> the standard ladder's keys.

``evangelist``, ``other`` and custom stages (numeric ids such as ``"153180554"``) are not in
it: map them in ``stage_values``. An entry whose key is not one of ``stages`` or
``exit_stages`` is left out, so a ladder of your own takes only what fits it.
"""

_CLOCKS: Final = ", ".join(clock.value for clock in HandoffClock)

MAPPING_SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="stage_values",
        kind=SettingKind.TABLE,
        help="HubSpot lifecycle stage values (internal names or custom stage ids) to LeadStage "
        'keys, added to the standard ones: {"153180554" = "sal", other = "disqualified"}',
    ),
    Setting(
        name="stages",
        kind=SettingKind.LIST,
        help="the LeadStage keys of your ladder, in order (default: the standard ladder)",
    ),
    Setting(
        name="exit_stages",
        kind=SettingKind.LIST,
        help="stage keys outside the ladder that take a lead out of it "
        "(default: disqualified, unqualified, recycled)",
    ),
    Setting(
        name="segment_property",
        help="the contact property whose value is the lead's segment (internal name)",
    ),
    Setting(
        name="persona_property",
        help="the contact property holding the buyer persona (e.g. hs_persona); "
        "with segment_property the segment is 'persona x segment'",
    ),
    Setting(
        name="hand_raiser_property",
        help="the contact property that says a lead asked for sales follow-up",
    ),
    Setting(
        name="hand_raiser_values",
        kind=SettingKind.LIST,
        help="values of hand_raiser_property that make a hand-raiser (default: the property "
        "is read as true or false)",
    ),
    Setting(
        name="handoff_stage",
        help="the lifecycle stage whose reaching hands a contact to sales "
        "(default: marketingqualifiedlead)",
    ),
    Setting(
        name="handoff_notified",
        choices=tuple(clock.value for clock in HandoffClock),
        help=f"when the rep is notified of a hand-off: {_CLOCKS} "
        "(default: later_of_stage_and_owner)",
    ),
    Setting(
        name="team_values",
        kind=SettingKind.TABLE,
        help='HubSpot team names or ids to slacore teams: {"SDR" = "sales", "Demand gen" = '
        '"marketing"} (a rep in none of them is on sales)',
    ),
)
"""The settings of the mapping, for the connector's ``settings_schema``; read them with
:meth:`HubSpotMapping.from_settings`."""

_PROPERTY_NAME: Final = re.compile(r"[A-Za-z0-9_]+")
_KEY: Final = re.compile(r"\S+")


def _table(field: str) -> Callable[[Any], dict[str, Any]]:
    def convert(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValidationError(
                message=f"expected a table (mapping), got {type(value).__name__}",
                field=field,
                value=value,
            )
        return dict(value)

    return convert


def _names(field: str) -> Callable[[Any], tuple[str, ...]]:
    def convert(value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValidationError(
                message=f"expected a list of names, got {value!r}", field=field, value=value
            )
        return tuple(value)

    return convert


def _stage_values(value: Any) -> dict[str, Any]:
    return _table("stage_values")(value)


def _team_values(value: Any) -> dict[str, Any]:
    return _table("team_values")(value)


def _stages(value: Any) -> tuple[str, ...]:
    return _names("stages")(value)


def _exit_stages(value: Any) -> tuple[str, ...]:
    return _names("exit_stages")(value)


def _hand_raiser_values(value: Any) -> tuple[str, ...]:
    return _names("hand_raiser_values")(value)


def _clock(value: HandoffClock | str) -> HandoffClock:
    try:
        return HandoffClock(value)
    except ValueError:
        raise ValidationError(
            message=f"expected one of {_CLOCKS}, got {value!r}",
            field="handoff_notified",
            value=value,
        ) from None


@attrs.frozen(kw_only=True, hash=False)  # holds dicts: unhashable
class HubSpotMapping:
    """The settings of the HubSpot mapping, checked: which stage is which, which properties
    give segment, persona and hand-raiser, and the hand-off rule.

    Attributes:
        stage_values: HubSpot lifecycle stage values (internal names, custom stage ids) ->
            stage keys, added to :data:`DEFAULT_STAGE_VALUES` (an entry here wins). Each
            key must be one of ``stages`` or ``exit_stages``.
        stages: The keys of the stage ladder, in order (default: the standard ladder). A
            contact reaches the hand-off stage when it moves into it or a later stage from an
            earlier one, from no stage or from an exit stage.
        exit_stages: Stage keys outside the ladder (disqualified, recycled): moving into one
            leaves the ladder.
        segment_property: The contact property whose value is the segment, if any.
        persona_property: The contact property holding the buyer persona, if any. With
            ``segment_property`` the segment is ``"<persona> x <segment>"``; alone, the
            persona is the segment.
        hand_raiser_property: The contact property saying a lead asked for follow-up, if any.
        hand_raiser_values: The values of ``hand_raiser_property`` that make a hand-raiser
            (any of a multiple-checkbox's ``;``-separated values, ignoring case). Without
            them the property is a yes/no (``"true"``/``"false"``); empty is no.
        handoff_stage: The HubSpot lifecycle stage value whose reaching hands a contact to
            sales (default ``marketingqualifiedlead``); it must map to a stage of ``stages``.
        handoff_notified: When the rep is notified (:class:`HandoffClock`).
        team_values: HubSpot team names or ids -> ``"marketing"`` or ``"sales"``. An owner's
            primary team is looked up first, then its other teams; an owner in none of them
            is on sales, :class:`~slacore.model.Rep`'s default.

    Raises:
        ValidationError: A setting is invalid; :class:`~slacore.errors.ConfigError` (a
            ``ValidationError``) lists every problem when there are several, each naming its
            setting in ``field``.

    Examples:
        >>> mapping = HubSpotMapping(stage_values={"153180554": "sal"})
        >>> mapping.stage_key("153180554"), mapping.stage_key("marketingqualifiedlead")
        ('sal', 'mql')

    """

    stage_values: Mapping[str, str] = attrs.field(factory=dict, converter=_stage_values)
    stages: tuple[str, ...] = attrs.field(default=STANDARD_LADDER.keys, converter=_stages)
    exit_stages: tuple[str, ...] = attrs.field(default=DEFAULT_EXIT_STAGES, converter=_exit_stages)
    segment_property: str | None = None
    persona_property: str | None = None
    hand_raiser_property: str | None = None
    hand_raiser_values: tuple[str, ...] = attrs.field(default=(), converter=_hand_raiser_values)
    handoff_stage: str = "marketingqualifiedlead"
    handoff_notified: HandoffClock = attrs.field(
        default=HandoffClock.LATER_OF_STAGE_AND_OWNER, converter=_clock
    )
    team_values: Mapping[str, str] = attrs.field(factory=dict, converter=_team_values)
    lifecycle: Mapping[str, str] = attrs.field(init=False)
    """The stage map in force: HubSpot value -> stage key (defaults and ``stage_values``)."""
    _folded: Mapping[str, str] = attrs.field(init=False, repr=False)
    _teams: Mapping[str, Team] = attrs.field(init=False, repr=False)

    @lifecycle.default
    def _lifecycle_default(self) -> Mapping[str, str]:
        known = {*self.stages, *self.exit_stages}
        merged = {k: v for k, v in DEFAULT_STAGE_VALUES.items() if v in known}
        merged.update(self.stage_values)
        return merged

    @_folded.default
    def _folded_default(self) -> Mapping[str, str]:
        return {str(k).casefold(): v for k, v in self.lifecycle.items()}

    @_teams.default
    def _teams_default(self) -> Mapping[str, Team]:
        teams: dict[str, Team] = {}
        for name, team in self.team_values.items():
            if isinstance(team, str) and team.strip().lower() in {t.value for t in Team}:
                teams[str(name).strip().casefold()] = Team(team.strip().lower())
        return teams

    def __attrs_post_init__(self) -> None:
        problems = Problems()
        self._check_stages(problems)
        for name in ("segment_property", "persona_property", "hand_raiser_property"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, str) or not _PROPERTY_NAME.fullmatch(value)
            ):
                problems.add(
                    (name,),
                    f"expected a HubSpot property's internal name like hs_persona (not its "
                    f"label), got {value!r}",
                    value,
                )
        if self.hand_raiser_values and self.hand_raiser_property is None:
            problems.add(
                ("hand_raiser_values",), "needs hand_raiser_property, the property they are of"
            )
        if not all(isinstance(v, str) and v.strip() for v in self.hand_raiser_values):
            problems.add(("hand_raiser_values",), "expected non-empty property values")
        key = (
            self.lifecycle.get(self.handoff_stage) if isinstance(self.handoff_stage, str) else None
        )
        if key is None:
            problems.add(
                ("handoff_stage",),
                f"{self.handoff_stage!r} is no lifecycle stage of the stage map (known: "
                f"{', '.join(self.lifecycle)}); map it in stage_values",
                self.handoff_stage,
            )
        elif key not in self.stages:
            problems.add(
                ("handoff_stage",),
                f"{self.handoff_stage!r} maps to {key!r}, which is not a stage of the ladder "
                f"(stages: {', '.join(self.stages)})",
                self.handoff_stage,
            )
        teams = ", ".join(t.value for t in Team)
        for name, team in self.team_values.items():
            if not isinstance(team, str) or team.strip().lower() not in {t.value for t in Team}:
                problems.add(
                    ("team_values", str(name)), f"expected one of {teams}, got {team!r}", team
                )
        problems.raise_any("the HubSpot mapping settings")

    def _check_stages(self, problems: Problems) -> None:
        for name, keys in (("stages", self.stages), ("exit_stages", self.exit_stages)):
            seen: set[str] = set()
            for key in keys:
                if not isinstance(key, str) or not _KEY.fullmatch(key):
                    problems.add((name,), f"expected stage keys without spaces, got {key!r}", key)
                elif key in seen:
                    problems.add((name,), f"stage key {key!r} appears twice", key)
                seen.add(key)
        if not self.stages:
            problems.add(("stages",), "the ladder needs at least one stage")
        both = sorted(set(self.stages) & set(self.exit_stages))
        if both:
            problems.add(
                ("exit_stages",), f"{', '.join(both)} also in stages: a stage is one or the other"
            )
        known = (*self.stages, *self.exit_stages)
        for value, key in self.stage_values.items():
            if not isinstance(value, str) or not value.strip():
                problems.add(("stage_values",), f"expected a lifecycle stage value, got {value!r}")
            elif key not in known:
                problems.add(
                    ("stage_values", value),
                    f"maps {value!r} to {key!r}, which is not a stage (known: "
                    f"{', '.join(known)}; add it to stages or exit_stages)",
                    key,
                )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HubSpotMapping:
        """The mapping from a connector's settings: the :data:`MAPPING_SETTINGS` given (others
        are the connector's and left alone; ``None`` is a default).

        Raises:
            ValidationError: A setting is invalid (see the class).

        """
        names = {setting.name for setting in MAPPING_SETTINGS}
        given = {k: v for k, v in settings.items() if k in names and v is not None}
        return cls(**given)

    def stage_key(self, value: str, *, field: str = "lifecyclestage") -> str:
        """The stage key of HubSpot lifecycle stage ``value`` (exact, then ignoring case).

        Raises:
            ValidationError: ``value`` is not in the stage map; ``field`` names the property.

        """
        key = self.lifecycle.get(value)
        if key is None:
            key = self._folded.get(value.casefold())
        if key is None:
            raise ValidationError(
                message=f"unknown lifecycle stage {value!r}: map it in stage_values "
                f"(known: {', '.join(self.lifecycle)})",
                field=field,
                value=value,
            )
        return key

    def rank(self, key: str | None) -> int:
        """A stage key's position in the ladder; ``-1`` for no stage and exit stages."""
        return self.stages.index(key) if key in self.stages else -1

    def team_of(self, teams: Sequence[Mapping[str, Any]]) -> Team | None:
        """The slacore team of an owner in HubSpot ``teams`` (primary first), or ``None``."""
        ordered = sorted(teams, key=lambda t: t.get("primary") is not True)
        for team in ordered:
            for name in (team.get("name"), team.get("id")):
                if isinstance(name, str | int) and not isinstance(name, bool):
                    found = self._teams.get(str(name).strip().casefold())
                    if found is not None:
                        return found
        return None


# --- results ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PendingHandoff:
    """A contact that reached the hand-off stage but whose rep was not notified: no owner yet
    (``superseded_at`` is ``None``), or none before it reached the stage again.

    Attributes:
        lead_id: The contact.
        stage: The stage key it entered.
        reached_at: When it reached the stage.
        superseded_at: When it reached the stage again, still unowned, if it did.

    """

    lead_id: str
    stage: str
    reached_at: datetime
    superseded_at: datetime | None = None

    def __str__(self) -> str:
        reached = f"contact {self.lead_id} reached {self.stage} at {_iso(self.reached_at)}"
        if self.superseded_at is None:
            return f"{reached} and has no owner yet: its hand-off comes when one is assigned"
        return (
            f"{reached} and had no owner before it reached it again at "
            f"{_iso(self.superseded_at)}: that first hand-off was never notified"
        )


def _rejected(value: Iterable[RejectedRecord]) -> tuple[RejectedRecord, ...]:
    return tuple(value)


def _records(value: Iterable[Record]) -> tuple[Record, ...]:
    return tuple(value)


def _pending(value: Iterable[PendingHandoff]) -> tuple[PendingHandoff, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True, hash=False)  # holds rejected records: unhashable
class Mapped:
    """What one HubSpot object gave: its records, or the one rejected record saying why not.

    Attributes:
        records: The core objects, of one or more streams (see :meth:`of`).
        rejected: The rejection, when the object could not be mapped (then no records).
        pending: Hand-offs whose rep was not notified yet (contacts only): to show the user.

    """

    records: tuple[Record, ...] = attrs.field(default=(), converter=_records)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)
    pending: tuple[PendingHandoff, ...] = attrs.field(default=(), converter=_pending)

    def of(self, record_type: type[R]) -> tuple[R, ...]:
        """The records of one core type (``Lead``, ``Handoff``...), in order."""
        return tuple(r for r in self.records if type(r) is record_type)


# --- values -----------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_AS_MS: Final = datetime(1970, 3, 1, tzinfo=UTC)
_EARLIEST: Final = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LAST: Final = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
_DIGITS: Final = re.compile(r"-?[0-9]{1,30}")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_LIKE: Final = "a time like 2024-02-01T12:00:00.000Z or epoch milliseconds"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_ms(milliseconds: int, value: object, field: str) -> datetime:
    try:
        return _EPOCH + timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR}, got "
            f"{_shown(value)} (epoch milliseconds out of range)",
            field=field,
            value=value,
        ) from None


def parse_time(value: object, *, field: str) -> datetime:
    """A HubSpot time as an aware UTC ``datetime``.

    Reads ISO 8601 strings (``2024-02-01T12:00:00.000Z``, ``2026-03-12T10:00:00Z``, any
    offset), epoch milliseconds (a JSON number, or a string of digits, as older answers
    write them), a date alone (``2024-05-01``, HubSpot's date properties, which it keeps at
    midnight UTC) and aware ``datetime`` objects (the SDK's).

    Refused: a time without an offset (never guessed), a time outside the years
    :data:`~slacore._values.FIRST_YEAR` to :data:`~slacore._values.LAST_YEAR`, and one in the
    first two months of 1970, which is epoch seconds written where milliseconds belong
    (integrations did write ``hs_timestamp`` so) or an epoch-zero placeholder.

    Raises:
        ValidationError: ``value`` is none of those; ``field`` (the property) is named.

    Examples:
        >>> parse_time("2026-03-12T10:00:00Z", field="hs_timestamp").isoformat()
        '2026-03-12T10:00:00+00:00'
        >>> parse_time(1706788800000, field="timestamp").isoformat()
        '2024-02-01T12:00:00+00:00'

    """

    def bad(why: str = "") -> ValidationError:
        return ValidationError(
            message=f"expected {_TIME_LIKE}, got {_shown(value)}{why}", field=field, value=value
        )

    moment: datetime
    if isinstance(value, bool):
        raise bad()
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int):
        moment = _from_ms(value, value, field)
    elif isinstance(value, float):
        if not value.is_integer():
            raise bad()
        moment = _from_ms(int(value), value, field)
    elif isinstance(value, str):
        text = value.strip()
        if _DIGITS.fullmatch(text):
            moment = _from_ms(int(text), value, field)
        elif _DATE.fullmatch(text):
            try:
                moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
            except ValueError:
                raise bad() from None
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise bad() from None
    else:
        raise bad()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise bad(" (no offset: HubSpot times end in Z)")
    if not _EARLIEST <= moment < _AFTER_LAST:
        raise ValidationError(
            message=f"expected a time in the years {FIRST_YEAR} to {LAST_YEAR} (in UTC), got "
            f"{_shown(value)}",
            field=field,
            value=value,
        )
    if _EPOCH <= moment < _SECONDS_AS_MS:
        raise ValidationError(
            message=f"{_shown(value)} is in the first weeks of 1970: epoch seconds written as "
            "milliseconds, or a placeholder, not a time",
            field=field,
            value=value,
        )
    return moment.astimezone(UTC)


def _text(value: object, field: str) -> str | None:
    """A property's text, stripped; ``None`` when empty or null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValidationError(
        message=f"expected text, got {type(value).__name__} {_shown(value)}",
        field=field,
        value=value,
    )


def _top(obj: Mapping[str, Any], *names: str) -> Any:
    """An object's top-level field, by its wire name or the SDK's snake_case one."""
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _object(obj: object, what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ValidationError(
            message=f"expected a HubSpot {what} (a JSON object), got {type(obj).__name__}",
            value=None,
        )
    return obj


def _object_id(obj: Mapping[str, Any]) -> str:
    found = _text(obj.get("id"), "id")
    if found is None:
        props = obj.get("properties")
        if isinstance(props, Mapping):
            found = _text(props.get("hs_object_id"), "hs_object_id")
    if found is None:
        raise ValidationError(message="missing value: the object has no id", field="id")
    return found


def _record_id(obj: object) -> str | None:
    try:
        return _object_id(_object(obj, "object"))
    except ValidationError:
        return None


def _props(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    props = obj.get("properties")
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise ValidationError(
            message=f"expected an object of properties, got {type(props).__name__}",
            field="properties",
        )
    return props


def _created(obj: Mapping[str, Any], props: Mapping[str, Any]) -> datetime:
    text = props.get("createdate")
    if text is not None and text != "":
        return parse_time(text, field="createdate")
    top = _top(obj, "createdAt", "created_at")
    if top is None or top == "":
        raise ValidationError(message="missing value: the creation time", field="createdate")
    return parse_time(top, field="createdAt")


def _raw(obj: object) -> dict[str, Any]:
    """A HubSpot object flattened for a rejected record: its fields and its properties."""
    if not isinstance(obj, Mapping):
        return {"object": _shown(obj)}
    raw: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "properties" and isinstance(value, Mapping):
            raw.update((str(k), v) for k, v in value.items())
        else:
            raw[str(key)] = value
    return raw


def _build(make: Callable[..., R], names: Mapping[str, str], **kwargs: Any) -> R:
    """``make(**kwargs)``; an error names the HubSpot property instead of the core field."""
    try:
        return make(**kwargs)
    except ValidationError as error:
        field = names.get(error.field or "", error.field)
        raise attrs.evolve(error, field=field) from None


def _unique(records: Iterable[R]) -> list[R]:
    """``records`` with one per natural key, the last one read (as a store keeps it)."""
    by_key: dict[tuple[Any, ...], R] = {}
    for record in records:
        by_key.pop(natural_key(record), None)
        by_key[natural_key(record)] = record
    return list(by_key.values())


def _rejection(error: ValidationError, obj: object, stream: Stream, object_type: str) -> Mapped:
    return Mapped(
        rejected=[
            RejectedRecord.from_error(
                error,
                stream=stream,
                raw=_raw(obj),
                source=f"HubSpot {object_type}",
                record_id=_record_id(obj),
            )
        ]
    )


# --- contacts ---------------------------------------------------------------------------------

_LEAD_PROPERTIES: Final = {
    "created_at": "createdate",
    "owner_id": "hubspot_owner_id",
    "stage": "lifecyclestage",
    "source": "hs_analytics_source",
}

_Event = tuple[datetime, str | None]


def _history(obj: Mapping[str, Any], name: str) -> list[_Event] | None:
    """A property's history, oldest first, or ``None`` when it was not read."""
    histories = _top(obj, "propertiesWithHistory", "properties_with_history")
    if histories is None:
        return None
    if not isinstance(histories, Mapping):
        raise ValidationError(
            message=f"expected an object of histories, got {type(histories).__name__}",
            field="propertiesWithHistory",
        )
    entries = histories.get(name)
    if entries is None:
        return None
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        raise ValidationError(
            message=f"expected a list of history entries, got {type(entries).__name__}",
            field=name,
        )
    events: list[_Event] = []
    # HubSpot lists the newest first: reversed, a stable sort keeps equal times in order.
    for entry in reversed(entries):
        if not isinstance(entry, Mapping):
            raise ValidationError(
                message=f"expected a history entry (an object), got {_shown(entry)}", field=name
            )
        try:
            at = parse_time(entry.get("timestamp"), field=name)
            value = _text(entry.get("value"), name)
        except ValidationError as error:
            raise attrs.evolve(error, message=f"in its history: {error.message}") from None
        events.append((at, value))
    events.sort(key=lambda event: event[0])
    return events


def _stage_timeline(
    obj: Mapping[str, Any], props: Mapping[str, Any], mapping: HubSpotMapping
) -> list[_Event]:
    """The contact's stages over time, oldest first: (when, stage key or ``None`` cleared).

    From the ``lifecyclestage`` history when it was read, else from the times each stage was
    entered. Those are read (and a malformed one refused) either way: they were asked for.
    """
    entered: list[_Event] = []
    for value, key in mapping.lifecycle.items():
        times = [
            parse_time(props[name], field=name)
            for name in (f"hs_v2_date_entered_{value}", f"hs_lifecyclestage_{value}_date")
            if props.get(name) is not None and props.get(name) != ""
        ]
        if times:
            entered.append((times[0], key))
    history = _history(obj, "lifecyclestage")
    if history is None:
        entered.sort(key=lambda event: event[0])
        return entered
    timeline: list[_Event] = []
    for at, written in history:
        try:
            timeline.append((at, None if written is None else mapping.stage_key(written)))
        except ValidationError as error:
            raise attrs.evolve(error, message=f"in its history: {error.message}") from None
    return timeline


def _owner_timeline(
    obj: Mapping[str, Any], props: Mapping[str, Any], owner: str | None
) -> tuple[list[_Event], bool]:
    """The contact's owners over time, oldest first, and whether the current owner's
    assignment time is unknown (no history, no ``hubspot_owner_assigneddate``)."""
    history = _history(obj, "hubspot_owner_id")
    if history is not None:
        return history, False
    if owner is None:
        return [], False
    text = props.get("hubspot_owner_assigneddate")
    if text is None or text == "":
        return [], True
    return [(parse_time(text, field="hubspot_owner_assigneddate"), owner)], False


def _owner_at(events: Sequence[_Event], moment: datetime) -> str | None:
    owner: str | None = None
    for at, value in events:
        if at > moment:
            break
        owner = value
    return owner


def _segment(props: Mapping[str, Any], mapping: HubSpotMapping) -> str | None:
    persona = (
        _text(props.get(mapping.persona_property), mapping.persona_property)
        if mapping.persona_property
        else None
    )
    segment = (
        _text(props.get(mapping.segment_property), mapping.segment_property)
        if mapping.segment_property
        else None
    )
    if persona and segment:
        return f"{persona} x {segment}"
    return persona or segment


def _hand_raiser(props: Mapping[str, Any], mapping: HubSpotMapping) -> bool:
    name = mapping.hand_raiser_property
    if name is None:
        return False
    text = _text(props.get(name), name)
    if text is None:
        return False
    if mapping.hand_raiser_values:
        wanted = {v.strip().casefold() for v in mapping.hand_raiser_values}
        return any(part.strip().casefold() in wanted for part in text.split(";"))
    try:
        return parse_boolean(text)
    except ValueError:
        raise ValidationError(
            message=f"expected true or false, got {_shown(text)} (or list the values that make "
            "a hand-raiser in hand_raiser_values)",
            field=name,
            value=text,
        ) from None


def map_contact(contact: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    """A HubSpot contact's lead, stage changes, owner changes and hand-offs.

    ``contact`` is one object of a contacts answer (list, search or batch read), best with
    ``propertiesWithHistory`` for ``lifecyclestage`` and ``hubspot_owner_id`` (see
    :func:`history_properties`) and the :func:`properties` of contacts.

    - The lead: ``id``; created at ``createdate`` (else ``createdAt``); its stage is
      ``lifecyclestage`` through the stage map (empty: no stage); its source is
      ``hs_analytics_source``; its owner ``hubspot_owner_id``; segment and hand-raiser from
      the mapped properties.
    - Stage changes: one per move in the ``lifecyclestage`` history, oldest first; backward
      moves included. A cleared value (``""``) leaves the lead in no stage, so the next
      change comes from none. Without history, one per stage entered, at
      ``hs_v2_date_entered_<value>`` or else ``hs_lifecyclestage_<value>_date``.
    - Owner changes: one per assignment in the ``hubspot_owner_id`` history (an owner
      removed, ``""``, gives none: the model has no "unassigned"). Without history, the
      current owner at ``hubspot_owner_assigneddate``.
    - Hand-offs: one each time the contact reaches the hand-off stage (moves into it or a
      later stage of the ladder from an earlier one, from none or from an exit stage), so
      one that reaches it twice gives two; notified as :class:`HandoffClock` says, with the
      stage actually entered and the owner then. A contact in or past the hand-off stage
      with no time it got there (no history, no entered time) is rejected: its hand-off
      would otherwise vanish.

    Returns:
        The records, or one rejected record (stream ``leads``) naming the property at fault.

    """
    try:
        return _contact(_object(contact, "contact"), mapping)
    except ValidationError as error:
        return _rejection(error, contact, Stream.LEADS, "contacts")


def _contact(contact: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    lead_id = _object_id(contact)
    props = _props(contact)
    stage_value = _text(props.get("lifecyclestage"), "lifecyclestage")
    owner = _text(props.get("hubspot_owner_id"), "hubspot_owner_id")
    lead = _build(
        Lead,
        _LEAD_PROPERTIES,
        id=lead_id,
        created_at=_created(contact, props),
        stage=None if stage_value is None else mapping.stage_key(stage_value),
        owner_id=owner,
        source=_text(props.get("hs_analytics_source"), "hs_analytics_source"),
        segment=_segment(props, mapping),
        hand_raiser=_hand_raiser(props, mapping),
    )
    owners, owner_unknown = _owner_timeline(contact, props, owner)
    timeline = _stage_timeline(contact, props, mapping)

    changes: list[StageChange] = []
    reaches: list[tuple[datetime, str]] = []
    handoff_rank = mapping.rank(mapping.lifecycle[mapping.handoff_stage])
    previous: str | None = None
    for at, key in timeline:
        if key is None or key == previous:
            previous = key
            continue
        changes.append(
            _build(
                StageChange,
                {"at": "lifecyclestage"},
                lead_id=lead_id,
                to_stage=key,
                at=at,
                from_stage=previous,
                owner_id=_owner_at(owners, at),
            )
        )
        if mapping.rank(key) >= handoff_rank > mapping.rank(previous):
            reaches.append((at, key))
        previous = key

    if not reaches and mapping.rank(lead.stage) >= handoff_rank:
        # In or past the hand-off stage with no time it got there: its hand-off would vanish.
        raise ValidationError(
            message=f"in stage {stage_value!r} with no lifecyclestage history and no time it "
            f"was entered (hs_v2_date_entered_{stage_value}): the time of its hand-off is "
            "unknown",
            field="lifecyclestage",
            value=stage_value,
        )

    owner_changes: list[OwnerChange] = []
    current: str | None = None
    for at, value in owners:
        if value is not None and value != current:
            owner_changes.append(OwnerChange(lead_id=lead_id, owner_id=value, at=at))
        current = value

    handoffs: list[Handoff] = []
    pending: list[PendingHandoff] = []
    for index, (reached, key) in enumerate(reaches):
        until = reaches[index + 1][0] if index + 1 < len(reaches) else None
        notified: datetime | None = reached
        holder = _owner_at(owners, reached)
        if mapping.handoff_notified is HandoffClock.STAGE_ENTERED:
            holder = owner if owner_unknown else holder
        elif owner_unknown:
            raise ValidationError(
                message="missing value: the contact has an owner but no time it was assigned "
                "(and no owner history), and its hand-off is notified at the later of that "
                "time and the stage reached",
                field="hubspot_owner_assigneddate",
            )
        elif holder is None:
            notified = next(
                (
                    at
                    for at, value in owners
                    if value is not None and at > reached and (until is None or at < until)
                ),
                None,
            )
            holder = None if notified is None else _owner_at(owners, notified)
        if notified is None:
            pending.append(
                PendingHandoff(lead_id=lead_id, stage=key, reached_at=reached, superseded_at=until)
            )
            continue
        handoffs.append(
            Handoff(
                lead_id=lead_id,
                notified_at=notified,
                stage=key,
                owner_id=holder,
                source=lead.source,
                segment=lead.segment,
                hand_raiser=lead.hand_raiser,
            )
        )
    records: list[Record] = [lead, *_unique(changes), *_unique(owner_changes), *_unique(handoffs)]
    return Mapped(records=records, pending=pending)


# --- calls, emails, meetings ------------------------------------------------------------------

_CHANNELS: Final = {
    ObjectType.CALLS: Channel.CALL,
    ObjectType.EMAILS: Channel.EMAIL,
    ObjectType.MEETINGS: Channel.MEETING,
}


def _not_a_touch(kind: ObjectType, props: Mapping[str, Any]) -> ValidationError | None:
    """Why this engagement is no rep's touch of a lead, or ``None`` when it is one."""
    if kind is ObjectType.EMAILS:
        direction = _text(props.get("hs_email_direction"), "hs_email_direction")
        if direction != "EMAIL":
            return ValidationError(
                message=f"not a touch: only sent emails (EMAIL) are, this one is "
                f"{direction or 'of no direction'}",
                field="hs_email_direction",
                value=direction,
            )
    elif kind is ObjectType.CALLS:
        direction = _text(props.get("hs_call_direction"), "hs_call_direction")
        if direction is not None and direction.upper() == "INBOUND":
            return ValidationError(
                message="not a touch: an inbound call is the lead's, not the rep's",
                field="hs_call_direction",
                value=direction,
            )
    else:
        outcome = _text(props.get("hs_meeting_outcome"), "hs_meeting_outcome")
        if outcome is not None and outcome.upper() in {"CANCELED", "CANCELLED"}:
            return ValidationError(
                message="not a touch: the meeting was cancelled",
                field="hs_meeting_outcome",
                value=outcome,
            )
    return None


def _contact_ids(contact_ids: Iterable[object]) -> list[str]:
    ids: list[str] = []
    for item in contact_ids:
        text = _text(item, "associations.contacts")
        if text is None:
            raise ValidationError(
                message=f"expected contact ids, got {_shown(item)}", field="associations.contacts"
            )
        if text not in ids:
            ids.append(text)
    return ids


def map_engagement(
    kind: ObjectType | str, engagement: Mapping[str, Any], contact_ids: Iterable[object]
) -> Mapped:
    """A call, email or meeting's touches: one per contact it is associated with.

    The touch is at ``hs_timestamp``, by the owner ``hubspot_owner_id``, on the channel of
    ``kind``. Not touches, and so rejected with the reason: emails that are not sent ones
    (``hs_email_direction`` other than ``EMAIL``: incoming, forwarded; a search filtered on
    ``hs_email_direction = EMAIL`` never reads them), inbound calls (``hs_call_direction``
    ``INBOUND``; a call logged without a direction is the rep's) and cancelled meetings
    (``hs_meeting_outcome``).

    Args:
        kind: ``calls``, ``emails`` or ``meetings``.
        engagement: One object of that type as HubSpot answers it.
        contact_ids: The ids of the contacts it is associated with (v4 associations, read
            apart); ids as numbers are taken too.

    Returns:
        The touches, or one rejected record (stream ``touches``): no owner, no time, no
        contact, or not a touch.

    Raises:
        ValueError: ``kind`` is no engagement type (a bug in the caller).

    """
    object_type = ObjectType(kind)
    if object_type not in _CHANNELS:
        raise ValueError(f"{object_type} are no engagements")
    try:
        return _engagement(object_type, _object(engagement, "engagement"), contact_ids)
    except ValidationError as error:
        return _rejection(error, engagement, Stream.TOUCHES, object_type.value)


def _engagement(
    kind: ObjectType, engagement: Mapping[str, Any], contact_ids: Iterable[object]
) -> Mapped:
    _object_id(engagement)
    props = _props(engagement)
    refused = _not_a_touch(kind, props)
    if refused is not None:
        raise refused
    at = parse_time(props.get("hs_timestamp"), field="hs_timestamp")
    rep = _text(props.get("hubspot_owner_id"), "hubspot_owner_id")
    if rep is None:
        raise ValidationError(
            message="missing value: a touch needs the rep who made it", field="hubspot_owner_id"
        )
    leads = _contact_ids(contact_ids)
    if not leads:
        raise ValidationError(
            message="associated with no contact: a touch is of a lead",
            field="associations.contacts",
        )
    return Mapped(
        records=[Touch(lead_id=lead, rep_id=rep, at=at, channel=_CHANNELS[kind]) for lead in leads]
    )


# --- deals ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DealStage:
    """A deal stage of a pipeline, from its metadata.

    Attributes:
        pipeline: The pipeline's id.
        id: The stage's id (the value of a deal's ``dealstage``).
        label: Its name.
        closed: Whether a deal in it is closed (``metadata.isClosed``); ``None`` when the
            metadata does not say.
        won: Whether a closed deal in it is won (``metadata.probability`` 1); ``None`` when
            the metadata does not say.

    """

    pipeline: str
    id: str
    label: str = ""
    closed: bool | None = None
    won: bool | None = None


def deal_stages(answer: Mapping[str, Any]) -> dict[tuple[str, str], DealStage]:
    """The deal stages of a pipelines answer (``GET /crm/v3/pipelines/deals``), keyed by
    (pipeline id, stage id).

    A stage is closed when ``metadata.isClosed`` is ``"true"``, and won when its
    ``metadata.probability`` is 1 as well (HubSpot's closed-won stages); metadata it cannot
    read leaves ``closed`` or ``won`` unknown, and deals in that stage are then read from
    their ``hs_is_closed`` and ``hs_is_closed_won``. Stages without an id are left out: no
    deal can name them.

    Raises:
        ValidationError: ``answer`` is not a pipelines answer.

    """
    pipelines = answer.get("results") if isinstance(answer, Mapping) else None
    if isinstance(pipelines, str) or not isinstance(pipelines, Sequence):
        raise ValidationError(
            message="expected a pipelines answer, an object with results", field="results"
        )
    stages: dict[tuple[str, str], DealStage] = {}
    for pipeline in pipelines:
        if not isinstance(pipeline, Mapping) or not isinstance(pipeline.get("id"), str):
            continue
        items = pipeline.get("stages")
        if isinstance(items, str) or not isinstance(items, Sequence):
            continue
        for item in items:
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                continue
            meta = item.get("metadata")
            meta = meta if isinstance(meta, Mapping) else {}
            closed: bool | None
            try:
                closed = parse_boolean(meta.get("isClosed"))
            except ValueError:
                closed = None
            won: bool | None = False if closed is False else None
            try:
                probability = Decimal(str(meta.get("probability")))
            except InvalidOperation:
                probability = None
            if closed and probability is not None and probability.is_finite():
                won = probability == 1
            label = item.get("label")
            stage = DealStage(
                pipeline=pipeline["id"],
                id=item["id"],
                label=label if isinstance(label, str) else "",
                closed=closed,
                won=won,
            )
            stages[(stage.pipeline, stage.id)] = stage
    return stages


def _flag(props: Mapping[str, Any], name: str) -> bool | None:
    text = _text(props.get(name), name)
    if text is None:
        return None
    try:
        return parse_boolean(text)
    except ValueError:
        raise ValidationError(
            message=f"expected true or false, got {_shown(text)}", field=name, value=text
        ) from None


def _outcome(
    props: Mapping[str, Any], stages: Mapping[tuple[str, str], DealStage]
) -> tuple[bool, bool]:
    """Whether the deal is closed, and won."""
    pipeline = _text(props.get("pipeline"), "pipeline")
    stage_id = _text(props.get("dealstage"), "dealstage")
    stage = stages.get((pipeline, stage_id)) if pipeline and stage_id else None
    if stage is None and stage_id and not pipeline:
        found = [s for (_, sid), s in stages.items() if sid == stage_id]
        stage = found[0] if len(found) == 1 else None
    if stage is not None and stage.closed is not None and stage.won is not None:
        return stage.closed, stage.won
    closed = _flag(props, "hs_is_closed")
    won = _flag(props, "hs_is_closed_won")
    if won:
        return True, True
    if closed is None:
        where = f"stage {stage_id!r} of pipeline {pipeline!r}" if stage_id else "no stage"
        raise ValidationError(
            message=f"cannot tell whether the deal is closed: {where} is not in the pipelines "
            "read (or its metadata does not say) and hs_is_closed is empty",
            field="dealstage",
            value=stage_id,
        )
    if closed and won is None:
        raise ValidationError(
            message="missing value: the deal is closed and nothing says whether it was won",
            field="hs_is_closed_won",
        )
    return closed, False


def map_deal(
    deal: Mapping[str, Any],
    contact_ids: Iterable[object] = (),
    *,
    stages: Mapping[tuple[str, str], DealStage] | None = None,
) -> Mapped:
    """A HubSpot deal's :class:`~slacore.model.Deal`.

    The amount is ``amount`` read by slacore's one amount grammar
    (:func:`~slacore._values.parse_amount`); opened at ``createdate`` (else ``createdAt``);
    closed and won by its stage in ``stages`` (see :func:`deal_stages`), else by
    ``hs_is_closed`` and ``hs_is_closed_won``; a closed deal is closed at ``closedate`` (an
    open deal's ``closedate`` is only expected and is not kept). Its lead is its contact when
    it has one; with several, the lowest id (HubSpot numbers contacts in the order they were
    created, so the first contact). The deal's owner has no place in the core ``Deal``.

    Args:
        deal: One deal as HubSpot answers it.
        contact_ids: The ids of the contacts it is associated with (v4 associations).
        stages: The portal's deal stages (:func:`deal_stages`).

    Returns:
        The deal, or one rejected record (stream ``deals``): no amount or a malformed one,
        a bad time, a closed deal without ``closedate``, an outcome nothing says.

    """
    try:
        return _deal(_object(deal, "deal"), contact_ids, stages or {})
    except ValidationError as error:
        return _rejection(error, deal, Stream.DEALS, "deals")


def _lowest(ids: Sequence[str]) -> str | None:
    if not ids:
        return None
    return min(ids, key=lambda i: (0, int(i), i) if i.isdigit() else (1, 0, i))


def _deal(
    deal: Mapping[str, Any],
    contact_ids: Iterable[object],
    stages: Mapping[tuple[str, str], DealStage],
) -> Mapped:
    deal_id = _object_id(deal)
    props = _props(deal)
    text = _text(props.get("amount"), "amount")
    if text is None:
        raise ValidationError(message="missing value: a deal needs its amount", field="amount")
    amount = read_amount(text, field="amount")
    opened = _created(deal, props)
    closed, won = _outcome(props, stages)
    closed_at: datetime | None = None
    if closed:
        close_text = props.get("closedate")
        if close_text is None or close_text == "":
            raise ValidationError(
                message="missing value: a closed deal needs its close date", field="closedate"
            )
        closed_at = parse_time(close_text, field="closedate")
    record = _build(
        Deal,
        {"amount": "amount", "opened_at": "createdate", "closed_at": "closedate"},
        id=deal_id,
        amount=amount,
        opened_at=opened,
        closed_at=closed_at,
        won=won,
        lead_id=_lowest(_contact_ids(contact_ids)),
    )
    return Mapped(records=[record])


# --- owners -----------------------------------------------------------------------------------


def map_owner(owner: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    """A HubSpot owner's :class:`~slacore.model.Rep`.

    The rep's id is the owner's ``id`` (not its ``userId``: contacts and engagements point at
    owner ids, and archived owners have no ``userId``); its name ``firstName lastName`` (else
    its email); active unless ``archived``; its team from its ``teams`` through
    ``team_values`` (:meth:`HubSpotMapping.team_of`).

    Returns:
        The rep, or one rejected record (stream ``reps``).

    """
    try:
        return _owner(_object(owner, "owner"), mapping)
    except ValidationError as error:
        return _rejection(error, owner, Stream.REPS, "owners")


def _owner(owner: Mapping[str, Any], mapping: HubSpotMapping) -> Mapped:
    owner_id = _text(owner.get("id"), "id")
    if owner_id is None:
        raise ValidationError(message="missing value: the owner has no id", field="id")
    first = _text(_top(owner, "firstName", "first_name"), "firstName")
    last = _text(_top(owner, "lastName", "last_name"), "lastName")
    email = _text(owner.get("email"), "email")
    archived = owner.get("archived")
    if archived is not None and not isinstance(archived, bool):
        raise ValidationError(
            message=f"expected true or false, got {_shown(archived)}", field="archived"
        )
    teams = owner.get("teams")
    if teams is None:
        teams = []
    if isinstance(teams, str) or not isinstance(teams, Sequence):
        raise ValidationError(
            message=f"expected a list of teams, got {_shown(teams)}", field="teams"
        )
    team = mapping.team_of([t for t in teams if isinstance(t, Mapping)])
    extra = {} if team is None else {"team": team}
    rep = Rep(
        id=owner_id,
        name=" ".join(part for part in (first, last) if part) or email or "",
        email=email,
        active=archived is not True,
        **extra,
    )
    return Mapped(records=[rep])


# --- properties -------------------------------------------------------------------------------

_BASE_PROPERTIES: Final[Mapping[ObjectType, tuple[str, ...]]] = {
    ObjectType.CONTACTS: (
        "createdate",
        "lastmodifieddate",
        "lifecyclestage",
        "hubspot_owner_id",
        "hubspot_owner_assigneddate",
        "hs_analytics_source",
    ),
    ObjectType.CALLS: (
        "hs_timestamp",
        "hubspot_owner_id",
        "hs_call_direction",
        "hs_lastmodifieddate",
    ),
    ObjectType.EMAILS: (
        "hs_timestamp",
        "hubspot_owner_id",
        "hs_email_direction",
        "hs_lastmodifieddate",
    ),
    ObjectType.MEETINGS: (
        "hs_timestamp",
        "hubspot_owner_id",
        "hs_meeting_outcome",
        "hs_lastmodifieddate",
    ),
    ObjectType.DEALS: (
        "amount",
        "createdate",
        "closedate",
        "dealstage",
        "pipeline",
        "hs_is_closed",
        "hs_is_closed_won",
        "hs_lastmodifieddate",
    ),
}


def properties(mapping: HubSpotMapping, object_type: ObjectType | str) -> tuple[str, ...]:
    """The properties to ask for, for objects of ``object_type``: those the mapping reads
    and the modified-time cursor (``lastmodifieddate`` or ``hs_lastmodifieddate``).

    For contacts: also the mapped properties and, per lifecycle stage of the stage map,
    ``hs_v2_date_entered_<value>`` and ``hs_lifecyclestage_<value>_date`` (a portal lacks the
    legacy one of a custom stage; HubSpot leaves out what it does not know).

    Examples:
        >>> properties(HubSpotMapping(), "calls")
        ('hs_timestamp', 'hubspot_owner_id', 'hs_call_direction', 'hs_lastmodifieddate')

    """
    object_type = ObjectType(object_type)
    names = list(_BASE_PROPERTIES[object_type])
    if object_type is ObjectType.CONTACTS:
        names.extend(mapped_properties(mapping))
        for value in mapping.lifecycle:
            names.append(f"hs_v2_date_entered_{value}")
            names.append(f"hs_lifecyclestage_{value}_date")
    return tuple(dict.fromkeys(names))


def history_properties(object_type: ObjectType | str) -> tuple[str, ...]:
    """The properties to read with their history (``propertiesWithHistory``).

    Examples:
        >>> history_properties("contacts"), history_properties("deals")
        (('lifecyclestage', 'hubspot_owner_id'), ())

    """
    if ObjectType(object_type) is ObjectType.CONTACTS:
        return ("lifecyclestage", "hubspot_owner_id")
    return ()


def mapped_properties(mapping: HubSpotMapping) -> dict[str, str]:
    """The contact properties the settings name -> the setting naming each, for the check
    at start that HubSpot knows them (it drops unknown ones without an error).

    Examples:
        >>> mapped_properties(HubSpotMapping(persona_property="hs_persona"))
        {'hs_persona': 'persona_property'}

    """
    named: dict[str, str] = {}
    for setting in ("segment_property", "persona_property", "hand_raiser_property"):
        value = getattr(mapping, setting)
        if value is not None:
            named.setdefault(value, setting)
    return named


def check_properties(
    mapping: HubSpotMapping,
    known: Iterable[str],
    *,
    lifecycle_stages: Iterable[str] | None = None,
) -> None:
    """Check at start that HubSpot knows what the settings name: HubSpot drops an unknown
    property from its answers without a word, which would read as empty values.

    Args:
        mapping: The mapping settings.
        known: The names of the portal's contact properties (the properties API).
        lifecycle_stages: The values ``lifecyclestage`` can take (its options), if read:
            a ``stage_values`` entry naming another is an error too (a mistyped custom
            stage id).

    Raises:
        ValidationError: A property or stage named is unknown, naming the setting; a
            :class:`~slacore.errors.ConfigError` lists every one when there are several.

    Examples:
        >>> try:
        ...     check_properties(HubSpotMapping(persona_property="persona"), ["hs_persona"])
        ... except ValidationError as error:
        ...     print(error)
        persona_property: HubSpot has no contact property 'persona' (did you mean "hs_persona"?)

    """
    names = set(known)
    problems = Problems()
    for name, setting in mapped_properties(mapping).items():
        if name not in names:
            hint = suggest(name, names)
            problems.add(
                (setting,),
                f"HubSpot has no contact property {name!r}"
                + (f" ({hint.removeprefix('; ')})" if hint else ""),
                name,
            )
    if lifecycle_stages is not None:
        options = set(lifecycle_stages)
        for value in mapping.stage_values:
            if value not in options:
                problems.add(
                    ("stage_values", value),
                    f"HubSpot has no lifecycle stage {value!r} (its stages: "
                    f"{', '.join(sorted(options))})",
                    value,
                )
    problems.raise_any("the HubSpot mapping settings")
