"""The reads of the ``hubspot`` connector: HubSpot's pages, mapped, as batches with cursors.

:class:`Reader` reads one run's worth of each object type: one window of its modified time
(:mod:`._window`), a search page at a time; for each page it reads what the search does not
give (contacts' histories by batch reads, engagements' and deals' contacts by v4 association
reads) and yields the page's batches. The cursor of a page's batches says the window is being
read up to the page's last id; the batch after the last page moves it to the window's end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from slacore.connector import Batch, Cursor, RejectedRecord, Stream
from slacore.connector.streams import JSONScalar
from slacore.model import Lead
from slacore_connectors._crm import PendingTally, carried_batches
from slacore_connectors.hubspot._times import parse_time
from slacore_connectors.hubspot._window import Window, state_of
from slacore_connectors.hubspot.client import ASSOCIATIONS_BATCH, HubSpotClient
from slacore_connectors.hubspot.mapping import (
    HubSpotMapping,
    Mapped,
    ObjectType,
    history_properties,
    map_contact,
    map_deal,
    map_engagement,
    map_owner,
    properties,
)

_ENGAGEMENTS: Final = (ObjectType.CALLS, ObjectType.EMAILS, ObjectType.MEETINGS)
# Only a rep's engagements are touches: the searches ask for them alone (the mapping still
# rejects any other that comes): sent emails; calls not inbound (a call logged without a
# direction is the rep's); meetings not cancelled.
_TOUCHES_ONLY: Final[Mapping[ObjectType, tuple[tuple[dict[str, Any], ...], ...]]] = {
    ObjectType.EMAILS: (
        ({"propertyName": "hs_email_direction", "operator": "EQ", "value": "EMAIL"},),
    ),
    ObjectType.CALLS: (
        ({"propertyName": "hs_call_direction", "operator": "NEQ", "value": "INBOUND"},),
        ({"propertyName": "hs_call_direction", "operator": "NOT_HAS_PROPERTY"},),
    ),
    ObjectType.MEETINGS: (
        (
            {
                "propertyName": "hs_meeting_outcome",
                "operator": "NOT_IN",
                "values": ["CANCELED", "CANCELLED"],
            },
        ),
        ({"propertyName": "hs_meeting_outcome", "operator": "NOT_HAS_PROPERTY"},),
    ),
}
_MERGED: Final = "hs_merged_object_ids"


def _grouped(
    pages: Iterable[list[dict[str, Any]]], size: int = ASSOCIATIONS_BATCH
) -> Iterator[list[dict[str, Any]]]:
    """Search pages joined into groups of up to ``size`` objects (a page is never split),
    so one association read answers for several pages."""
    group: list[dict[str, Any]] = []
    for page in pages:
        if group and len(group) + len(page) > size:
            yield group
            group = []
        group.extend(page)
    if group:
        yield group


def _ids(page: Iterable[dict[str, Any]]) -> list[str]:
    return [str(item.get("id")) for item in page]


def _last(ids: Sequence[str]) -> int:
    return max(int(given) for given in ids)


def _merged(objects: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of the contacts merged into these (each survivor's ``hs_merged_object_ids``)."""
    gone: list[str] = []
    for obj in objects:
        value = (obj.get("properties") or {}).get(_MERGED)
        if isinstance(value, str):
            gone.extend(part.strip() for part in value.split(";") if part.strip())
    return gone


def _batch(
    stream: Stream,
    mapped: Sequence[Mapped],
    state: dict[str, JSONScalar],
    *,
    first: bool,
    deleted: Sequence[str] = (),
) -> Batch:
    """The batch of the objects ``mapped``: their records and their rejections."""
    return Batch(
        stream=stream,
        records=[record for item in mapped for record in item.records],
        rejected=[record for item in mapped for record in item.rejected],
        deleted=deleted,
        cursor=Cursor(stream=stream, state=state),
        from_start=first,
    )


def _since(value: object, since: datetime) -> bool:
    """Whether a HubSpot time is at or after ``since``; one that cannot be read counts as
    after (reading a record again changes nothing; skipping it would lose a change)."""
    try:
        return value is None or parse_time(value, field="updatedAt") >= since
    except ValueError:
        return True


def _message(errors: Sequence[dict[str, Any]]) -> str:
    for error in errors:
        message = error.get("message")
        if isinstance(message, str) and message.strip():
            return " ".join(message.split())
    return "no reason given"


