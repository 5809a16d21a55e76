"""The settings of the HubSpot mapping, and the properties each object type needs."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final

import attrs

from slacore._config import Problems, suggest
from slacore.agreement.sections import DEFAULT_EXIT_STAGES
from slacore.connector import Setting, SettingKind
from slacore.errors import ValidationError
from slacore.model import STANDARD_LADDER, Team
from slacore_connectors._crm import (
    StageMap,
    Vocabulary,
    check_fields_and_handoff,
    exit_stage_keys,
    hand_raiser_values,
    stage_keys,
    table,
)


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

_WORDS: Final = Vocabulary(
    values_setting="stage_values",
    value="lifecycle stage value",
    stage="lifecycle stage",
    stage_map="stage map",
    handoff_setting="handoff_stage",
    field="property",
    field_pattern=re.compile(r"[A-Za-z0-9_]+"),
    field_example="expected a HubSpot property's internal name like hs_persona (not its label)",
)


def _stage_values(value: Any) -> dict[str, Any]:
    return table("stage_values")(value)


def _team_values(value: Any) -> dict[str, Any]:
    return table("team_values")(value)


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
class HubSpotMapping(StageMap):
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

    SETTINGS: ClassVar[tuple[Setting, ...]] = MAPPING_SETTINGS
    WORDS: ClassVar[Vocabulary] = _WORDS

    stage_values: Mapping[str, str] = attrs.field(factory=dict, converter=_stage_values)
    stages: tuple[str, ...] = attrs.field(default=STANDARD_LADDER.keys, converter=stage_keys)
    exit_stages: tuple[str, ...] = attrs.field(
        default=DEFAULT_EXIT_STAGES, converter=exit_stage_keys
    )
    segment_property: str | None = None
    persona_property: str | None = None
    hand_raiser_property: str | None = None
    hand_raiser_values: tuple[str, ...] = attrs.field(default=(), converter=hand_raiser_values)
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
        check_fields_and_handoff(problems, _WORDS, self, in_force=self.lifecycle)
        teams = ", ".join(t.value for t in Team)
        for name, team in self.team_values.items():
            if not isinstance(team, str) or team.strip().lower() not in {t.value for t in Team}:
                problems.add(
                    ("team_values", str(name)), f"expected one of {teams}, got {team!r}", team
                )
        problems.raise_any("the HubSpot mapping settings")

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
        "hubspot_owner_id",
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
