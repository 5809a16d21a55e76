"""The settings of the Salesforce mapping, the SOQL fields each object needs, and the check
of the mapped fields against the org's ``describe()``."""

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
from slacore.model import STANDARD_LADDER
from slacore_connectors._crm import (
    StageMap,
    Vocabulary,
    check_fields_and_handoff,
    exit_stage_keys,
    hand_raiser_values,
    stage_keys,
    table,
)


class SalesforceObject(enum.StrEnum):
    """The Salesforce objects read, by their API names."""

    LEAD = "Lead"
    LEAD_HISTORY = "LeadHistory"
    TASK = "Task"
    EVENT = "Event"
    OPPORTUNITY = "Opportunity"
    USER = "User"


class HandoffClock(enum.StrEnum):
    """When the rep is notified of a hand-off, the moment the response clock starts."""

    LATER_OF_STATUS_AND_USER_OWNER = "later_of_status_and_user_owner"
    """The later of the moment the lead entered the hand-off status and the moment a user
    (an ``005`` id, not a queue ``00G``) owned it (the default): a lead a queue owns is
    notified when a user takes it from the queue (assignment rules, a rep accepting it). One
    still in a queue has no hand-off yet (a :class:`~slacore_connectors.salesforce.results.
    PendingHandoff`)."""
    STATUS_ENTERED = "status_entered"
    """The moment the lead entered the hand-off status, queue or not."""


DEFAULT_STATUS_VALUES: Final[Mapping[str, str]] = {
    "Open - Not Contacted": "mql",
    "Working - Contacted": "sal",
    "Closed - Converted": "opportunity",
    "Closed - Not Converted": "disqualified",
}
"""The four values of a new org's standard ``Lead.Status`` picklist (VENDORS.md 3.1 and 3.3;
Salesforce's Lead object reference: "Open - Not Contacted" is the picklist's default, the
converted status is "Closed - Converted") -> the standard ladder's keys:

- ``Open - Not Contacted`` -> ``mql``: a lead in Salesforce's lead queue waiting for sales,
  the status it is handed over in (the default ``handoff_status``);
- ``Working - Contacted`` -> ``sal``: a rep accepted it and is working it;
- ``Closed - Converted`` -> ``opportunity``: conversion makes a contact and, usually, an
  opportunity;
- ``Closed - Not Converted`` -> ``disqualified``: an exit stage.

Orgs edit the picklist: map your values in ``status_values``. An entry whose key is not one
of ``stages`` or ``exit_stages`` is left out, so a ladder of your own takes only what fits.
"""

_CLOCKS: Final = ", ".join(clock.value for clock in HandoffClock)

MAPPING_SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="status_values",
        kind=SettingKind.TABLE,
        help="Lead.Status picklist values (API names) to LeadStage keys, added to the "
        'standard ones: {"Nurture" = "lead", "Sales Accepted" = "sal"}',
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
        name="segment_field",
        help="the Lead field whose value is the lead's segment (API name, custom __c included)",
    ),
    Setting(
        name="persona_field",
        help="the Lead field holding the buyer persona (API name); with segment_field the "
        "segment is 'persona x segment'",
    ),
    Setting(
        name="hand_raiser_field",
        help="the Lead field that says a lead asked for sales follow-up (e.g. Demo_Request__c)",
    ),
    Setting(
        name="hand_raiser_values",
        kind=SettingKind.LIST,
        help="values of hand_raiser_field that make a hand-raiser (default: the field is a "
        "checkbox, read as true or false)",
    ),
    Setting(
        name="handoff_status",
        help="the Lead.Status value whose reaching hands a lead to sales "
        "(default: Open - Not Contacted)",
    ),
    Setting(
        name="handoff_notified",
        choices=tuple(clock.value for clock in HandoffClock),
        help=f"when the rep is notified of a hand-off: {_CLOCKS} "
        "(default: later_of_status_and_user_owner)",
    ),
    Setting(
        name="currency",
        help="the ISO code of the currency deals are counted in (multi-currency orgs): an "
        "opportunity in another CurrencyIsoCode is rejected, never summed with these",
    ),
)
"""The settings of the mapping, for the connector's ``settings_schema``; read them with
:meth:`SalesforceMapping.from_settings`."""

