"""The ``salesforce`` connector: a Salesforce org, read incrementally into slacore's core objects.

Register name ``salesforce`` (the ``slacore`` entry-point group, like ``csv`` and ``hubspot``).
It reads, through ``simple-salesforce`` 1.12
(:class:`~slacore_connectors.salesforce.client.SalesforceClient` fetches the pages,
:mod:`slacore_connectors.salesforce.mapping` maps them):

- Lead rows and their LeadHistory -> leads, with their stage changes, owner changes and
  hand-offs (the ``leads`` stream carries the other three: one pass reads all four);
  deleted leads -> deletions of the ``leads`` stream;
- Task (calls, emails) and Event (meetings) rows -> touches, of leads and of the contacts
  leads were converted into;
- Opportunity rows -> deals (deleted ones deleted), of the lead converted into each;
- User rows, inactive users too -> reps.

Each sObject is read by windows of its ``SystemModstamp`` (:mod:`._window`) through
``queryAll`` (deleted rows too), a first load above ``bulk_threshold`` rows through Bulk API
2.0; the cursor moves only by the batch that ends a piece of a window, so a sync stopped
anywhere goes on where it stopped. The guide is ``docs/connectors/salesforce.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import attrs

from slacore import hookimpl
from slacore.calendar.duration import parse_duration
from slacore.connector import Batch, Connector, Cursor, FieldMapping, Setting, SettingKind, Stream
from slacore.errors import ValidationError
from slacore_connectors._crm import CRM_STREAMS, LEAD_STREAMS
from slacore_connectors._window import parse_start
from slacore_connectors.salesforce._reads import Reader, RunMemory
from slacore_connectors.salesforce.client import (
    PAGE_MAX,
    PAGE_MIN,
    Credentials,
    SalesforceAuthError,
    SalesforceClient,
    SalesforceError,
    SalesforceLimitError,
    SalesforceUnreachable,
)
from slacore_connectors.salesforce.mapping import (
    MAPPING_SETTINGS,
    SalesforceMapping,
    SalesforceObject,
    check_fields,
)

__all__ = [
    "SETTINGS",
    "SalesforceAuthError",
    "SalesforceConnector",
    "SalesforceError",
    "SalesforceLimitError",
    "slacore_register_connectors",
]


def _secret(name: str, what: str, env: str) -> Setting:
    return Setting(
        name=name, secret=True, help=f'{what}, a secret from the environment: {{ env = "{env}" }}'
    )


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="instance_url",
        required=True,
        help="the org's https:// URL, e.g. https://mycompany.my.salesforce.com",
    ),
    Setting(
        name="api_version",
        help="the REST API version, e.g. 59.0 (default: the newest simple-salesforce knows)",
    ),
    _secret("session_id", "a session id (access token); it cannot be renewed", "SF_SESSION"),
    _secret("username", "the API user's username, with password and security_token", "SF_USER"),
    _secret("password", "the API user's password", "SF_PASSWORD"),
    _secret("security_token", "the API user's security token", "SF_TOKEN"),
    _secret("consumer_key", "a connected app's consumer key (client credentials)", "SF_KEY"),
    _secret("consumer_secret", "the connected app's consumer secret", "SF_SECRET"),
    Setting(
        name="domain",
        default="login",
        help="where logins go: login (default), test (a sandbox), or your My Domain (mycompany.my)",
    ),
    Setting(
        name="lookback",
        default="10m",
        help="how far before the last window's end a run reads again, for rows whose "
        "SystemModstamp Salesforce shows late (default 10m)",
    ),
    Setting(
        name="lag",
        default="2m",
        help="how far behind now a window ends, for transactions still committing (default 2m)",
    ),
    Setting(
        name="window",
        default="30d",
        help="the longest SystemModstamp window one query reads (default 30d); halved when "
        "Salesforce answers QUERY_TIMEOUT",
    ),
    Setting(
        name="page_size",
        kind=SettingKind.INTEGER,
        default=PAGE_MAX,
        help=f"rows a query page asks for, {PAGE_MIN} to {PAGE_MAX} (default {PAGE_MAX})",
    ),
    Setting(
        name="bulk_threshold",
        kind=SettingKind.INTEGER,
        default=10_000,
        minimum=0,
        help="rows above which a first load of an object uses Bulk API 2.0 (default 10000)",
    ),
    Setting(
        name="daily_share",
        kind=SettingKind.INTEGER,
        default=80,
        help="the percent of the org's daily API allocation a run may use before it stops, "
        "keeping its cursors (default 80)",
    ),
    Setting(
        name="timeout",
        default="60s",
        help="how long to wait for Salesforce on every call (default 60s)",
    ),
    Setting(
        name="start",
        help="where a first sync starts, an ISO date or time with its offset "
        "(default: each object's oldest row)",
    ),
    *MAPPING_SETTINGS,
)

#: The smallest window the reader narrows to on ``QUERY_TIMEOUT`` before it gives up.
MIN_WINDOW: Final = timedelta(minutes=1)


@hookimpl
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the ``salesforce`` connector."""
    register(SalesforceConnector)


