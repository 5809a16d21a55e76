"""What the CRM connectors' mappings share (HubSpot, Salesforce): the checks of a stage map's
settings, and the shape of what one CRM object maps to.

Each CRM names things its own way (a HubSpot *lifecycle stage* held in a *property*, a
Salesforce *Lead.Status* held in a *field*); the helpers here take those names, so each
connector's messages speak its CRM's language while the rules stay one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Generic, Self, TypeVar

import attrs

from slacore._config import Problems
from slacore.connector import Batch, Cursor, Record, RejectedRecord, Setting, Stream
from slacore.connector.streams import JSONScalar
from slacore.errors import ValidationError
from slacore.model import Handoff, OwnerChange, StageChange

R = TypeVar("R", bound=Record)

_KEY: Final = re.compile(r"\S+")

#: The streams a CRM connector reads, in the order it reads them.
CRM_STREAMS: Final = (
    Stream.LEADS,
    Stream.STAGE_CHANGES,
    Stream.OWNER_CHANGES,
    Stream.HANDOFFS,
    Stream.TOUCHES,
    Stream.DEALS,
    Stream.REPS,
)
#: The lead's streams its ``leads`` pass carries (``Connector.carries``), with their record
#: types: one CRM object (a contact, a lead and its history) gives all four.
CARRIED: Final = (
    (Stream.STAGE_CHANGES, StageChange),
    (Stream.OWNER_CHANGES, OwnerChange),
    (Stream.HANDOFFS, Handoff),
)
LEAD_STREAMS: Final = tuple(stream for stream, _ in CARRIED)


def iso_z(moment: datetime) -> str:
    """``moment`` in UTC, ISO 8601, written with a ``Z`` as the CRMs write it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- settings ----------------------------------------------------------------------------------


def table(field: str) -> Callable[[Any], dict[str, Any]]:
    """A converter of setting ``field`` to a dict (``None``: empty), refusing anything else."""

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