_WORDS: Final = Vocabulary(
    values_setting="status_values",
    value="Lead.Status value",
    stage="status",
    stage_map="status map",
    handoff_setting="handoff_status",
    field="field",
    field_pattern=re.compile(r"[A-Za-z][A-Za-z0-9_]*"),
    field_example="expected a Lead field's API name like Persona__c (not its label)",
)
_CURRENCY: Final = re.compile(r"[A-Z]{3}")


def _status_values(value: Any) -> dict[str, Any]:
    return table("status_values")(value)


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
class SalesforceMapping(StageMap):
    """The settings of the Salesforce mapping, checked: which status is which stage, which
    Lead fields give segment, persona and hand-raiser, and the hand-off rule.

    Attributes:
        status_values: ``Lead.Status`` values -> stage keys, added to
            :data:`DEFAULT_STATUS_VALUES` (an entry here wins). Each key must be one of
            ``stages`` or ``exit_stages``.
        stages: The keys of the stage ladder, in order (default: the standard ladder). A
            lead reaches the hand-off stage when it moves into it or a later stage from an
            earlier one, from no stage or from an exit stage.
        exit_stages: Stage keys outside the ladder (disqualified, recycled).
        segment_field: The Lead field (API name; custom ``__c`` fields too) whose value is
            the segment, if any.
        persona_field: The Lead field holding the buyer persona, if any. With
            ``segment_field`` the segment is ``"<persona> x <segment>"``; alone, the persona
            is the segment.
        hand_raiser_field: The Lead field saying a lead asked for follow-up, if any.
        hand_raiser_values: The values of ``hand_raiser_field`` that make a hand-raiser (any
            of a multi-select picklist's ``;``-separated values, ignoring case). Without them
            the field is a checkbox (``true``/``false``); empty is no.
        handoff_status: The ``Lead.Status`` value whose reaching hands a lead to sales
            (default ``Open - Not Contacted``); it must map to a stage of ``stages``.
        handoff_notified: When the rep is notified (:class:`HandoffClock`).
        currency: The ISO code deals are counted in, if the org is multi-currency: an
            opportunity whose ``CurrencyIsoCode`` differs is rejected (slacore converts no
            money). ``None``: amounts are taken as they are, whatever their currency.

    Raises:
        ValidationError: A setting is invalid; :class:`~slacore.errors.ConfigError` (a
            ``ValidationError``) lists every problem when there are several, each naming its
            setting in ``field``.

    Examples:
        >>> mapping = SalesforceMapping(status_values={"Nurture": "lead"})
        >>> mapping.stage_key("Nurture"), mapping.stage_key("Working - Contacted")
        ('lead', 'sal')

    """

    SETTINGS: ClassVar[tuple[Setting, ...]] = MAPPING_SETTINGS
    WORDS: ClassVar[Vocabulary] = _WORDS

    status_values: Mapping[str, str] = attrs.field(factory=dict, converter=_status_values)
    stages: tuple[str, ...] = attrs.field(default=STANDARD_LADDER.keys, converter=stage_keys)
    exit_stages: tuple[str, ...] = attrs.field(
        default=DEFAULT_EXIT_STAGES, converter=exit_stage_keys
    )
    segment_field: str | None = None
    persona_field: str | None = None
    hand_raiser_field: str | None = None
    hand_raiser_values: tuple[str, ...] = attrs.field(default=(), converter=hand_raiser_values)
    handoff_status: str = "Open - Not Contacted"
    handoff_notified: HandoffClock = attrs.field(
        default=HandoffClock.LATER_OF_STATUS_AND_USER_OWNER, converter=_clock
    )
    currency: str | None = None
    statuses: Mapping[str, str] = attrs.field(init=False)
    """The status map in force: ``Lead.Status`` value -> stage key."""
    _folded: Mapping[str, str] = attrs.field(init=False, repr=False)

    @statuses.default
    def _statuses_default(self) -> Mapping[str, str]:
        known = {*self.stages, *self.exit_stages}
        merged = {k: v for k, v in DEFAULT_STATUS_VALUES.items() if v in known}
        merged.update(self.status_values)
        return merged

    @_folded.default
    def _folded_default(self) -> Mapping[str, str]:
        return {" ".join(str(k).split()).casefold(): v for k, v in self.statuses.items()}

    def __attrs_post_init__(self) -> None:
        problems = Problems()
        self._check_stages(problems)
        check_fields_and_handoff(problems, _WORDS, self, in_force=self.statuses)
        if self.currency is not None and (
            not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency)
        ):
            problems.add(
                ("currency",), f"expected an ISO currency code like USD, got {self.currency!r}"
            )
        problems.raise_any("the Salesforce mapping settings")

    def stage_key(self, status: str, *, field: str = "Status") -> str:
        """The stage key of ``Lead.Status`` value ``status`` (exact, then ignoring case and
        runs of spaces).

        Raises:
            ValidationError: ``status`` is not in the status map; ``field`` names the field.

        """
        key = self.statuses.get(status)
        if key is None:
            key = self._folded.get(" ".join(status.split()).casefold())
        if key is None:
            raise ValidationError(
                message=f"unknown Lead.Status {status!r}: map it in status_values "
                f"(known: {', '.join(self.statuses)})",
                field=field,
                value=status,
            )
        return key

    @property
    def handoff_rank(self) -> int:
        """The rank of the hand-off status's stage."""
        return self.rank(self.statuses[self.handoff_status])


