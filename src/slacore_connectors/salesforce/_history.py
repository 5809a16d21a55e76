"""How the ``salesforce`` reader gets its leads' LeadHistory: by lead, or from a spool.

A page of leads needs the ``Status`` and ``Owner`` LeadHistory rows of each of its leads. A
small read (a nightly one) asks for them by lead, ``LeadId IN (...)`` lists as long as a
request may carry (:func:`id_chunks`: the encoded URI under :data:`URI_BUDGET` bytes;
Salesforce takes 16,384 bytes of URI and headers, 100,000 characters of SOQL). A large one
(a first sync) would make a query per few hundred leads: it reads LeadHistory once instead,
by its own ``CreatedDate``, pages of 2,000, into a :class:`Spool` (a temporary SQLite file
indexed by lead, deleted after the read; memory flat), and takes each page's history from
it. Which one is decided by cost (:meth:`LeadHistories.decide`): the leads to read (the
count the reader makes for its Bulk decision) over the ids a list holds, against the
history rows (one ``COUNT()``) over a page.

The spool is filled up to the end of the lead window being read before its leads are
mapped: a lead read in a window ``[a, b)`` of ``SystemModstamp`` has all its history with
``CreatedDate < b`` (Salesforce writes a history row with the lead's update).
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote_plus

import attrs

from slacore.errors import ValidationError
from slacore_connectors.salesforce._window import soql_time, whole_second
from slacore_connectors.salesforce.client import (
    PAGE_MAX,
    SalesforceClient,
    SalesforceError,
    SalesforceQueryTimeout,
)
from slacore_connectors.salesforce.mapping import (
    SalesforceMapping,
    SalesforceObject,
    fields,
    parse_datetime,
)

#: The longest encoded URI a query by ids is given (Salesforce: 16,384 bytes of URI and
#: headers; the rest is left to the headers, the session's among them).
URI_BUDGET: Final = 12_000
#: What a query's URI holds besides its encoded SOQL: ``/services/data/vNN.N/queryAll/?q=``.
_URI_PATH: Final = len("/services/data/v99.0/queryAll/?q=")
HISTORY_FIELDS: Final = ", ".join(fields(SalesforceMapping(), SalesforceObject.LEAD_HISTORY))
_HISTORY: Final = "FROM LeadHistory WHERE Field IN ('Status', 'Owner')"
#: Where a first read starts when an object's oldest row has no time that can be read, or
#: Salesforce times out finding it.
FALLBACK_START: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: Ids a spool lookup binds in one SQLite statement (SQLite's least limit is 999).
_BOUND: Final = 500
#: A lead id as a read's ids are: 18 characters.
_ID_LENGTH: Final = 18


def in_list(ids: Iterable[str]) -> str:
    """``'a', 'b'``: ids quoted for a SOQL ``IN (...)``."""
    return ", ".join(f"'{given}'" for given in ids)


def id_chunks(
    ids: Sequence[str], soql_of: Callable[[str], str], *, budget: int = URI_BUDGET
) -> Iterator[Sequence[str]]:
    """``ids`` in runs whose query, ``soql_of(in_list(run))``, has an encoded URI of at most
    ``budget`` bytes (at least one id a run).

    Examples:
        >>> ids = [f"00Q{n:015d}" for n in range(1000)]
        >>> runs = id_chunks(ids, lambda listed: f"SELECT Id FROM Lead WHERE Id IN ({listed})")
        >>> [len(run) for run in runs]
        [426, 426, 148]

    """
    base = _URI_PATH + len(quote_plus(soql_of("")))
    start, size = 0, base
    for index, given in enumerate(ids):
        more = len(quote_plus(f"'{given}', "))
        if index > start and size + more > budget:
            yield ids[start:index]
            start, size = index, base
        size += more
    if start < len(ids):
        yield ids[start:]


def ids_a_query(soql_of: Callable[[str], str], *, budget: int = URI_BUDGET) -> int:
    """How many 18-character ids :func:`id_chunks` puts in one query of ``soql_of``."""
    one = "0" * _ID_LENGTH
    return len(next(id_chunks([one] * 10_000, soql_of, budget=budget)))


def history_of(listed: str) -> str:
    """The query of the ``Status`` and ``Owner`` LeadHistory rows of the leads ``listed``."""
    return f"SELECT {HISTORY_FIELDS} {_HISTORY} AND LeadId IN ({listed})"


class Spool:
    """LeadHistory rows kept in a temporary SQLite file, by lead; :meth:`close` deletes it.

    Examples:
        >>> spool = Spool()
        >>> spool.add([{"Id": "0171", "LeadId": "00Q1", "Field": "Status"}])
        >>> spool.histories(["00Q1", "00Q2"])
        {'00Q1': [{'Id': '0171', 'LeadId': '00Q1', 'Field': 'Status'}], '00Q2': []}
        >>> spool.close()

    """

    def __init__(self, directory: str | Path | None = None) -> None:
        """A new, empty spool in a fresh folder under ``directory`` (the system's temp)."""
        self._folder = tempfile.mkdtemp(prefix="slacore-lead-history-", dir=directory)
        self._db = sqlite3.connect(Path(self._folder) / "spool.db")
        self._db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
            "CREATE TABLE history (id TEXT PRIMARY KEY, lead TEXT NOT NULL, row TEXT NOT NULL);"
            "CREATE INDEX history_lead ON history (lead);"
        )
        #: The ``CreatedDate`` up to which (excluded) the spool holds every row, or None.
        self.filled: datetime | None = None

    @property
    def path(self) -> Path:
        """The folder the spool's file is in."""
        return Path(self._folder)

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Keep ``rows`` (a row already kept, by ``Id``, is kept once)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO history (id, lead, row) VALUES (?, ?, ?)",
            [
                (
                    str(row.get("Id") or json.dumps(row, sort_keys=True)),
                    row["LeadId"],
                    json.dumps(row),
                )
                for row in rows
                if isinstance(row.get("LeadId"), str)
            ],
        )

    def histories(self, leads: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The rows kept of each of ``leads`` (every one a key), in the order they came."""
        found: dict[str, list[dict[str, Any]]] = {given: [] for given in leads}
        for start in range(0, len(leads), _BOUND):
            run = leads[start : start + _BOUND]
            marks = ", ".join("?" * len(run))
            for lead, row in self._db.execute(
                f"SELECT lead, row FROM history WHERE lead IN ({marks}) ORDER BY rowid",
                run,
            ):
                found[lead].append(json.loads(row))
        return found

    def close(self) -> None:
        """Delete the spool (its folder with it)."""
        self._db.close()
        shutil.rmtree(self._folder, ignore_errors=True)


@attrs.define(kw_only=True)
class LeadHistories:
    """The LeadHistory of each page of leads a read gives, by lead or from a :class:`Spool`.

    Attributes:
        client: Fetches the pages.
        min_window: The narrowest ``CreatedDate`` span ``QUERY_TIMEOUT`` may halve a spool
            query to.
        spool: The spool, once a read of many leads made one.

    """

    client: SalesforceClient
    min_window: timedelta
    spool: Spool | None = None
    _decided: dict[datetime, bool] = attrs.field(factory=dict)

    def of_page(
        self, leads: Sequence[str], until: datetime, counted: int | None
    ) -> dict[str, list[dict[str, Any]]]:
        """The ``Status`` and ``Owner`` history of each of ``leads`` (a page's, read in the
        window ending ``until`` whose rows were ``counted``, None: not counted)."""
        if self.spool is None and self.decide(until, counted):
            self.spool = Spool()
        if self.spool is None:
            return self._by_lead(leads)
        self.fill(until)
        return self.spool.histories(leads)

    def decide(self, until: datetime, counted: int | None) -> bool:
        """Whether the leads of the window ending ``until`` (``counted`` of them) cost fewer
        calls read from a spool than by lead (asked once a window; a ``COUNT()`` of the
        history when the answer is not plain)."""
        if until in self._decided:
            return self._decided[until]
        spooled = False
        by_lead = math.ceil((counted or 0) / ids_a_query(history_of))
        if by_lead > 2:  # else a count and one page cost as much
            try:
                rows = self.client.count(f"{_HISTORY} AND CreatedDate < {soql_time(until)}")
            except SalesforceQueryTimeout:
                spooled = True  # too many to count: as many as the leads', read once each
            else:
                spooled = 1 + math.ceil(rows / self._page) < by_lead
        self._decided[until] = spooled
        return spooled

    @property
    def _page(self) -> int:
        return self.client.page_size or PAGE_MAX

    def _by_lead(self, leads: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {given: [] for given in leads}
        for history in by_ids(self.client, leads, history_of):
            lead = history.get("LeadId")
            if isinstance(lead, str) and lead in found:
                found[lead].append(history)
        return found

    def fill(self, until: datetime) -> None:
        """Read into the spool the history rows of ``CreatedDate`` up to ``until`` it lacks:
        one query (its pages), halved on ``QUERY_TIMEOUT`` from the last row read."""
        spool = self.spool
        if spool is None or (spool.filled is not None and spool.filled >= until):
            return
        low = spool.filled  # None: from the first row
        size: timedelta | None = None  # None: up to ``until`` in one query
        while low is None or low < until:
            high = until if size is None or low is None else min(low + size, until)
            since = "" if low is None else f" AND CreatedDate >= {soql_time(low)}"
            soql = (
                f"SELECT {HISTORY_FIELDS} {_HISTORY}{since} AND CreatedDate < {soql_time(high)} "
                "ORDER BY CreatedDate, Id"
            )
            last: datetime | None = None
            try:
                for page in self.client.query(soql):
                    spool.add(page)
                    last = _created(page[-1]) or last
            except SalesforceQueryTimeout:
                if last is not None:
                    low = whole_second(last)  # its second is asked again: kept once
                elif low is None:
                    low = self._oldest(high)
                size = min(size or high - low, high - low) / 2
                if size < self.min_window:
                    raise SalesforceError(
                        message="Salesforce timed out (QUERY_TIMEOUT) reading LeadHistory rows "
                        f"of CreatedDate {soql_time(low)} to {soql_time(high)} even in windows "
                        f"of {self.min_window.total_seconds():g} s: the org is too busy or "
                        "the history too large to read now; rerun later",
                        code="QUERY_TIMEOUT",
                    ) from None
                continue
            low = high
        spool.filled = until

    def _oldest(self, until: datetime) -> datetime:
        """The second of the oldest history row (one query); ``until`` when none."""
        soql = f"SELECT CreatedDate {_HISTORY} ORDER BY CreatedDate LIMIT 1"
        try:
            for page in self.client.query(soql):
                return whole_second(_created(page[0]) or until)
        except SalesforceQueryTimeout:
            return FALLBACK_START
        return until

    def close(self) -> None:
        """Delete the spool, if one was made."""
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _created(row: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_datetime(row.get("CreatedDate"), field="CreatedDate")
    except ValidationError:
        return None


def by_ids(
    client: SalesforceClient,
    ids: Sequence[str],
    soql_of: Callable[[str], str],
    *,
    include_deleted: bool = False,
) -> Iterator[dict[str, Any]]:
    """The rows of ``soql_of(in_list)`` for ``ids``, as many ids a query as its URI may hold
    (:func:`id_chunks`); a run Salesforce times out on (``QUERY_TIMEOUT``) is asked again in
    halves."""
    runs = list(id_chunks(ids, soql_of))
    while runs:
        run = runs.pop(0)
        try:
            pages = list(client.query(soql_of(in_list(run)), include_deleted=include_deleted))
        except SalesforceQueryTimeout:
            if len(run) == 1:
                raise
            half = len(run) // 2
            runs[:0] = [run[:half], run[half:]]
            continue
        for page in pages:
            yield from page
