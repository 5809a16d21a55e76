"""The ``hubspot`` connector: HubSpot's CRM, read incrementally into slacore's core objects.

Register name ``hubspot`` (the ``slacore`` entry-point group, like ``csv``). It reads, through
the official ``hubspot-api-client`` (:class:`~slacore_connectors.hubspot.client.HubSpotClient`
fetches the pages, :mod:`slacore_connectors.hubspot.mapping` maps them):

- contacts -> leads, with their stage changes, owner changes and hand-offs (the ``leads``
  stream carries the other three: one pass reads all four); archived and merged contacts ->
  deletions of the ``leads`` stream;
- calls, sent emails and meetings -> touches, with the contacts each belongs to;
- deals -> deals (archived ones deleted); owners, archived ones too -> reps.

Each object type is read by windows of its modified time (:mod:`._window`), the cursor moved
only by the batch that ends a window, so a sync stopped anywhere goes on where it stopped. The
guide is ``docs/connectors/hubspot.md``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

import attrs

from slacore import hookimpl
from slacore.calendar.duration import parse_duration
from slacore.connector import (
    Batch,
    Connector,
    Cursor,
    FieldMapping,
    Setting,
    SettingKind,
    Stream,
)
from slacore.errors import ValidationError
from slacore_connectors._crm import CRM_STREAMS, LEAD_STREAMS
from slacore_connectors._window import EPOCH, parse_start
from slacore_connectors.hubspot._reads import Reader
from slacore_connectors.hubspot.client import (
    DEFAULT_BASE_URL,
    SEARCH_PAGE_MAX,
    HubSpotClient,
    HubSpotDailyLimitError,
    HubSpotError,
    missing_sdk,
)
from slacore_connectors.hubspot.mapping import (
    MAPPING_SETTINGS,
    HubSpotMapping,
    ObjectType,
    check_properties,
)

__all__ = [
    "SETTINGS",
    "HubSpotConnector",
    "HubSpotDailyLimitError",
    "HubSpotError",
    "slacore_register_connectors",
]


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(
        name="access_token",
        required=True,
        secret=True,
        help='a private app\'s access token, from the environment: { env = "HUBSPOT_TOKEN" }',
    ),
    Setting(
        name="base_url",
        default=DEFAULT_BASE_URL,
        help=f"where every API call goes (default {DEFAULT_BASE_URL}; a proxy, a test server)",
    ),
    Setting(
        name="lookback",
        default="10m",
        help="how far before the last window's end a run reads again, for changes HubSpot's "
        "search shows late (default 10m)",
    ),
    Setting(
        name="lag",
        default="2m",
        help="how far behind now a window ends, for HubSpot's search index to catch up "
        "(default 2m)",
    ),
    Setting(
        name="page_size",
        kind=SettingKind.INTEGER,
        default=SEARCH_PAGE_MAX,
        help=f"results a search page asks for, 1 to {SEARCH_PAGE_MAX} (default {SEARCH_PAGE_MAX})",
    ),
    Setting(
        name="timeout",
        kind=SettingKind.INTEGER,
        default=30,
        help="seconds to wait for HubSpot on every call (default 30)",
    ),
    Setting(
        name="search_rate",
        kind=SettingKind.INTEGER,
        default=4,
        help="search calls a second at most (default 4; HubSpot allows about 5)",
    ),
    Setting(
        name="rate",
        kind=SettingKind.INTEGER,
        default=10,
        help="other calls a second at most (default 10, under HubSpot's burst limit of 100 "
        "to 190 calls per 10 seconds, by plan)",
    ),
    Setting(
        name="start",
        help="where a first sync starts, an ISO date or time with its offset (default: everything)",
    ),
    *MAPPING_SETTINGS,
)


@hookimpl
def slacore_register_connectors(register: Callable[[type[Connector]], None]) -> None:
    """Register the ``hubspot`` connector."""
    register(HubSpotConnector)


def _start(value: object) -> datetime:
    return parse_start(value) or EPOCH


class HubSpotConnector(Connector):
    """Reads a HubSpot portal: contacts, calls, emails, meetings, deals and owners.

    Args:
        settings: See :data:`SETTINGS`: ``access_token`` (a secret, required), ``base_url``,
            ``lookback``, ``lag``, ``page_size``, ``timeout``, ``search_rate``, ``rate``,
            ``start`` and the mapping settings
            (:class:`~slacore_connectors.hubspot.mapping.HubSpotMapping`).
        now: The clock (tests pass their own); a window never ends past it less ``lag``.
        sleep: How the client waits between calls (tests pass their own).

    Raises:
        ValidationError: A setting is invalid (naming it).

    Examples:
        >>> connector = HubSpotConnector({"access_token": "pat-na1-x", "lookback": "1h"})
        >>> connector.lookback, connector.mapping_settings.handoff_stage
        (datetime.timedelta(seconds=3600), 'marketingqualifiedlead')
        >>> "pat-na1-x" in repr(connector)
        False

    """

    name = "hubspot"
    description = "HubSpot CRM: contacts, calls, emails, meetings, deals and owners"
    streams = CRM_STREAMS
    carries: ClassVar[Mapping[Stream, tuple[Stream, ...]]] = {Stream.LEADS: LEAD_STREAMS}
    settings_schema = SETTINGS

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(settings)
        for module in ("hubspot", "urllib3"):
            if importlib.util.find_spec(module) is None:
                raise HubSpotError(message=missing_sdk(module))
        get = self.settings.__getitem__  # every setting used here has a default or is required
        #: The mapping settings, checked.
        self.mapping_settings = HubSpotMapping.from_settings(dict(self.settings.items()))
        self.lookback: timedelta = parse_duration(get("lookback"), field="lookback")
        self.lag: timedelta = parse_duration(get("lag"), field="lag")
        self.start: datetime = _start(self.settings.get("start"))
        page_size = get("page_size")
        if not 1 <= page_size <= SEARCH_PAGE_MAX:
            raise ValidationError(
                message=f"expected 1 to {SEARCH_PAGE_MAX}, got {page_size}",
                field="page_size",
                value=page_size,
            )
        for name in ("search_rate", "rate"):
            if get(name) < 1:
                raise ValidationError(
                    message=f"expected calls a second above 0, got {get(name)}",
                    field=name,
                    value=get(name),
                )
        timeout = get("timeout")
        if timeout < 1:
            raise ValidationError(
                message=f"expected a number of seconds above 0, got {timeout}",
                field="timeout",
                value=timeout,
            )
        base_url = str(get("base_url")).strip()
        if not base_url.startswith(("https://", "http://")):
            raise ValidationError(
                message=f"expected a URL like {DEFAULT_BASE_URL}, got {base_url!r}",
                field="base_url",
                value=base_url,
            )
        self._now = now or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._client: HubSpotClient | None = None
        self._checked = False
        # HubSpot not answering, a refused token or the daily limit ends every later read of
        # the run at once, without another call.
        self._fatal: HubSpotError | None = None
        self._refused: ValidationError | None = None

    def mapping(self, stream: Stream | str) -> FieldMapping:
        """The core :class:`~slacore.connector.FieldMapping` of ``stream``, unused here:
        HubSpot's objects are mapped by :mod:`slacore_connectors.hubspot.mapping` with
        :attr:`mapping_settings` (a lead's stages, segment, hand-off rule), not column by
        column."""
        return FieldMapping(stream=Stream.parse(stream))

    @property
    def client(self) -> HubSpotClient:
        """The page client, made on first use (pointed at ``base_url``)."""
        if self._client is None:
            settings = self.settings
            extra: dict[str, Any] = {} if self._sleep is None else {"sleep": self._sleep}
            self._client = HubSpotClient(
                settings["access_token"].reveal(),
                str(settings["base_url"]).strip(),
                timeout=float(settings["timeout"]),
                page_size=int(settings["page_size"]),
                search_rate=float(settings["search_rate"]),
                rate=float(settings["rate"]),
                **extra,
            )
        return self._client

    @property
    def calls(self) -> dict[str, int]:
        """The API calls made so far, by kind (``search``, ``batch_read``...)."""
        return dict(self._client.calls) if self._client is not None else {}

    def activity(self) -> str | None:
        """The API calls made so far, for a progress display (``"381 HubSpot API calls"``)."""
        made = sum(self.calls.values())
        return f"{made:,} HubSpot API calls" if made else None

    def check(self) -> None:
        """Check against the portal that the contact properties and lifecycle stages the
        mapping names exist (HubSpot drops unknown ones from its answers without a word);
        done once, before the first read.

        Raises:
            ValidationError: A mapped property or stage value is unknown, naming the setting.
            HubSpotError: HubSpot refused the call (the token, the limit).

        """
        if self._checked:
            return
        if self._refused is not None:
            raise self._refused  # again for each stream, without another call
        known = self.client.property_names(ObjectType.CONTACTS.value)
        stages = known.get("lifecyclestage") or None
        try:
            check_properties(self.mapping_settings, known, lifecycle_stages=stages)
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
            start=self.start,
        )

    def read_stream(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch]:
        """Yield the batches of ``stream`` after ``cursor`` (see the module)."""
        if stream is Stream.LEADS or stream in LEAD_STREAMS:
            carrier = Cursor(stream=Stream.LEADS, state=cursor.state) if cursor else None
            batches = self._guarded(lambda reader: reader.contacts(carrier, {stream}))
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
        """Yield the leads batches and those of the ``carried`` contact streams, each page's
        carried batches first (see :meth:`~slacore.connector.Connector.read_carried`)."""
        yield from self._guarded(lambda reader: reader.contacts(cursor, {stream, *carried}))

    def _guarded(self, read: Callable[[Reader], Iterable[Batch]]) -> Iterator[Batch]:
        """``read``'s batches, the last one telling the API calls made so far; HubSpot not
        answering, a refused token or the daily limit is remembered, so later reads of the
        run make no call.

        A batch is held back until the next one comes (to tell the calls in the last); when
        HubSpot refuses a later call, the batch held is still given before the error: its
        page was read whole, and its calls (of the daily budget) are not made again."""
        if self._fatal is not None:
            raise self._fatal
        last: Batch | None = None
        try:
            for batch in read(self._reader()):
                if last is not None:
                    yield last
                last = batch
        except HubSpotError as error:
            # No answer after every retry, a refused token, the daily limit: the next
            # stream would meet it too, after as many retries.
            if error.status in (None, 401) or isinstance(error, HubSpotDailyLimitError):
                self._fatal = error
            if last is not None:
                yield self._told(last)
            raise
        if last is not None:
            yield self._told(last)

    def _told(self, batch: Batch) -> Batch:
        """``batch`` with a notice telling the API calls made so far."""
        return attrs.evolve(batch, notices=(*batch.notices, self._calls_notice()))

    def _calls_notice(self) -> str:
        calls = self.calls
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(calls.items()))
        return f"HubSpot API calls so far this run: {sum(calls.values())} ({kinds})"