# --- SOQL fields ------------------------------------------------------------------------------

_FIELDS: Final[Mapping[SalesforceObject, tuple[str, ...]]] = {
    SalesforceObject.LEAD: (
        "Id",
        "Status",
        "LeadSource",
        "OwnerId",
        "CreatedDate",
        "IsConverted",
        "ConvertedDate",
        "ConvertedContactId",
        "ConvertedOpportunityId",
        "ConvertedAccountId",
        "IsDeleted",
        "SystemModstamp",
    ),
    SalesforceObject.LEAD_HISTORY: (
        "Id",
        "LeadId",
        "Field",
        "DataType",
        "OldValue",
        "NewValue",
        "CreatedDate",
        "IsDeleted",
    ),
    SalesforceObject.TASK: (
        "Id",
        "WhoId",
        "OwnerId",
        "TaskSubtype",
        "Type",
        "CallType",
        "IsClosed",
        "CreatedDate",
        "IsDeleted",
        "SystemModstamp",
    ),
    SalesforceObject.EVENT: (
        "Id",
        "WhoId",
        "OwnerId",
        "StartDateTime",
        "IsAllDayEvent",
        "CreatedDate",
        "IsDeleted",
        "SystemModstamp",
    ),
    SalesforceObject.OPPORTUNITY: (
        "Id",
        "Amount",
        "CloseDate",
        "IsWon",
        "IsClosed",
        "OwnerId",
        "CreatedDate",
        "IsDeleted",
        "SystemModstamp",
    ),
    SalesforceObject.USER: ("Id", "Name", "Email", "IsActive", "SystemModstamp"),
}

_OPTIONAL: Final[Mapping[SalesforceObject, tuple[str, ...]]] = {
    SalesforceObject.TASK: ("CompletedDateTime",),
    SalesforceObject.OPPORTUNITY: ("CurrencyIsoCode",),
}
"""Fields not every org has: ``CompletedDateTime`` (API 39.0 and later), ``CurrencyIsoCode``
(multi-currency orgs only). Asking SOQL for a field the org lacks is an ``INVALID_FIELD``."""