@attrs.define(kw_only=True)
class Reader:
    """One run's reads: each object type's window ends ``lag`` before ``now``.

    Attributes:
        client: Fetches the pages.
        mapping: The mapping settings.
        now: The run's start.
        lookback: How far before the last window's end the next one starts.
        lag: How far before ``now`` the window ends.
        start: Where a first read starts.

    """

    client: HubSpotClient
    mapping: HubSpotMapping
    now: datetime
    lookback: timedelta
    lag: timedelta
    start: datetime

    def _window(self, object_type: str, state: dict[str, JSONScalar]) -> Window:
        return Window.plan(
            object_type,
            state,
            now=self.now,
            lookback=self.lookback,
            lag=self.lag,
            start=self.start,
        )

    def _search(
        self,
        window: Window,
        wanted: Sequence[str],
        any_of: Sequence[Sequence[dict[str, Any]]] = (),
    ) -> Iterator[list[dict[str, Any]]]:
        return self.client.search_window(
            window.object_type,
            window.since,
            window.until,
            wanted,
            after_id=window.after,
            any_of=any_of,
        )

    def _archived(self, object_type: ObjectType, since: datetime) -> list[str]:
        """The ids of the objects archived since ``since`` (deleted or merged away)."""
        # An archive whose time cannot be read is taken as recent: deleting an id the store
        # does not hold changes nothing.
        return [
            str(obj.get("id"))
            for page in self.client.archived(object_type.value)
            for obj in page
            if _since(obj.get("archivedAt") or None, since)
        ]

    # -- contacts --------------------------------------------------------------------------

    def contacts(self, cursor: Cursor | None, wanted: set[Stream]) -> Iterator[Batch]:
        """The batches of the ``wanted`` contact streams: per page, the stage changes, owner
        changes and hand-offs first, the leads (with rejections and deletions) last."""
        state = state_of(cursor)
        first = dict.fromkeys(Stream, cursor is None)
        wanted_properties = (*properties(self.mapping, ObjectType.CONTACTS), _MERGED)
        history = history_properties(ObjectType.CONTACTS)
        while True:  # a window a stopped read left is finished, then today's is read
            window = self._window(ObjectType.CONTACTS, state)
            pending = PendingTally("an owner")
            for page in self._search(window, ("hs_object_id",)):
                ids = _ids(page)
                objects, rejected = self._read_contacts(ids, wanted_properties, history)
                mapped = [map_contact(obj, self.mapping) for obj in objects]
                pending.add(mapped)
                state = window.reading(state, _last(ids))
                yield from self._contact_batches(
                    mapped, rejected, _merged(objects), state, wanted, first
                )
            deleted = self._archived(ObjectType.CONTACTS, window.since)
            state = window.done(state)
            yield from self._contact_batches(
                [], [], deleted, state, wanted, first, notices=pending.notices()
            )
            if not window.resumed:
                return

    def _read_contacts(
        self, ids: list[str], wanted: Sequence[str], history: Sequence[str]
    ) -> tuple[list[dict[str, Any]], list[RejectedRecord]]:
        """Contacts by id with their histories; an id HubSpot does not answer (207) is asked
        once more, then rejected with HubSpot's reason."""
        objects: list[dict[str, Any]] = []
        missing: list[str] = []
        errors: list[dict[str, Any]] = []
        for attempt in range(2):
            asked, missing = (ids if attempt == 0 else missing), []
            for page in self.client.read_with_history("contacts", asked, wanted, history):
                objects.extend(page.objects)
                missing.extend(page.missing)
                errors.extend(page.errors)
            if not missing:
                break
        objects.sort(key=lambda obj: int(str(obj.get("id"))))
        rejected = [
            RejectedRecord(
                stream=Stream.LEADS,
                reason="HubSpot's batch read did not answer this contact, which its search "
                f"had just found ({_message(errors)}); it is read again when it changes",
                source="HubSpot contacts",
                record_id=given,
            )
            for given in missing
        ]
        return objects, rejected

    def _contact_batches(
        self,
        mapped: Sequence[Mapped],
        rejected: Sequence[RejectedRecord],
        deleted: Sequence[str],
        state: dict[str, JSONScalar],
        wanted: set[Stream],
        first: dict[Stream, bool],
        *,
        notices: Sequence[str] = (),
    ) -> Iterator[Batch]:
        yield from carried_batches(mapped, state, wanted, first)
        if Stream.LEADS in wanted:
            leads = [lead for item in mapped for lead in item.of(Lead)]
            held = {lead.id for lead in leads}
            yield Batch(
                stream=Stream.LEADS,
                records=leads,
                rejected=[*rejected, *(r for item in mapped for r in item.rejected)],
                deleted=[given for given in deleted if given not in held],
                notices=notices,
                cursor=Cursor(stream=Stream.LEADS, state=state),
                from_start=first[Stream.LEADS],
            )
            first[Stream.LEADS] = False

    # -- engagements, deals, owners --------------------------------------------------------

    def _links(
        self, from_type: ObjectType, ids: list[str]
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
        """The contacts of each object, and the objects whose contacts HubSpot could not
        read (a 207 error other than "no associations"), with HubSpot's reason."""
        links: dict[str, tuple[str, ...]] = {}
        failed: dict[str, str] = {}
        for page in self.client.associations(from_type.value, "contacts", ids):
            links.update(page.links)
            for error in page.errors:
                context = error.get("context") or {}
                for given in context.get("fromObjectId") or context.get("ids") or ():
                    failed[str(given)] = _message([error])
        return links, failed

    def _mapped(self, kind: ObjectType, page: list[dict[str, Any]]) -> list[Mapped]:
        """The engagements or deals of a page, each with its contacts; one whose contacts
        HubSpot could not read is rejected with HubSpot's reason, never taken as having none."""
        ids = _ids(page)
        links, failed = self._links(kind, ids)
        stream = Stream.DEALS if kind is ObjectType.DEALS else Stream.TOUCHES
        mapped: list[Mapped] = []
        for obj, given in zip(page, ids, strict=True):
            if given in failed:
                rejected = RejectedRecord(
                    stream=stream,
                    reason=f"HubSpot could not read its contacts ({failed[given]}); it is "
                    "read again when it changes",
                    source=f"HubSpot {kind.value}",
                    record_id=given,
                )
                mapped.append(Mapped(rejected=[rejected]))
            elif kind is ObjectType.DEALS:
                mapped.append(map_deal(obj, links.get(given, ())))
            else:
                mapped.append(map_engagement(kind, obj, links.get(given, ())))
        return mapped

    def touches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The touches of calls, sent emails and meetings, one object type after another."""
        state = state_of(cursor)
        first = cursor is None
        for kind in _ENGAGEMENTS:
            only = _TOUCHES_ONLY[kind]
            while True:  # a window a stopped read left is finished, then today's is read
                window = self._window(kind, state)
                pages = self._search(window, properties(self.mapping, kind), only)
                for page in _grouped(pages):
                    mapped = self._mapped(kind, page)
                    state = window.reading(state, _last(_ids(page)))
                    yield _batch(Stream.TOUCHES, mapped, state, first=first)
                    first = False
                state = window.done(state)
                yield _batch(Stream.TOUCHES, (), state, first=first)
                first = False
                if not window.resumed:
                    break

    def deals(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The deals modified in the window, then the deals archived since its start."""
        state = state_of(cursor)
        first = cursor is None
        wanted = properties(self.mapping, ObjectType.DEALS)
        while True:  # a window a stopped read left is finished, then today's is read
            window = self._window(ObjectType.DEALS, state)
            for page in _grouped(self._search(window, wanted)):
                mapped = self._mapped(ObjectType.DEALS, page)
                state = window.reading(state, _last(_ids(page)))
                yield _batch(Stream.DEALS, mapped, state, first=first)
                first = False
            deleted = self._archived(ObjectType.DEALS, window.since)
            state = window.done(state)
            yield _batch(Stream.DEALS, (), state, first=first, deleted=deleted)
            first = False
            if not window.resumed:
                return

    def reps(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The owners, archived ones too, changed since the window's start (``updatedAt``;
        HubSpot's owners list has no filter, so every page is read and the rest skipped)."""
        first = True
        window = self._window("owners", state_of(cursor))
        state = window.done(state_of(cursor))
        for page in self.client.owners():
            changed = [
                owner
                for owner in page
                if window.first or _since(owner.get("updatedAt"), window.since)
            ]
            yield _batch(
                Stream.REPS,
                [map_owner(owner, self.mapping) for owner in changed],
                state,
                first=first and window.first,
            )
            first = False
        if first:
            yield _batch(Stream.REPS, (), state, first=window.first)
