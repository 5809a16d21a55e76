"""HubSpot: a client that only fetches pages, through the official ``hubspot-api-client``.

It knows nothing of slacore's model: it answers HubSpot's objects as plain dicts, exactly as
HubSpot's JSON has them (camelCase keys, property values as strings), which is what
:mod:`slacore_connectors.hubspot.mapping` reads.

- :meth:`HubSpotClient.search_window`: the objects modified in a window, by CRM search.
- :meth:`HubSpotClient.read_with_history`: objects by id, with property histories.
- :meth:`HubSpotClient.associations`: the ids each object is associated with (v4).
- :meth:`HubSpotClient.owners`: every owner, archived ones included.

Every call goes to ``base_url`` (typed APIs and raw requests alike), has a timeout, waits its
turn in a client-side budget (search about 4 requests a second, the others under HubSpot's
burst limit) and is retried on 429 (POST as well as GET), honouring ``Retry-After`` when
HubSpot sends it and backing off exponentially, within bounds, when it does not. Errors are
:class:`HubSpotError` s of one line that never show the access token: a refused token names
the ``access_token`` setting; the daily limit is a :class:`HubSpotDailyLimitError` saying
when to rerun.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

import attrs

from slacore.errors import SlacoreError

__all__ = [
    "ASSOCIATIONS_BATCH",
    "BATCH_READ",
    "DEFAULT_BASE_URL",
    "AssociationPage",
    "BatchPage",
    "HubSpotClient",
    "HubSpotDailyLimitError",
    "HubSpotError",
]

#: Where HubSpot's API lives.
DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
#: Ids a batch read takes (HubSpot's limit).
BATCH_READ: Final = 100
#: Ids a v4 association batch read takes (HubSpot's limit since 2025-02-10).
ASSOCIATIONS_BATCH: Final = 1_000
#: Owners a page of ``GET /crm/v3/owners/`` holds at most.
OWNERS_PAGE: Final = 500
#: Objects a page of a list (``GET /crm/v3/objects/{type}``) holds at most.
LIST_PAGE: Final = 100
#: Results a search page holds at most.
SEARCH_PAGE_MAX: Final = 200

_SECRET: Final = "***"
# The 207 error of an id that has no associations: not an error for the reader.
_NO_ASSOCIATIONS: Final = "crm.associations.NO_ASSOCIATIONS_FOUND"


@attrs.frozen(auto_exc=True, kw_only=True)
class HubSpotError(SlacoreError, RuntimeError):
    """HubSpot refused a call, or could not be reached; the message is one line, no token.

    Attributes:
        message: What went wrong and, when it helps, what to do.
        status: The HTTP status HubSpot answered, if it answered.

    """

    status: int | None = None


@attrs.frozen(auto_exc=True, kw_only=True)
class HubSpotDailyLimitError(HubSpotError):
    """HubSpot's daily API limit is used up: stop, keep the cursor, rerun later.

    Attributes:
        rerun_after: When to rerun, if HubSpot said (``Retry-After``); otherwise None and the
            message says the limit resets at midnight in the HubSpot account's time zone.

    """

    rerun_after: datetime | None = None


@attrs.frozen(kw_only=True)
class BatchPage:
    """One batch read's answer.

    Attributes:
        objects: The objects HubSpot answered, as plain dicts.
        missing: The ids asked for that HubSpot did not answer (a 207: deleted, merged or
            never there), in the order asked.
        errors: HubSpot's error entries of a 207 answer, as plain dicts.

    """

    objects: tuple[dict[str, Any], ...]
    missing: tuple[str, ...]
    errors: tuple[dict[str, Any], ...] = ()


@attrs.frozen(kw_only=True)
class AssociationPage:
    """One v4 association batch read, every input's own paging followed to its end.

    Attributes:
        links: For each id asked for, the ids (strings) of the objects it is associated
            with, empty when it has none (HubSpot answers those 207).
        errors: HubSpot's error entries of 207 answers, as plain dicts.

    """

    links: dict[str, tuple[str, ...]]
    errors: tuple[dict[str, Any], ...] = ()


class _Budget:
    """A client-side rate budget: at most ``rate`` calls a second, spaced evenly."""

    def __init__(
        self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Wait until the next call is within the budget."""
        with self._lock:
            now = self._clock()
            if self._next > now:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self._interval