def fields(
    mapping: SalesforceMapping,
    sobject: SalesforceObject | str,
    *,
    available: Iterable[str] | None = None,
) -> tuple[str, ...]:
    """The fields to select from ``sobject``: those the mapping reads and the cursor
    (``SystemModstamp``; ``CreatedDate`` for LeadHistory, which has no other).

    For Lead: also the mapped fields (segment, persona, hand-raiser). Optional fields
    (``CompletedDateTime`` of Task, ``CurrencyIsoCode`` of Opportunity) are selected only
    when ``available`` (the field names of the object's ``describe()``) has them; without
    ``available`` they are left out, as SOQL refuses a field the org lacks.

    Examples:
        >>> fields(SalesforceMapping(), "User")
        ('Id', 'Name', 'Email', 'IsActive', 'SystemModstamp')
        >>> fields(SalesforceMapping(), "Task", available=["CompletedDateTime"])[-1]
        'CompletedDateTime'

    """
    sobject = SalesforceObject(sobject)
    names = list(_FIELDS[sobject])
    if sobject is SalesforceObject.LEAD:
        names.extend(mapped_fields(mapping))
    if available is not None:
        have = set(available)
        names.extend(name for name in _OPTIONAL.get(sobject, ()) if name in have)
    return tuple(dict.fromkeys(names))


def mapped_fields(mapping: SalesforceMapping) -> dict[str, str]:
    """The Lead fields the settings name -> the setting naming each.

    Examples:
        >>> mapped_fields(SalesforceMapping(persona_field="Persona__c"))
        {'Persona__c': 'persona_field'}

    """
    named: dict[str, str] = {}
    for setting in ("segment_field", "persona_field", "hand_raiser_field"):
        value = getattr(mapping, setting)
        if value is not None:
            named.setdefault(value, setting)
    return named


def _describe_fields(describe_answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = describe_answer.get("fields") if isinstance(describe_answer, Mapping) else None
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise ValidationError(
            message="expected a describe() answer, an object with fields", field="fields"
        )
    return [
        item for item in items if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    ]


def check_fields(mapping: SalesforceMapping, describe_answer: Mapping[str, Any]) -> None:
    """Check at start that the org's Lead has what the settings name: a mapped field it lacks
    would make every SOQL query fail (``INVALID_FIELD``), a status it lacks would never match.

    Args:
        mapping: The mapping settings.
        describe_answer: The Lead's ``describe()`` answer (``sf.Lead.describe()``): its
            ``fields``, each with ``name`` and, for ``Status``, ``picklistValues``.

    Raises:
        ValidationError: A field named is not on the org's Lead, or a ``status_values`` key
            (or ``handoff_status``) is no value of its ``Status`` picklist, naming the
            setting; a :class:`~slacore.errors.ConfigError` lists every one when there are
            several.

    Examples:
        >>> answer = {"name": "Lead", "fields": [{"name": "Id"}, {"name": "Persona__c"}]}
        >>> try:
        ...     check_fields(SalesforceMapping(persona_field="Persona_c"), answer)
        ... except ValidationError as error:
        ...     print(error)
        persona_field: the org's Lead has no field 'Persona_c' (did you mean "Persona__c"?)

    """
    described = _describe_fields(describe_answer)
    names = {item["name"] for item in described}
    folded = {name.casefold() for name in names}  # SOQL field names ignore case
    problems = Problems()
    for name, setting in mapped_fields(mapping).items():
        if name.casefold() not in folded:
            hint = suggest(name, names)
            problems.add(
                (setting,),
                f"the org's Lead has no field {name!r}"
                + (f" ({hint.removeprefix('; ')})" if hint else ""),
                name,
            )
    status = next((item for item in described if item["name"] == "Status"), None)
    picklist = status.get("picklistValues") if status is not None else None
    if isinstance(picklist, Sequence) and not isinstance(picklist, str) and picklist:
        listed = [str(item.get("value")) for item in picklist if isinstance(item, Mapping)]
        values = {" ".join(v.split()).casefold() for v in listed}
        wanted: list[tuple[tuple[str, ...], str]] = [
            (("status_values", v), v) for v in mapping.status_values
        ]
        wanted.append((("handoff_status",), mapping.handoff_status))
        for path, value in wanted:
            if " ".join(value.split()).casefold() not in values:
                problems.add(
                    path,
                    f"the org's Lead.Status has no value {value!r} (its values: "
                    f"{', '.join(listed)})",
                    value,
                )
    problems.raise_any("the Salesforce mapping settings")
