"""The reads of the ``salesforce`` connector: Salesforce's pages, mapped, as batches with cursors.

:class:`Reader` reads one run's worth of each sObject: its ``SystemModstamp`` window
(:mod:`._window`), in pieces of at most ``window`` (halved on ``QUERY_TIMEOUT``), a query page
at a time through ``queryAll`` (deleted rows too, ``ORDER BY SystemModstamp, Id``); a first
load above ``bulk_threshold`` rows goes through one Bulk API 2.0 job instead. For each page it
reads what the page's rows do not hold (the leads' LeadHistory; the leads converted into the
contacts and opportunities the page names) and yields the page's batches. A page's batches
say the piece is read up to its last row; the batch after a piece's last page moves the
cursor to the piece's end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

import attrs

from slacore.connector import Batch, Cursor, Stream
from slacore.connector.streams import JSONScalar
from slacore.errors import ValidationError
from slacore.model import Lead
from slacore_connectors._crm import PendingTally, carried_batches
from slacore_connectors._window import state_of
from slacore_connectors.salesforce._history import FALLBACK_START, LeadHistories, by_ids
from slacore_connectors.salesforce._window import Position, Window, soql_time, whole_second
from slacore_connectors.salesforce.client import (
    PAGE_MAX,
    SalesforceClient,
    SalesforceError,
    SalesforceQueryTimeout,
)
from slacore_connectors.salesforce.mapping import (
    Mapped,
    SalesforceMapping,
    SalesforceObject,
    fields,
    is_deleted,
    map_event,
    map_lead,
    map_opportunity,
    map_task,
    map_user,
    parse_datetime,
)

#: The count of a window Salesforce timed out counting: more than any threshold.
_MANY: Final = 10**12
_ID: Final = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
#: Salesforce's answers to a query of an object the org does not have, or hides.
_NO_OBJECT: Final = frozenset({"INVALID_TYPE", "NOT_FOUND", "INSUFFICIENT_ACCESS"})
#: Only a rep's own calls, emails and meetings logged as tasks are touches: the queries ask
#: for them alone (the mapping still rejects any other that comes), not for to-dos, list
#: emails, inbound calls (the lead's) or open tasks (planned, not done: read when closed).
TOUCH_TASKS: Final = (
    "WhoId != null AND (TaskSubtype IN ('Call', 'Email') OR Type IN ('Call', 'Email', 'Meeting')) "
    "AND (TaskSubtype = null OR TaskSubtype != 'ListEmail') "
    "AND (CallType = null OR CallType != 'Inbound') AND IsClosed = true"
)


def _row_id(row: Mapping[str, Any]) -> str | None:
    value = row.get("Id")
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _position(row: Mapping[str, Any]) -> Position | None:
    """A row's place in ``ORDER BY SystemModstamp, Id``; None when it cannot be read."""
    row_id = _row_id(row)
    try:
        at = parse_datetime(row.get("SystemModstamp"), field="SystemModstamp")
    except ValidationError:
        return None
    return None if row_id is None else Position(at, row_id)


def _deleted(row: Mapping[str, Any]) -> bool:
    try:
        return is_deleted(row)
    except ValidationError:  # a malformed IsDeleted: mapped, and rejected saying why
        return False


@attrs.frozen
class _Page:
    """One page of a piece: its live rows, the ids of its deleted rows, the cursor state
    after it; ``done``: the piece's last page (maybe empty), its state the piece's end;
    ``last``: the window's last piece; ``until``: the window's end; ``counted``: its rows,
    when a first read counted them."""

    rows: list[dict[str, Any]]
    deleted: list[str]
    state: dict[str, JSONScalar]
    done: bool = False
    last: bool = False
    until: datetime | None = None
    counted: int | None = None