def names(field: str) -> Callable[[Any], tuple[str, ...]]:
    """A converter of setting ``field`` to a tuple of names, refusing a bare string."""

    def convert(value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValidationError(
                message=f"expected a list of names, got {value!r}", field=field, value=value
            )
        return tuple(value)

    return convert


def stage_keys(value: Any) -> tuple[str, ...]:
    """The ``stages`` setting's converter."""
    return names("stages")(value)


def exit_stage_keys(value: Any) -> tuple[str, ...]:
    """The ``exit_stages`` setting's converter."""
    return names("exit_stages")(value)


def hand_raiser_values(value: Any) -> tuple[str, ...]:
    """The ``hand_raiser_values`` setting's converter."""
    return names("hand_raiser_values")(value)


@attrs.frozen(kw_only=True)
class Vocabulary:
    """How one CRM's mapping names its things, for the shared checks' messages.

    Attributes:
        values_setting: The setting mapping the CRM's stage values to stage keys.
        value: What one of those values is (``"lifecycle stage value"``).
        stage: What the hand-off setting names (``"lifecycle stage"``, ``"status"``).
        stage_map: What the map in force is called (``"stage map"``, ``"status map"``).
        handoff_setting: The setting naming the hand-off value.
        field: What holds a value on a record (``"property"``, ``"field"``).
        field_pattern: A well-formed field name.
        field_example: The sentence telling what a field name looks like.

    """

    values_setting: str
    value: str
    stage: str
    stage_map: str
    handoff_setting: str
    field: str
    field_pattern: re.Pattern[str]
    field_example: str


def check_ladder(
    problems: Problems,
    words: Vocabulary,
    *,
    stages: Sequence[str],
    exit_stages: Sequence[str],
    values: Mapping[str, str],
) -> None:
    """Add to ``problems`` what is wrong with a ladder and the values mapped onto it: keys with
    spaces or twice, no stage, a key both a stage and an exit stage, a value mapped to no key."""
    for name, keys in (("stages", stages), ("exit_stages", exit_stages)):
        seen: set[str] = set()
        for key in keys:
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                problems.add((name,), f"expected stage keys without spaces, got {key!r}", key)
            elif key in seen:
                problems.add((name,), f"stage key {key!r} appears twice", key)
            seen.add(key)
    if not stages:
        problems.add(("stages",), "the ladder needs at least one stage")
    both = sorted(set(stages) & set(exit_stages))
    if both:
        problems.add(
            ("exit_stages",), f"{', '.join(both)} also in stages: a stage is one or the other"
        )
    known = (*stages, *exit_stages)
    for value, key in values.items():
        if not isinstance(value, str) or not value.strip():
            problems.add((words.values_setting,), f"expected a {words.value}, got {value!r}")
        elif key not in known:
            problems.add(
                (words.values_setting, value),
                f"maps {value!r} to {key!r}, which is not a stage (known: "
                f"{', '.join(known)}; add it to stages or exit_stages)",
                key,
            )


def check_fields_and_handoff(
    problems: Problems,
    words: Vocabulary,
    mapping: Any,
    *,
    in_force: Mapping[str, str],
) -> None:
    """Add to ``problems`` what is wrong with a mapping's field settings (``segment_<field>``,
    ``persona_<field>``, ``hand_raiser_<field>`` and ``hand_raiser_values``) and its hand-off
    value, which must map (``in_force``: value -> key) to a stage of ``mapping.stages``."""
    for name in (f"segment_{words.field}", f"persona_{words.field}", f"hand_raiser_{words.field}"):
        value = getattr(mapping, name)
        if value is not None and (
            not isinstance(value, str) or not words.field_pattern.fullmatch(value)
        ):
            problems.add((name,), f"{words.field_example}, got {value!r}", value)
    hand_raiser = f"hand_raiser_{words.field}"
    if mapping.hand_raiser_values and getattr(mapping, hand_raiser) is None:
        problems.add(("hand_raiser_values",), f"needs {hand_raiser}, the {words.field} they are of")
    if not all(isinstance(v, str) and v.strip() for v in mapping.hand_raiser_values):
        problems.add(("hand_raiser_values",), f"expected non-empty {words.field} values")
    handoff = getattr(mapping, words.handoff_setting)
    key = in_force.get(handoff) if isinstance(handoff, str) else None
    if key is None:
        problems.add(
            (words.handoff_setting,),
            f"{handoff!r} is no {words.stage} of the {words.stage_map} (known: "
            f"{', '.join(in_force)}); map it in {words.values_setting}",
            handoff,
        )
    elif key not in mapping.stages:
        problems.add(
            (words.handoff_setting,),
            f"{handoff!r} maps to {key!r}, which is not a stage of the ladder "
            f"(stages: {', '.join(mapping.stages)})",
            handoff,
        )


class StageMap:
    """What a CRM's mapping settings class shares (an attrs class mixing this in): reading
    itself from a connector's settings, the ladder's checks and its ranks.

    The class sets ``SETTINGS`` (its mapping settings), ``WORDS`` (its :class:`Vocabulary`)
    and has ``stages``, ``exit_stages`` and the ``WORDS.values_setting`` attribute.
    """

    SETTINGS: ClassVar[tuple[Setting, ...]]
    WORDS: ClassVar[Vocabulary]
    stages: tuple[str, ...]
    exit_stages: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """The mapping from a connector's settings: the mapping settings given (others are
        the connector's and left alone; ``None`` is a default).

        Raises:
            ValidationError: A setting is invalid (see the class).

        """
        names = {setting.name for setting in cls.SETTINGS}
        given = {k: v for k, v in settings.items() if k in names and v is not None}
        return cls(**given)

    def _check_stages(self, problems: Problems) -> None:
        check_ladder(
            problems,
            self.WORDS,
            stages=self.stages,
            exit_stages=self.exit_stages,
            values=getattr(self, self.WORDS.values_setting),
        )

    def rank(self, key: str | None) -> int:
        """A stage key's position in the ladder; ``-1`` for no stage and exit stages."""
        return self.stages.index(key) if key in self.stages else -1


# --- values ---------------------------------------------------------------------------------


def joined_segment(persona: str | None, segment: str | None) -> str | None:
    """A lead's segment from its persona and segment values: ``"<persona> x <segment>"``,
    either alone, or ``None``."""
    if persona and segment:
        return f"{persona} x {segment}"
    return persona or segment


def names_any(value: str, wanted: Iterable[str]) -> bool:
    """Whether any ``;``-separated part of ``value`` (a multi-select's) is one of ``wanted``,
    ignoring case and surrounding spaces."""
    folded = {v.strip().casefold() for v in wanted}
    return any(part.strip().casefold() in folded for part in value.split(";"))


# --- results -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PendingHandoffBase:
    """A lead that reached the hand-off stage but whose rep was not notified yet, or not
    before it reached the stage again; each CRM says it in its own words (``__str__``).

    Attributes:
        lead_id: The lead (a HubSpot contact, a Salesforce lead).
        stage: The stage key it entered.
        reached_at: When it reached the stage.
        superseded_at: When it reached the stage again, still without a rep, if it did.

    """

    lead_id: str
    stage: str
    reached_at: datetime
    superseded_at: datetime | None = None


def _rejected(value: Iterable[RejectedRecord]) -> tuple[RejectedRecord, ...]:
    return tuple(value)


def _records(value: Iterable[Record]) -> tuple[Record, ...]:
    return tuple(value)


P = TypeVar("P", bound=PendingHandoffBase)


def _pending(value: Iterable[Any]) -> tuple[Any, ...]:  # of P: the class's type says it
    return tuple(value)


@attrs.frozen(kw_only=True, hash=False)  # holds rejected records: unhashable
class MappedBase(Generic[P]):
    """What one CRM object gave: its records, or the one rejected record saying why not;
    ``P`` is the CRM's kind of :class:`PendingHandoffBase`.

    Attributes:
        records: The core objects, of one or more streams (see :meth:`of`).
        rejected: The rejection, when the object could not be mapped (then no records).
        pending: Hand-offs whose rep was not notified yet (leads only): to show the user.

    """

    records: tuple[Record, ...] = attrs.field(default=(), converter=_records)
    rejected: tuple[RejectedRecord, ...] = attrs.field(default=(), converter=_rejected)
    pending: tuple[P, ...] = attrs.field(default=(), converter=_pending)

    def of(self, record_type: type[R]) -> tuple[R, ...]:
        """The records of one core type (``Lead``, ``Handoff``...), in order."""
        return tuple(r for r in self.records if type(r) is record_type)


def carried_batches(
    mapped: Sequence[MappedBase[Any]],
    state: Mapping[str, JSONScalar],
    wanted: set[Stream],
    first: dict[Stream, bool],
) -> Iterator[Batch]:
    """The batches of the :data:`CARRIED` streams ``wanted`` of one page of leads, each at
    the page's cursor ``state``; ``first`` says which stream's batch is its first of a read
    from the start, and is updated."""
    for stream, kind in CARRIED:
        if stream in wanted:
            yield Batch(
                stream=stream,
                records=[record for item in mapped for record in item.of(kind)],
                cursor=Cursor(stream=stream, state=state),
                from_start=first[stream],
            )
            first[stream] = False


@attrs.define
class PendingTally:
    """A window's hand-offs whose rep was not notified yet: how many, and the first few, so
    a connector says them in one notice a window (one a page would be a hundred lines of a
    large first sync).

    Attributes:
        rep: What the CRM notifies ("an owner", "a user"), for the notice.
        count: How many were added.
        named: The first few, named in the notice.

    """

    rep: str
    count: int = 0
    named: list[PendingHandoffBase] = attrs.field(factory=list)

    def add(self, mapped: Iterable[MappedBase[Any]]) -> None:
        """Count the pending hand-offs of ``mapped``."""
        for item in mapped:
            for pending in item.pending:
                self.count += 1
                if len(self.named) < 3:
                    self.named.append(pending)

    def notices(self) -> tuple[str, ...]:
        """The window's one notice, naming a few leads (none when nothing is pending)."""
        if not self.count:
            return ()
        named = "; ".join(str(item) for item in self.named)
        more = f" (and {self.count - len(self.named)} more)" if self.count > len(self.named) else ""
        return (f"{self.count} hand-off(s) without {self.rep} to notify: {named}{more}",)