def _duration(settings: Mapping[str, Any], name: str) -> timedelta:
    return parse_duration(str(settings[name]).strip(), field=name)


class SalesforceConnector(Connector):
    """Reads a Salesforce org: leads with their history, tasks, events, opportunities, users.

    Args:
        settings: See :data:`SETTINGS`: ``instance_url`` (required), exactly one set of
            credentials (secrets: ``session_id``; or ``username`` + ``password`` +
            ``security_token``; or ``consumer_key`` + ``consumer_secret``), ``api_version``,
            ``domain``, ``lookback``, ``lag``, ``window``, ``page_size``, ``bulk_threshold``,
            ``daily_share``, ``timeout``, ``start`` and the mapping settings
            (:class:`~slacore_connectors.salesforce.mapping.SalesforceMapping`).
        now: The clock (tests pass their own); a window never ends past it less ``lag``.
        session: The ``requests`` session the client uses (default: a new one).

    Raises:
        ValidationError: A setting is invalid (naming it), or the credentials are not
            exactly one complete set.

    Examples:
        >>> connector = SalesforceConnector({"instance_url": "https://acme.my.salesforce.com",
        ...                                  "session_id": "00D!secret", "lookback": "1h"})
        >>> connector.lookback, connector.mapping_settings.handoff_status
        (datetime.timedelta(seconds=3600), 'Open - Not Contacted')
        >>> "00D!secret" in repr(connector)
        False

    """

    name = "salesforce"
    description = "Salesforce: leads with their history, tasks, events, opportunities and users"
    streams = CRM_STREAMS
    carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {Stream.LEADS: LEAD_STREAMS}
    settings_schema = SETTINGS

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        session: Any | None = None,
    ) -> None:
        super().__init__(settings)
        get = self.settings.__getitem__  # every setting used here has a default or is required
        #: The mapping settings, checked.
        self.mapping_settings = SalesforceMapping.from_settings(dict(self.settings.items()))
        #: The credentials (exactly one set; values hidden from ``repr``).
        self.credentials = Credentials.from_settings(self.settings)
        self.lookback = _duration(self.settings, "lookback")
        self.lag = _duration(self.settings, "lag")
        self.window = _duration(self.settings, "window")
        if self.window < MIN_WINDOW:
            raise ValidationError(
                message=f"expected at least {int(MIN_WINDOW.total_seconds() // 60)} minute, "
                f"got {get('window')!r}",
                field="window",
                value=get("window"),
            )
        self.timeout = _duration(self.settings, "timeout")
        self.start: datetime | None = parse_start(self.settings.get("start"))
        page_size = get("page_size")
        if not PAGE_MIN <= page_size <= PAGE_MAX:
            raise ValidationError(
                message=f"expected {PAGE_MIN} to {PAGE_MAX} rows, got {page_size}",
                field="page_size",
                value=page_size,
            )
        share = get("daily_share")
        if not 1 <= share <= 100:
            raise ValidationError(
                message=f"expected a percent from 1 to 100, got {share}",
                field="daily_share",
                value=share,
            )
        url = str(get("instance_url")).strip()
        if not url.startswith("https://") or len(url) <= len("https://"):
            raise ValidationError(
                message=f"expected an https:// URL like https://mycompany.my.salesforce.com, "
                f"got {url!r}",
                field="instance_url",
                value=url,
            )
        self._now = now or (lambda: datetime.now(UTC))
        self._session = session
        self._client: SalesforceClient | None = None
        self._checked = False
        self._memory = RunMemory()  # what the run learns once: notices said, describes
        # A refused login or session, or the API limit, ends every later read of the run at
        # once, without another call.
        self._fatal: SalesforceError | None = None
        self._refused: ValidationError | None = None

    def mapping(self, stream: Stream | str) -> FieldMapping:
        """The core :class:`~slacore.connector.FieldMapping` of ``stream``, unused here:
        Salesforce's rows are mapped by :mod:`slacore_connectors.salesforce.mapping` with
        :attr:`mapping_settings` (statuses, segment, hand-off rule), not column by column."""
        return FieldMapping(stream=Stream.parse(stream))

    @property
    def client(self) -> SalesforceClient:
        """The page client, made on first use (no call is made then)."""
        if self._client is None:
            get = self.settings.get
            self._client = SalesforceClient(
                instance_url=str(get("instance_url")).strip(),
                credentials=self.credentials,
                api_version=get("api_version"),
                domain=str(get("domain")).strip(),
                timeout=self.timeout.total_seconds(),
                daily_share=self.settings["daily_share"] / 100,
                session=self._session,
                page_size=self.settings["page_size"],
                # Bulk 2.0 results pages as large as REST's: a first load's memory stays that
                # of one page whatever the org's size (a page is one API call either way).
                bulk_page=self.settings["page_size"],
            )
        return self._client

    @property
    def calls(self) -> int:
        """The API calls made so far this run."""
        return self._client.calls if self._client is not None else 0

    def activity(self) -> str | None:
        """The API calls made so far, for a progress display (``"42 Salesforce API calls"``)."""
        return f"{self.calls:,} Salesforce API calls" if self.calls else None

    def check(self) -> None:
        """Check against the org's Lead ``describe()`` that the fields and ``Status`` values
        the mapping names exist; done once, before the first read.

        Raises:
            ValidationError: A mapped field or status is unknown, naming the setting.
            SalesforceError: Salesforce refused the call (the login, the limit).

        """
        if self._checked:
            return
        if self._refused is not None:
            raise self._refused  # again for each stream, without another call
        described = self.client.describe(SalesforceObject.LEAD.value)
        self._memory.learn(SalesforceObject.LEAD.value, described)
        try:
            check_fields(self.mapping_settings, described)
        except ValidationError as error:
            self._refused = error
            raise
        self._checked = True

    def _reader(self) -> Reader:
        self.check()
        return Reader(
            client=self.client,
            mapping=self.mapping_settings,
            now=self._now(),
            lookback=self.lookback,
            lag=self.lag,
            window=self.window,
            min_window=MIN_WINDOW,
            start=self.start,
            bulk_threshold=self.settings["bulk_threshold"],
            memory=self._memory,
        )

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the batches of ``stream`` after ``cursor`` (see the module)."""
        if stream is Stream.LEADS or stream in LEAD_STREAMS:
            carrier = Cursor(stream=Stream.LEADS, state=cursor.state) if cursor else None
            batches = self._guarded(lambda reader: reader.leads(carrier, {stream}))
            yield from (batch for batch in batches if batch.stream is stream)
        elif stream is Stream.TOUCHES:
            yield from self._guarded(lambda reader: reader.touches(cursor))
        elif stream is Stream.DEALS:
            yield from self._guarded(lambda reader: reader.deals(cursor))
        else:
            yield from self._guarded(lambda reader: reader.reps(cursor))

    def read_carried(
        self, stream: Stream, cursor: Cursor | None, carried: tuple[Stream, ...]
    ) -> Iterator[Batch]:
        """Yield the leads batches and those of the ``carried`` lead streams, each page's
        carried batches first (see :meth:`~slacore.connector.Connector.read_carried`)."""
        yield from self._guarded(lambda reader: reader.leads(cursor, {stream, *carried}))

    def _guarded(self, read: Callable[[Reader], Iterable[Batch]]) -> Iterator[Batch]:
        """``read``'s batches, the last one telling the API calls made so far; a refused
        login or session, the API limit or Salesforce not answering is remembered, so later
        reads of the run make no call.

        A batch is held back until the next one comes (to tell the calls in the last); when
        Salesforce refuses a later call, the batch held is still given before the error: its
        page was read whole, and its calls are not made again."""
        if self._fatal is not None:
            raise self._fatal
        last: Batch | None = None
        try:
            for batch in read(self._reader()):
                if last is not None:
                    yield last
                last = batch
        except SalesforceError as error:
            # The run cannot go on: each later read would be refused, or wait for nothing.
            if isinstance(
                error, SalesforceAuthError | SalesforceLimitError | SalesforceUnreachable
            ):
                self._fatal = error
            if last is not None:
                yield self._with_calls(last)
            raise
        if last is not None:
            yield self._with_calls(last)

    def _with_calls(self, batch: Batch) -> Batch:
        """``batch`` with a notice telling the API calls made so far."""
        return attrs.evolve(batch, notices=(*batch.notices, self._calls_notice()))

    def _calls_notice(self) -> str:
        usage = self._client.api_usage if self._client is not None else None
        told = f"Salesforce API calls so far this run: {self.calls}"
        if usage is not None:
            told += f" (the org's daily allocation: {usage[0]:,} of {usage[1]:,} used)"
        return told