@attrs.define
class RunMemory:
    """What a run learns once and keeps for all its reads.

    Attributes:
        told: The notices said this run (each said once).
        history: Whether LeadHistory answers Status and Owner rows (None: not asked yet).
        available: Per sObject, the field names of its ``describe()``.
        currencies: The opportunities' ``CurrencyIsoCode`` values seen.
        converted: The contacts and opportunities live leads read this run were converted
            into: id -> lead id (no lookup is made for them).

    """

    told: set[str] = attrs.field(factory=set)
    history: bool | None = None
    available: dict[str, frozenset[str]] = attrs.field(factory=dict)
    currencies: set[str] = attrs.field(factory=set)
    converted: dict[str, str] = attrs.field(factory=dict)

    def learn_conversions(self, mapped: Iterable[Mapped]) -> None:
        """Keep the conversions of the leads ``mapped`` (their ``Mapped.conversion``)."""
        for item in mapped:
            done = item.conversion
            if done is None:
                continue
            for target in (done.contact_id, done.opportunity_id):
                if target is not None:
                    self.converted.setdefault(target, done.lead_id)

    def described(
        self, sobject: str, describe: Callable[[str], Mapping[str, Any]]
    ) -> frozenset[str]:
        """The field names of ``sobject``'s ``describe()``, asked once a run."""
        if sobject not in self.available:
            self.learn(sobject, describe(sobject))
        return self.available[sobject]

    def learn(self, sobject: str, described: Mapping[str, Any]) -> None:
        """Keep the field names of ``sobject``'s ``describe()`` answer."""
        self.available[sobject] = frozenset(
            str(item.get("name"))
            for item in described.get("fields") or ()
            if isinstance(item, Mapping)
        )

    def once(self, notices: Iterable[str]) -> tuple[str, ...]:
        """The ``notices`` not said yet this run, now said."""
        new = tuple(dict.fromkeys(n for n in notices if n not in self.told))
        self.told.update(new)
        return new


@attrs.define
class _Skipped:
    """A window's activities on contacts no lead was converted into: no lead's touches."""

    sobject: str
    count: int = 0

    def notices(self) -> tuple[str, ...]:
        """One notice for the window, then the count starts again."""
        if not self.count:
            return ()
        said = (
            f"{self.count} {self.sobject} row(s) on contacts no lead was converted into: "
            "no lead's touches, not read",
        )
        self.count = 0
        return said


def _batch(
    stream: Stream,
    mapped: Sequence[Mapped],
    state: dict[str, JSONScalar],
    *,
    first: bool,
    deleted: Sequence[str] = (),
    notices: Sequence[str] = (),
) -> Batch:
    """The batch of the rows ``mapped``: their records and their rejections."""
    records = [record for item in mapped for record in item.records]
    held = {getattr(record, "id", None) for record in records}
    return Batch(
        stream=stream,
        records=records,
        rejected=[record for item in mapped for record in item.rejected],
        deleted=[given for given in dict.fromkeys(deleted) if given not in held],
        notices=notices,
        cursor=Cursor(stream=stream, state=state),
        from_start=first,
    )