def missing_sdk(name: str | None) -> str:
    """What to say when the HubSpot SDK (or what it needs) is not installed."""
    return (
        f"the hubspot connector needs the HubSpot SDK ({name or 'hubspot'} is not installed): "
        "pip install 'slacore[hubspot]'"
    )


def _modified_property(object_type: str) -> str:
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def _epoch_ms(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time, got {moment.isoformat()}")
    return str(int(moment.timestamp() * 1000))


def _chunks(ids: Iterable[object], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for given in ids:
        chunk.append(str(given))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _body(text: object) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    return str(value) if value is not None else None


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class HubSpotClient:
    """Fetches pages from HubSpot through the official SDK; knows nothing of slacore's model.

    Args:
        access_token: A private app's access token (a secret: never shown).
        base_url: Where every call goes, typed APIs and raw requests alike (a proxy, a fake).
        timeout: Seconds to wait for a connection and for an answer, on every call.
        page_size: Results a search page asks for (1 to 200).
        search_rate: Search calls a second at most (HubSpot allows about 4 to 5).
        rate: Other calls a second at most (HubSpot's burst limit is 100 to 190 per 10 s).
        max_retries: How many times a call answered 429 or 5xx, or not answered, is retried.
        backoff: The first wait, in seconds, before retrying a 429 without ``Retry-After``;
            it doubles on each retry.
        max_backoff: The longest wait, in seconds, between two retries without
            ``Retry-After``.
        sleep: How to wait (``time.sleep``; tests pass their own).
        clock: A monotonic clock in seconds (``time.monotonic``).

    Raises:
        ValueError: ``page_size`` or a rate is out of range, or the token is empty.

    """

    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        page_size: int = SEARCH_PAGE_MAX,
        search_rate: float = 4.0,
        rate: float = 10.0,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the SDK client pointed at ``base_url``."""
        if not access_token:
            raise ValueError("the access token is empty")
        if not 1 <= page_size <= SEARCH_PAGE_MAX:
            raise ValueError(f"page_size must be between 1 and {SEARCH_PAGE_MAX}, got {page_size}")
        if search_rate <= 0 or rate <= 0:
            raise ValueError("rates must be positive")
        try:  # the hubspot extra: the connector is listed without it, and says so when used
            import urllib3
            from hubspot import HubSpot  # type: ignore[import-untyped]
            from urllib3.util.retry import Retry
        except ImportError as error:
            raise HubSpotError(message=missing_sdk(error.name)) from None
        self._transport_error: type[Exception] = urllib3.exceptions.HTTPError

        self._token = access_token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._search_budget = _Budget(search_rate, clock, sleep)
        self._budget = _Budget(rate, clock, sleep)
        #: Calls made (retries included), by kind: ``search``, ``batch_read``, ...
        self.calls: dict[str, int] = {}
        # The SDK retries nothing itself: a GET 429 with Retry-After would otherwise be
        # retried silently outside the budget, a POST 429 never (VENDORS.md 2.1, 6.6).
        no_retry = Retry(total=0, respect_retry_after_header=False, raise_on_status=False)
        self._sdk: Any = HubSpot(
            access_token=access_token, host=self.base_url, base_url=self.base_url, retry=no_retry
        )

    def __repr__(self) -> str:
        """The client without its token."""
        return (
            f"HubSpotClient(access_token={_SECRET!r}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, page_size={self.page_size!r})"
        )

    __str__ = __repr__

    @property
    def sdk(self) -> Any:
        """The ``hubspot.HubSpot`` client, pointed at :attr:`base_url`."""
        return self._sdk

    # -- calls -----------------------------------------------------------------------------

    def _hide(self, text: str) -> str:
        return text.replace(self._token, _SECRET) if self._token else text

    def _call(self, kind: str, what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
        """Make one API call within the budget, retried on 429 and 5xx; the answer's JSON.

        Returns:
            A tuple of the HTTP status and the parsed JSON body.

        """
        budget = self._search_budget if kind == "search" else self._budget
        attempt = 0
        while True:
            budget.wait()
            self.calls[kind] = self.calls.get(kind, 0) + 1
            try:
                response = call(
                    **kwargs, _preload_content=False, _request_timeout=(self.timeout, self.timeout)
                )
            except self._transport_error as error:
                if attempt >= self.max_retries:
                    reason = self._hide(type(error).__name__)
                    raise HubSpotError(
                        message=f"HubSpot at {self.base_url} did not answer {what} "
                        f"after {attempt + 1} tries ({reason}, timeout {self.timeout:g} s)"
                    ) from None
                self._sleep(self._exponential(attempt))
                attempt += 1
                continue
            except Exception as error:
                status = getattr(error, "status", None)
                if not isinstance(status, int):
                    raise
                wait = self._should_retry(error, status, attempt, what)
                self._sleep(wait)
                attempt += 1
                continue
            data = response.data
            return response.status, _body(data)

    def _exponential(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))

    def _should_retry(self, error: Exception, status: int, attempt: int, what: str) -> float:
        """How long to wait before retrying a refused call; raise when it must not be."""
        body = _body(getattr(error, "body", None))
        headers = getattr(error, "headers", None)
        message = self._hide(str(body.get("message") or getattr(error, "reason", "") or ""))
        message = " ".join(message.split())
        if status == 401:
            raise HubSpotError(
                message="HubSpot refused the access token (401): check the access_token setting "
                "(a private app's token, not expired, not revoked)",
                status=401,
            ) from None
        if status == 429 and body.get("policyName") == "DAILY":
            now = datetime.now(UTC)
            wait = _retry_after(_header(headers, "Retry-After"), now)
            if wait is not None:
                when = now + timedelta(seconds=wait)
                stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                advice = f"rerun after {stamp}"
            else:
                when = None
                advice = "rerun after midnight in the HubSpot account's time zone, when it resets"
            raise HubSpotDailyLimitError(
                message=f"HubSpot's daily API limit is used up: {advice}",
                status=429,
                rerun_after=when,
            ) from None
        retryable = status == 429 or status >= 500 or status == 0
        if not retryable or attempt >= self.max_retries:
            tries = f" after {attempt + 1} tries" if retryable else ""
            detail = f": {message}" if message else ""
            raise HubSpotError(
                message=f"HubSpot answered {status} to {what}{tries}{detail}", status=status
            ) from None
        wait = _retry_after(_header(headers, "Retry-After"), datetime.now(UTC))
        return wait if wait is not None else self._exponential(attempt)

    # -- reads -----------------------------------------------------------------------------

    def search_window(
        self,
        object_type: str,
        since: datetime,
        until: datetime,
        properties: Sequence[str],
        *,
        after_id: int | None = None,
        filters: Sequence[dict[str, Any]] = (),
        any_of: Sequence[Sequence[dict[str, Any]]] = (),
    ) -> Iterator[list[dict[str, Any]]]:
        """The objects modified in ``[since, until)``, a page at a time, ascending by id.

        The window is on ``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` for the
        others. Each page asks for the ids above the last one read (``hs_object_id GT last``,
        in the window's filter group) rather than an offset: HubSpot's offsets stop at 10,000
        results, and an object modified while the window is read leaves it, which would
        shift every offset after it and skip an object. So any number of objects, even in
        one instant, is read, each once, and the reading always moves forward.

        Args:
            object_type: ``contacts``, ``deals``, ``calls``, ``emails``, ``meetings``...
            since: The window's start (aware), included.
            until: The window's end (aware), excluded.
            properties: The properties to read (sent in the request body).
            after_id: Read only the ids above this one (to go on with a window a read
                stopped in).
            filters: More filters every result must pass (HubSpot's filter objects:
                ``{"propertyName": ..., "operator": "EQ", "value": ...}``).
            any_of: Alternatives, of which each result must pass one: each is a list of
                filters, sent as its own filter group (with the window's and the id's
                filters repeated in each, HubSpot's groups being OR-ed). At most 5.

        Yields:
            Lists of objects, as HubSpot's JSON has them.

        Raises:
            HubSpotError: HubSpot refused a call.
            ValueError: A time is naive.

        """
        if len(any_of) > 5:
            raise ValueError(f"HubSpot takes at most 5 filter groups, got {len(any_of)}")
        modified = _modified_property(object_type)
        window = [
            {"propertyName": modified, "operator": "GTE", "value": _epoch_ms(since)},
            {"propertyName": modified, "operator": "LT", "value": _epoch_ms(until)},
            *(dict(given) for given in filters),
        ]
        api = self._sdk.crm.objects.search_api
        last: int | None = after_id
        while True:
            shared = list(window)
            if last is not None:
                shared.append(
                    {"propertyName": "hs_object_id", "operator": "GT", "value": str(last)}
                )
            groups = [
                {"filters": [*shared, *(dict(given) for given in alternative)]}
                for alternative in any_of or [()]
            ]
            request = {
                "filterGroups": groups,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": list(properties),
                "limit": self.page_size,
                "after": "0",
            }
            _, answer = self._call(
                "search",
                f"a search of {object_type}",
                api.do_search,
                object_type=object_type,
                public_object_search_request=request,
            )
            results = [r for r in answer.get("results") or [] if isinstance(r, dict)]
            if not results:
                return
            highest = max(int(str(r.get("id"))) for r in results)
            if last is not None and highest <= last:
                raise HubSpotError(
                    message=f"HubSpot's search of {object_type} went backwards "
                    f"(ids up to {highest} after {last}); stopped rather than loop"
                )
            yield results
            last = highest
            if not (answer.get("paging") or {}).get("next"):
                return

    def read_with_history(
        self,
        object_type: str,
        ids: Iterable[object],
        properties: Sequence[str],
        history_properties: Sequence[str],
    ) -> Iterator[BatchPage]:
        """Objects by id, with the history of some properties, 100 ids a request.

        Args:
            object_type: ``contacts``, ``deals``, ...
            ids: The ids to read.
            properties: The properties to read.
            history_properties: The properties to read with their history
                (``propertiesWithHistory``, newest first as HubSpot answers).

        Yields:
            One :class:`BatchPage` a request; ids HubSpot did not answer are in its
            ``missing``.

        Raises:
            HubSpotError: HubSpot refused a call.

        """
        api = self._sdk.crm.objects.batch_api
        for chunk in _chunks(ids, BATCH_READ):
            request = {
                "inputs": [{"id": given} for given in chunk],
                "properties": list(properties),
                "propertiesWithHistory": list(history_properties),
            }
            _, answer = self._call(
                "batch_read",
                f"a batch read of {object_type}",
                api.read,
                object_type=object_type,
                batch_read_input_simple_public_object_id=request,
                archived=False,
            )
            objects = tuple(r for r in answer.get("results") or [] if isinstance(r, dict))
            answered = {str(r.get("id")) for r in objects}
            missing = tuple(given for given in chunk if given not in answered)
            errors = tuple(e for e in answer.get("errors") or [] if isinstance(e, dict))
            yield BatchPage(objects=objects, missing=missing, errors=errors)

    def associations(
        self, from_type: str, to_type: str, ids: Iterable[object]
    ) -> Iterator[AssociationPage]:
        """The objects of ``to_type`` each id is associated with, 1,000 ids a request.

        Args:
            from_type: The type of the ids (``calls``, ``deals``...).
            to_type: The type associated (``contacts``...).
            ids: The ids to read the associations of.

        Yields:
            One :class:`AssociationPage` per 1,000 ids, every id in it (empty when it has
            no associations), the ids as strings.

        Raises:
            HubSpotError: HubSpot refused a call.

        """
        api = self._sdk.crm.associations.v4.batch_api
        for chunk in _chunks(ids, ASSOCIATIONS_BATCH):
            links: dict[str, list[str]] = {given: [] for given in chunk}
            errors: list[dict[str, Any]] = []
            inputs: list[dict[str, str]] = [{"id": given} for given in chunk]
            while inputs:
                _, answer = self._call(
                    "associations",
                    f"an association read of {from_type} to {to_type}",
                    api.get_page,
                    from_object_type=from_type,
                    to_object_type=to_type,
                    batch_input_public_fetch_associations_batch_request={"inputs": inputs},
                )
                inputs = []
                for result in answer.get("results") or []:
                    source = str((result.get("from") or {}).get("id"))
                    targets = links.setdefault(source, [])
                    targets.extend(str(to.get("toObjectId")) for to in result.get("to") or [])
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        inputs.append({"id": source, "after": str(after)})
                errors.extend(
                    error
                    for error in answer.get("errors") or []
                    if isinstance(error, dict) and error.get("subCategory") != _NO_ASSOCIATIONS
                )
            yield AssociationPage(
                links={key: tuple(value) for key, value in links.items()}, errors=tuple(errors)
            )

    def owners(self) -> Iterator[list[dict[str, Any]]]:
        """Every owner, a page at a time: the active ones, then the archived ones.

        Archived owners (reps who left) are listed only with ``archived=true``; contacts and
        engagements still point at them.

        Yields:
            Lists of owners, as HubSpot's JSON has them.

        Raises:
            HubSpotError: HubSpot refused a call.

        """
        api = self._sdk.crm.owners.owners_api
        for archived in (False, True):
            yield from self._listed(
                "owners", "an owners list", api.get_page, limit=OWNERS_PAGE, archived=archived
            )

    def _listed(
        self, kind: str, what: str, call: Callable[..., Any], **arguments: Any
    ) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list call, following ``paging.next.after`` to the end (and never
        round in a circle: the same ``after`` twice, or an empty page, ends it)."""
        after: str | None = None
        while True:
            given = dict(arguments) if after is None else {**arguments, "after": after}
            _, answer = self._call(kind, what, call, **given)
            results = [r for r in answer.get("results") or [] if isinstance(r, dict)]
            if results:
                yield results
            following = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not following or following == after or not results:
                return
            after = str(following)

    def archived(
        self, object_type: str, properties: Sequence[str] = ()
    ) -> Iterator[list[dict[str, Any]]]:
        """Every archived (deleted, or merged into another) object of ``object_type``, a page
        at a time, each with its ``archivedAt``.

        Search never answers archived objects; only the list with ``archived=true`` does.

        Yields:
            Lists of objects, as HubSpot's JSON has them.

        Raises:
            HubSpotError: HubSpot refused a call.

        """
        arguments: dict[str, Any] = {"limit": LIST_PAGE, "archived": True}
        if properties:
            arguments["properties"] = list(properties)
        yield from self._listed(
            "list",
            f"a list of archived {object_type}",
            self._sdk.crm.objects.basic_api.get_page,
            object_type=object_type,
            **arguments,
        )

    def property_names(self, object_type: str) -> dict[str, tuple[str, ...]]:
        """The properties HubSpot knows for ``object_type``: name -> the values its options
        allow (empty for a property without options).

        Raises:
            HubSpotError: HubSpot refused the call.

        """
        api = self._sdk.crm.properties.core_api
        _, answer = self._call(
            "properties",
            f"the properties of {object_type}",
            api.get_all,
            object_type=object_type,
            archived=False,
        )
        known: dict[str, tuple[str, ...]] = {}
        for item in answer.get("results") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                options = item.get("options") or []
                known[item["name"]] = tuple(
                    str(o.get("value")) for o in options if isinstance(o, dict)
                )
        return known