@attrs.define(kw_only=True)
class Reader:
    """One run's reads: each sObject's window ends ``lag`` before ``now``.

    Attributes:
        client: Fetches the pages.
        mapping: The mapping settings.
        now: The run's start.
        lookback: How far before the last window's end the next one starts.
        lag: How far before ``now`` the window ends.
        window: The longest piece one query reads.
        min_window: The narrowest piece ``QUERY_TIMEOUT`` may halve it to.
        start: Where a first read starts (None: each object's oldest row).
        bulk_threshold: Rows above which a first load uses Bulk API 2.0.
        memory: What the run learned (notices said, history tracking, describes).

    """

    client: SalesforceClient
    mapping: SalesforceMapping
    now: datetime
    lookback: timedelta
    lag: timedelta
    window: timedelta
    min_window: timedelta
    start: datetime | None
    bulk_threshold: int
    memory: RunMemory

    # -- windows and pages -----------------------------------------------------------------

    def _first_start(self, sobject: str, until: datetime) -> datetime:
        """Where a first read of ``sobject`` starts: the ``start`` setting, else its oldest
        row's ``SystemModstamp`` (one query), so an org's empty years cost no query."""
        if self.start is not None:
            return self.start
        soql = f"SELECT Id, SystemModstamp FROM {sobject} ORDER BY SystemModstamp, Id LIMIT 1"
        try:
            for page in self.client.query(soql, include_deleted=True):
                oldest = _position(page[0])
                return whole_second(oldest.at) if oldest is not None else FALLBACK_START
        except SalesforceQueryTimeout:  # too many rows to sort in time: a Bulk job reads them
            return FALLBACK_START
        return until

    def _plan(self, sobject: str, state: Mapping[str, JSONScalar]) -> Window:
        return Window.plan(
            sobject,
            state,
            now=self.now,
            lookback=self.lookback,
            lag=self.lag,
            start=lambda until: self._first_start(sobject, until),
        )

    def _count(self, window: Window, soql_where: str, *, resumed: bool) -> int | None:
        """The rows of a first read's window (one count query), for the Bulk decision (and
        the leads' history); None for a later read, or a window an earlier read stopped in
        unless ``resumed``; :data:`_MANY` when Salesforce times out counting them."""
        if not window.first or (window.resumed and not resumed) or window.since >= window.until:
            return None
        try:
            return self.client.count(
                f"FROM {window.sobject} WHERE {soql_where}", include_deleted=True
            )
        except SalesforceQueryTimeout:
            return _MANY  # too many to count in time: many enough for a Bulk job

    def _pages(
        self,
        sobject: str,
        names: Sequence[str],
        state: dict[str, JSONScalar],
        only: str = "",
        *,
        count_resumed: bool = False,
    ) -> Iterator[_Page]:
        """The pages of ``sobject``'s window (a piece an earlier read stopped in first, then
        today's), each piece ended by a ``done`` page that moves the cursor to its end; only
        the rows matching ``only`` (a SOQL condition), if given. A first read's rows are
        counted (the piece an earlier read stopped in too, if ``count_resumed``)."""
        select = f"SELECT {', '.join(names)} FROM {sobject}"
        also = f" AND ({only})" if only else ""
        while True:
            window = self._plan(sobject, state)
            since, after, size = window.since, window.after, self.window
            if after is not None and whole_second(after.at) > since:
                since = whole_second(after.at)  # the rows before it were read
            where = window.where(window.since, window.until, window.after) + also
            counted = self._count(window, where, resumed=count_resumed)
            bulk = not window.resumed and counted is not None and counted > self.bulk_threshold
            while True:
                end = window.until if bulk else min(since + size, window.until)
                if since >= end:  # an empty window (an object without rows): no query
                    state = window.done(state, end)
                    yield _Page(
                        [], [], state, done=True, last=True, until=window.until, counted=counted
                    )
                    break
                where = window.where(since, end, after)
                # Bulk 2.0 takes no ORDER BY (it would turn off the job's chunking).
                order = "" if bulk else " ORDER BY SystemModstamp, Id"
                soql = f"{select} WHERE {where}{also}{order}"
                held: _Page | None = None  # the last page ends the piece: held until known
                try:
                    pieces = self._read_piece(window, soql, since, end, after, state, bulk=bulk)
                    for read in pieces:
                        if held is not None:
                            yield held
                        rows, after, state = read
                        live = [row for row in rows if not _deleted(row)]
                        gone = [_row_id(row) or "" for row in rows if _deleted(row)]
                        held = _Page(
                            live,
                            [given for given in gone if given],
                            state,
                            until=window.until,
                            counted=counted,
                        )
                except SalesforceQueryTimeout:
                    if held is not None:
                        yield held  # read whole; the rest of the piece is asked again
                    if after is not None and whole_second(after.at) > since:
                        since = whole_second(after.at)  # the rows before it were read
                    if bulk:
                        bulk = False  # the job timed out: windows of REST queries instead
                        continue
                    size = min(size, end - since) / 2
                    if size < self.min_window:
                        raise SalesforceError(
                            message=f"Salesforce timed out (QUERY_TIMEOUT) reading {sobject} "
                            f"rows of SystemModstamp {soql_time(since)} to {soql_time(end)} "
                            f"even in windows of {self.min_window.total_seconds():g} s: the "
                            "org is too busy or the object too large to read now; rerun later",
                            code="QUERY_TIMEOUT",
                        ) from None
                    continue
                if held is None and not bulk and end < window.until:
                    # An empty piece: the next row's second, not the empty pieces up to it.
                    end = self._next_row(sobject, end, window.until, also)
                state = window.done(state, end)
                last = end >= window.until
                if held is None:
                    yield _Page(
                        [], [], state, done=True, last=last, until=window.until, counted=counted
                    )
                else:
                    yield attrs.evolve(held, state=state, done=True, last=last)
                if last:
                    break
                since = end
            if not window.resumed:
                return

    def _next_row(self, sobject: str, since: datetime, until: datetime, also: str) -> datetime:
        """The second of the first row of ``sobject`` in ``[since, until)`` (deleted rows
        too; one query), or ``until`` when there is none: the rows before it are none, so
        a window's empty months cost one query, not one a piece. A ``QUERY_TIMEOUT`` gives
        ``since`` (the pieces are walked instead)."""
        soql = (
            f"SELECT SystemModstamp FROM {sobject} WHERE SystemModstamp >= {soql_time(since)} "
            f"AND SystemModstamp < {soql_time(until)}{also} ORDER BY SystemModstamp LIMIT 1"
        )
        try:
            for page in self.client.query(soql, include_deleted=True):
                at = parse_datetime(page[0].get("SystemModstamp"), field="SystemModstamp")
                return max(since, min(until, whole_second(at)))
        except (SalesforceQueryTimeout, ValidationError):
            return since
        return until

    def _read_piece(
        self,
        window: Window,
        soql: str,
        since: datetime,
        end: datetime,
        after: Position | None,
        state: dict[str, JSONScalar],
        *,
        bulk: bool,
    ) -> Iterator[tuple[list[dict[str, Any]], Position | None, dict[str, JSONScalar]]]:
        """The rows of one piece after ``after``, each page with the position and cursor
        state after it. Rows of the second of ``after`` that come at or before it (the
        query's bounds are whole seconds) are skipped; a row whose place cannot be read
        moves nothing (it is read again if the read stops, never lost), nor do rows out of
        ``ORDER BY SystemModstamp, Id`` (a Bulk job's)."""
        if bulk:
            pages: Iterable[list[dict[str, Any]]] = _split(
                self.client.bulk_query(soql, include_deleted=True),
                self.client.page_size or PAGE_MAX,
            )
        else:
            pages = self.client.query(soql, include_deleted=True)
        # Bounds are whole seconds: when the stop was inside a second, the rows of that
        # second up to it come again, and are skipped here (otherwise the query's own
        # ``Id >`` condition already left them out).
        resume = after if after is not None and after.at != whole_second(after.at) else None
        # A Bulk job's rows come in no order: its pages keep no position (a read stopped in
        # it reads the piece again from its start).
        last, ordered = after, not bulk
        for page in pages:
            rows: list[dict[str, Any]] = []
            for row in page:
                place = _position(row)
                if place is not None and resume is not None and resume.passed(*place.key):
                    continue
                rows.append(row)
                if place is None or not ordered:
                    continue
                if last is not None and last.passed(*place.key):
                    ordered = False  # rows out of order (a Bulk job): keep no position
                else:
                    last = place
            state = window.reading(state, since, end, last if ordered else None)
            if rows:
                yield rows, last if ordered else None, state

    # -- lookups ---------------------------------------------------------------------------

    def _fields(self, sobject: SalesforceObject) -> tuple[str, ...]:
        """The fields to select from ``sobject``: those the mapping reads, and the optional
        ones its ``describe()`` (one call a run) lists.

        Raises:
            SalesforceError: A field the mapping reads is not in the ``describe()`` (hidden
                from the integration user, or not in the org): the stream fails naming it,
                rather than read it as empty for every row.

        """
        available = self.memory.described(sobject, self.client.describe)
        names = fields(self.mapping, sobject, available=available)
        hidden = [name for name in names if name not in available and name != "Id"]
        if hidden:
            # Read without them, every row would come back with them empty: a lead with no
            # stage, a deal with no amount, and no word of why.
            listed = ", ".join(f"{sobject.value}.{name}" for name in hidden)
            raise SalesforceError(
                message=f"the integration user cannot read {listed} (not in {sobject.value}'s "
                "describe(): field-level security hides it, or the org lacks it); give the "
                "user read access to it, or map another field"
            )
        return names

    def _history_tracked(self) -> bool:
        """Whether LeadHistory answers Status and Owner rows (one query a run): off, leads
        are mapped without history and :data:`~slacore_connectors.salesforce.mapping.
        NO_HISTORY` says so once."""
        if self.memory.history is None:
            soql = "SELECT Id FROM LeadHistory WHERE Field IN ('Status', 'Owner') LIMIT 1"
            try:
                self.memory.history = any(True for _ in self.client.query(soql))
            except SalesforceError as error:
                if error.code not in _NO_OBJECT:
                    raise
                self.memory.history = False
        return self.memory.history

    def _converted(self, field: str, ids: Iterable[str]) -> dict[str, str]:
        """The live leads converted into ``ids`` (contacts or opportunities, by ``field``:
        ``ConvertedContactId`` or ``ConvertedOpportunityId``): id -> lead id; those of the
        leads this run read are known, the others looked up. A deleted lead is none: a
        touch logged on its contact would be a current touch of a lead the store deleted,
        its deal would name it."""
        known = self.memory.converted
        wanted = sorted({given for given in ids if _ID.fullmatch(given)})
        links = {given: known[given] for given in wanted if given in known}
        for row in by_ids(
            self.client,
            [given for given in wanted if given not in links],
            lambda listed: f"SELECT Id, {field} FROM Lead WHERE {field} IN ({listed})",
            include_deleted=False,
        ):
            target, lead = row.get(field), _row_id(row)
            if isinstance(target, str) and lead is not None:
                links.setdefault(target, lead)
        return links

    # -- leads -----------------------------------------------------------------------------

    def leads(self, cursor: Cursor | None, wanted: set[Stream]) -> Iterator[Batch]:
        """The batches of the ``wanted`` lead streams: per page, the stage changes, owner
        changes and hand-offs first, the leads (with rejections and deletions) last."""
        state = state_of(cursor)
        first = dict.fromkeys(Stream, cursor is None)
        pending = PendingTally("a user")
        histories = LeadHistories(client=self.client, min_window=self.min_window)
        pages = self._pages(
            SalesforceObject.LEAD, self._fields(SalesforceObject.LEAD), state, count_resumed=True
        )
        try:
            for page in pages:
                mapped: list[Mapped] = []
                if page.rows:
                    mapped = self._map_leads(page, histories)
                    pending.add(mapped)
                    self.memory.learn_conversions(mapped)
                notices = self.memory.once(n for item in mapped for n in item.notices)
                if page.last:  # a window's hand-offs without a user are told once, at its end
                    notices = (*notices, *pending.notices())
                    pending = PendingTally("a user")
                yield from self._lead_batches(
                    mapped, page.deleted, page.state, wanted, first, notices
                )
        finally:
            histories.close()  # the spool, if one was made, deleted

    def _map_leads(self, page: _Page, histories: LeadHistories) -> list[Mapped]:
        """The page's leads mapped with their history (by lead, or from the spool)."""
        found: dict[str, list[dict[str, Any]]] | None = None
        if self._history_tracked():
            ids = [given for given in (_row_id(row) for row in page.rows) if given is not None]
            found = histories.of_page(ids, page.until or self.now, page.counted)
        return [
            map_lead(
                row, None if found is None else found.get(_row_id(row) or "", []), self.mapping
            )
            for row in page.rows
        ]

    def _lead_batches(
        self,
        mapped: Sequence[Mapped],
        deleted: Sequence[str],
        state: dict[str, JSONScalar],
        wanted: set[Stream],
        first: dict[Stream, bool],
        notices: Sequence[str],
    ) -> Iterator[Batch]:
        yield from carried_batches(mapped, state, wanted, first)
        if Stream.LEADS in wanted:
            leads = [Mapped(records=item.of(Lead), rejected=item.rejected) for item in mapped]
            yield _batch(
                Stream.LEADS,
                leads,
                state,
                first=first[Stream.LEADS],
                deleted=deleted,
                notices=notices,
            )
            first[Stream.LEADS] = False

    # -- touches, deals, reps --------------------------------------------------------------

    def _simple(
        self,
        stream: Stream,
        sobject: SalesforceObject,
        state: dict[str, JSONScalar],
        first: list[bool],
        mapper: Callable[[list[dict[str, Any]]], list[Mapped]],
        only: str = "",
        told: Callable[[], Sequence[str]] = tuple,
    ) -> Iterator[Batch]:
        """The batches of one sObject's pages mapped by ``mapper``; deletions of a stream
        that takes them (deleted activities are skipped: a touch has no id to delete); what
        ``told`` says at each window's end."""
        for page in self._pages(sobject, self._fields(sobject), dict(state), only):
            state.clear()
            state.update(page.state)
            mapped = mapper(page.rows) if page.rows else []
            deleted = page.deleted if stream.deletable else ()
            notices = [*self.memory.once(self._currencies(mapped))]
            if page.last:
                notices.extend(told())
            yield _batch(
                stream, mapped, page.state, first=first[0], deleted=deleted, notices=notices
            )
            first[0] = False

    def _currencies(self, mapped: Sequence[Mapped]) -> list[str]:
        """Opportunities of several currencies, summed as they are, said once a run."""
        seen = self.memory.currencies
        seen.update(item.currency for item in mapped if item.currency is not None)
        if self.mapping.currency is not None or len(seen) < 2:
            return []
        return [
            "opportunities in several currencies are counted as they are, summed together: "
            "set currency to count one and reject the others"
        ]

    def touches(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The touches of Tasks (calls, emails), then of Events (meetings), of leads and of
        the contacts leads were converted into; an activity of another contact is no lead's
        touch, skipped and counted (an org's customers' tasks would otherwise be rejected
        each time they change)."""
        state, first = state_of(cursor), [cursor is None]
        for sobject, map_row, only in (
            (SalesforceObject.TASK, map_task, TOUCH_TASKS),
            (SalesforceObject.EVENT, map_event, "WhoId != null"),
        ):
            skipped = _Skipped(sobject)
            yield from self._simple(
                Stream.TOUCHES,
                sobject,
                state,
                first,
                partial(self._touches, map_row, skipped),
                only,
                skipped.notices,
            )

    def _touches(
        self,
        map_row: Callable[[Mapping[str, Any], Mapping[str, str]], Mapped],
        skipped: _Skipped,
        rows: list[dict[str, Any]],
    ) -> list[Mapped]:
        named = {row.get("WhoId") for row in rows}
        contacts = [who for who in named if isinstance(who, str) and who[:3] == "003"]
        links = self._converted("ConvertedContactId", contacts) if contacts else {}
        mapped: list[Mapped] = []
        for row in rows:
            who = row.get("WhoId")
            if isinstance(who, str) and who[:3] == "003" and who not in links:
                skipped.count += 1
                continue
            mapped.append(map_row(row, links))
        return mapped

    def deals(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The deals of the Opportunities modified in the window; deleted ones deleted."""

        def mapped(rows: list[dict[str, Any]]) -> list[Mapped]:
            ids = [given for given in (_row_id(row) for row in rows) if given is not None]
            links = self._converted("ConvertedOpportunityId", ids)
            currency = self.mapping.currency
            return [map_opportunity(row, links, currency=currency) for row in rows]

        yield from self._simple(
            Stream.DEALS, SalesforceObject.OPPORTUNITY, state_of(cursor), [cursor is None], mapped
        )

    def reps(self, cursor: Cursor | None) -> Iterator[Batch]:
        """The reps of the Users modified in the window, inactive ones too."""
        yield from self._simple(
            Stream.REPS,
            SalesforceObject.USER,
            state_of(cursor),
            [cursor is None],
            lambda rows: [map_user(row) for row in rows],
        )


def _split(pages: Iterable[list[dict[str, Any]]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Pages of at most ``size`` rows (a Bulk 2.0 results page holds up to 50,000)."""
    for page in pages:
        for start in range(0, len(page), size):
            yield page[start : start + size]
