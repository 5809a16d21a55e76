"""Salesforce: a client that only fetches pages, through ``simple-salesforce`` 1.12.

It knows nothing of slacore's model: it answers Salesforce's rows as plain dicts, as the REST
API (JSON values) or Bulk API 2.0 (CSV strings, ``""`` for null) gives them, which is what
:mod:`slacore_connectors.salesforce.mapping` reads.

- :meth:`SalesforceClient.query`: the rows of a SOQL query a page at a time
  (``nextRecordsUrl`` followed; ``queryAll`` with deleted rows when asked).
- :meth:`SalesforceClient.bulk_query`: the same through a Bulk API 2.0 query job, for a
  first load (CSV pages by ``Sforce-Locator``).
- :meth:`SalesforceClient.count`: ``SELECT COUNT()``, to choose between the two.
- :meth:`SalesforceClient.describe`: an object's ``describe()``.

Logins are lazy (the first call logs in) and use simple-salesforce's: a ``session_id`` is
used as it is; ``username`` + ``password`` + ``security_token`` log in with SOAP at
``https://{domain}.salesforce.com``; ``consumer_key`` + ``consumer_secret`` with the OAuth
client-credentials flow (which needs the org's My Domain as ``domain``). Every request,
logins and Bulk 2.0 ones included, has a timeout; TLS is ``requests``' own
(``REQUESTS_CA_BUNDLE`` honoured, verification never turned off).

After each call the ``Sforce-Limit-Info`` header gives :attr:`SalesforceClient.api_usage`;
once the run's share of the daily allocation is used, the next call raises
:class:`SalesforceLimitError` without being made, as Salesforce's
``REQUEST_LIMIT_EXCEEDED`` does. ``QUERY_TIMEOUT`` is a :class:`SalesforceQueryTimeout`
(the reader narrows its window); ``INVALID_SESSION_ID`` logs in again once where the
credentials allow it, and is otherwise a :class:`SalesforceAuthError` naming ``session_id``.
A call answered 5xx is made again (``retries``, with a doubling wait), but never a Bulk
job's creation. Errors are one line, with Salesforce's ``errorCode``, and never show a secret.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import attrs

from slacore.errors import SlacoreError, ValidationError
from slacore_connectors.salesforce._credentials import CREDENTIAL_SETS, Credentials

__all__ = [
    "BULK_PAGE",
    "CREDENTIAL_SETS",
    "PAGE_MAX",
    "PAGE_MIN",
    "Credentials",
    "SalesforceAuthError",
    "SalesforceClient",
    "SalesforceError",
    "SalesforceLimitError",
    "SalesforceQueryTimeout",
    "SalesforceUnreachable",
    "missing_sdk",
]

#: The largest (and default) REST query page; ``page_size`` may lower it to :data:`PAGE_MIN`.
PAGE_MAX: Final = 2_000
PAGE_MIN: Final = 200
#: Rows a Bulk 2.0 results page asks for (``maxRecords``).
BULK_PAGE: Final = 50_000
_SECRET: Final = "***"
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_JOB_ID: Final = re.compile(r"[A-Za-z0-9]{15,18}")
_FROM: Final = re.compile(r"\bFROM\s+([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)
_T = TypeVar("_T")


@attrs.frozen(auto_exc=True, kw_only=True)
class SalesforceError(SlacoreError, RuntimeError):
    """Salesforce refused a call, or could not be reached; the message is one line, no secret.

    Attributes:
        message: What went wrong and, when it helps, what to do.
        code: Salesforce's ``errorCode`` (``INVALID_FIELD``...), or None when it did not
            answer one.

    """

    code: str | None = None


@attrs.frozen(auto_exc=True, kw_only=True)
class SalesforceAuthError(SalesforceError):
    """The login was refused, or the session expired and there is no way to log in again."""


@attrs.frozen(auto_exc=True, kw_only=True)
class SalesforceLimitError(SalesforceError):
    """``REQUEST_LIMIT_EXCEEDED``, or the run's share of the daily API allocation is used:
    stop, keep the cursor, rerun later."""


@attrs.frozen(auto_exc=True, kw_only=True)
class SalesforceUnreachable(SalesforceError):  # noqa: N818  (like SalesforceQueryTimeout)
    """Salesforce did not answer: no connection, no answer within ``timeout``, or a TLS
    certificate not trusted. A later call of the run would wait as long for nothing."""


@attrs.frozen(auto_exc=True, kw_only=True)
class SalesforceQueryTimeout(SalesforceError):  # noqa: N818  (the plan's name)
    """``QUERY_TIMEOUT``: the query ran too long on Salesforce's side (narrow the window)."""


def missing_sdk(name: str | None) -> str:
    """What to say when simple-salesforce (or what it needs) is not installed."""
    return (
        f"the salesforce connector needs simple-salesforce ({name or 'simple_salesforce'} is "
        "not installed): pip install 'slacore[salesforce]'"
    )


class _TimedLogin:
    """What simple-salesforce's login functions use of a session (``post``), with a timeout:
    they pass none to ``requests``."""

    def __init__(self, session: Any, timeout: float) -> None:
        self._session = session
        self._timeout = timeout

    def post(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(url, data, **kwargs)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _first_error(content: Any) -> tuple[str | None, str]:
    """Salesforce's ``errorCode`` and message from an error body (an array of objects)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        code = first.get("errorCode")
        return (str(code) if code else None), _one_line(first.get("message") or "")
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error")
        message = content.get("message") or content.get("error_description") or ""
        return (str(code) if code else None), _one_line(message)
    return None, _one_line(content or "")[:200]


def _sobject(soql: str) -> str:
    found = _FROM.search(soql)
    return found.group(1) if found else "?"


def _page(sf: Any, *, soql: str, after: str | None, **options: Any) -> Any:
    """A query's first page, or the page at ``after`` (a ``nextRecordsUrl``)."""
    if after is None:
        return sf.query(soql, **options)
    return sf.query_more(after, identifier_is_url=True, **options)


class SalesforceClient:
    """Fetches pages from Salesforce through simple-salesforce; knows nothing of slacore's
    model. Makes no call until the first method call (which logs in when it must).

    Args:
        instance_url: The org's ``https://`` URL; used with a ``session_id`` (a login
            answers the instance to use).
        credentials: One set (:class:`Credentials`).
        api_version: The REST API version (default: simple-salesforce's
            ``DEFAULT_API_VERSION``).
        domain: Where logins go: ``https://{domain}.salesforce.com`` (``login`` by default,
            ``test`` for a sandbox, ``mycompany.my`` for a My Domain). The client-credentials
            flow needs a My Domain: without one it is taken from ``instance_url``.
        timeout: Seconds to wait to connect and for each answer, on every request.
        daily_share: The share of the org's daily API allocation this run may use; once
            ``Sforce-Limit-Info`` shows it used, the next call raises
            :class:`SalesforceLimitError`.
        session: The ``requests`` session to use (default: a new one).
        page_size: Rows a REST query page asks for (``Sforce-Query-Options: batchSize``,
            200 to 2,000; Salesforce may answer more or fewer). Default: Salesforce's 2,000.
        bulk_page: Rows a Bulk 2.0 results page asks for (``maxRecords``).
        bulk_wait: Seconds a Bulk 2.0 job may take to complete before the read gives up.
        bulk_poll: Seconds between two polls of a Bulk 2.0 job at first (doubling, at most
            10 s).
        retries: How many times a call answered 5xx (``SERVER_UNAVAILABLE``...) is made
            again; never a Bulk job's creation, which may have happened.
        backoff: Seconds before the first of those retries, doubling for each next one.
        sleep: How to wait (``time.sleep``; tests pass their own).
        clock: A monotonic clock in seconds (``time.monotonic``).

    Raises:
        ValidationError: A setting is out of range, or ``instance_url`` is not ``https://``.
        SalesforceError: simple-salesforce is not installed.

    """

    def __init__(
        self,
        *,
        instance_url: str,
        credentials: Credentials,
        api_version: str | None = None,
        domain: str | None = None,
        timeout: float = 60.0,
        daily_share: float = 0.8,
        session: Any | None = None,
        page_size: int | None = None,
        bulk_page: int = BULK_PAGE,
        bulk_wait: float = 3_600.0,
        bulk_poll: float = 0.5,
        retries: int = 2,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Check the settings; no call is made here."""
        try:  # the salesforce extra: the connector is listed without it, and says so when used
            import requests
            import simple_salesforce
            from simple_salesforce import api as sdk_api
            from simple_salesforce import exceptions as sdk_errors
            from simple_salesforce import util as sdk_util
        except ImportError as error:
            raise SalesforceError(message=missing_sdk(error.name)) from None
        split = urlsplit(instance_url.strip())
        if split.scheme != "https" or not split.hostname:
            raise ValidationError(
                message="expected an https:// URL such as https://mycompany.my.salesforce.com, "
                f"got {instance_url!r}",
                field="instance_url",
                value=instance_url,
            )
        if not timeout > 0:
            raise ValidationError(
                message=f"expected seconds above 0, got {timeout!r}", field="timeout"
            )
        if not 0 < daily_share <= 1:
            raise ValidationError(
                message=f"expected a share between 0 (excluded) and 1, got {daily_share!r}",
                field="daily_share",
            )
        if page_size is not None and not PAGE_MIN <= page_size <= PAGE_MAX:
            raise ValidationError(
                message=f"expected {PAGE_MIN} to {PAGE_MAX} rows, got {page_size!r}",
                field="page_size",
            )
        for name, number, least in (("bulk_page", bulk_page, 1), ("retries", retries, 0)):
            if number < least:
                raise ValidationError(
                    message=f"expected at least {least}, got {number!r}", field=name
                )
        self._requests = requests
        self._sdk: Any = simple_salesforce
        self._sdk_errors: Any = sdk_errors
        self._sdk_util: Any = sdk_util
        self.instance_url = f"https://{split.netloc}"
        self.credentials = credentials
        self.api_version = (api_version or sdk_api.DEFAULT_API_VERSION).removeprefix("v")
        self.domain = (domain or "login").strip()
        if credentials.kind == "client_credentials" and self.domain in ("login", "test"):
            host = split.hostname
            if not host.endswith(".salesforce.com"):
                raise ValidationError(
                    message="the client-credentials login needs the org's My Domain: set "
                    "domain (e.g. mycompany.my for https://mycompany.my.salesforce.com)",
                    field="domain",
                )
            self.domain = host.removesuffix(".salesforce.com")
        self.timeout = float(timeout)
        self.daily_share = float(daily_share)
        self.page_size = page_size
        self.bulk_page = bulk_page
        self.bulk_wait = bulk_wait
        self.bulk_poll = bulk_poll
        self.retries = retries
        self.backoff = backoff
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._sf: Any = None
        #: API calls made (retries after a new login included; logins not).
        self.calls = 0
        #: Logins made.
        self.logins = 0
        #: ``(used, max)`` of the daily API allocation, from the last ``Sforce-Limit-Info``.
        self.api_usage: tuple[int, int] | None = None
        #: Salesforce's REQUEST_LIMIT_EXCEEDED once answered: every later call raises it
        #: without being made (the allocation is used up until the rolling 24 hours free it).
        self._used_up: SalesforceLimitError | None = None

    def __repr__(self) -> str:
        """The client without its secrets."""
        return (
            f"SalesforceClient(instance_url={self.instance_url!r}, "
            f"credentials={self.credentials!r}, api_version={self.api_version!r}, "
            f"timeout={self.timeout:g})"
        )

    __str__ = __repr__

    # -- sessions and calls ----------------------------------------------------------------

    def _hide(self, text: str) -> str:
        for secret in sorted(self.credentials.secrets(), key=len, reverse=True):
            text = text.replace(secret, _SECRET)
        if self._sf is not None and self._sf.session_id:
            text = text.replace(self._sf.session_id, _SECRET)
        return text

    def _connect(self) -> Any:
        """The SDK client on a session, logging in first when there is none."""
        if self._sf is not None:
            return self._sf
        credentials = self.credentials
        if credentials.kind == "session_id":
            session_id, instance = credentials.session_id, urlsplit(self.instance_url).netloc
        else:
            session_id, instance = self._login()
        self._sf = self._sdk.Salesforce(
            instance=instance,
            session_id=session_id,
            version=self.api_version,
            session=self._session,
            object_pairs_hook=dict,
        )
        return self._sf

    def _login(self) -> tuple[str, str]:
        credentials = self.credentials
        if credentials.kind == "password":
            arguments = {
                "username": credentials.username,
                "password": credentials.password,
                "security_token": credentials.security_token,
            }
            settings = "username, password and security_token"
        else:
            arguments = {
                "consumer_key": credentials.consumer_key,
                "consumer_secret": credentials.consumer_secret,
            }
            settings = (
                "consumer_key and consumer_secret (a connected app with the client "
                "credentials flow enabled)"
            )
        self.logins += 1
        try:
            session_id, instance = self._sdk.SalesforceLogin(
                session=_TimedLogin(self._session, self.timeout),
                sf_version=self.api_version,
                domain=self.domain,
                **arguments,
            )
        except self._sdk_errors.SalesforceAuthenticationFailed as error:
            reason = self._hide(_one_line(f"{error.code}: {error.auth_message}"))
            raise SalesforceAuthError(
                message=f"Salesforce refused the login at {self.domain}.salesforce.com ({reason}): "
                f"check the {settings} settings, and domain",
                code=str(error.code) if error.code is not None else None,
            ) from None
        except self._requests.exceptions.RequestException as error:
            raise self._unreachable(f"the login at {self.domain}.salesforce.com", error) from None
        return str(session_id), str(instance)

    def _unreachable(self, what: str, error: Exception) -> SalesforceUnreachable:
        requests = self._requests
        if isinstance(error, requests.exceptions.Timeout):
            reason = f"no answer within {self.timeout:g} s (the timeout setting)"
        elif isinstance(error, requests.exceptions.SSLError):
            reason = (
                "its TLS certificate is not trusted (a corporate proxy's CA goes in "
                "REQUESTS_CA_BUNDLE)"
            )
        else:
            reason = f"could not connect ({type(error).__name__})"
        return SalesforceUnreachable(message=f"Salesforce did not answer {what}: {reason}")

    def _check_share(self) -> None:
        if self.api_usage is None:
            return
        used, most = self.api_usage
        if most > 0 and used / most >= self.daily_share:
            raise SalesforceLimitError(
                message=f"this run's share of Salesforce's daily API allocation is used "
                f"({used:,} of {most:,} calls, daily_share {self.daily_share:.0%}): stopped; "
                "rerun later, when the rolling 24 hours allow it",
            )

    def _call(self, what: str, send: Callable[[Any], _T], *, idempotent: bool = True) -> _T:
        """Make one API call (``send`` on the SDK client), logging in again once when the
        session expired and the credentials allow it, retried (when ``idempotent``) on a 5xx
        answer; Salesforce's errors raised as ours."""
        renewed = False
        failed = 0  # answers 5xx
        while True:
            if self._used_up is not None:
                raise self._used_up  # the org refused one call for its limit: all the rest too
            sf = self._connect()
            self._check_share()
            self.calls += 1
            try:
                answer = send(sf)
            except self._sdk_errors.SalesforceError as error:
                code, message = _first_error(error.content)
                if code == "INVALID_SESSION_ID" or error.status == 401:
                    if self.credentials.can_login and not renewed:
                        self._sf, renewed = None, True
                        continue
                    raise self._expired(renewed, message) from None
                if (error.status or 0) >= 500:
                    failed += 1
                    if idempotent and failed <= self.retries:
                        self._sleep(self.backoff * 2 ** (failed - 1))
                        continue
                    if failed > 1:
                        message = f"{message} (after {failed} tries)"
                refused = self._refused(what, error.status, code, message)
                if isinstance(refused, SalesforceLimitError):
                    self._used_up = refused
                raise refused from None
            except self._requests.exceptions.RequestException as error:
                raise self._unreachable(what, error) from None
            usage = sf.api_usage.get("api-usage")
            if usage is not None:
                self.api_usage = (int(usage.used), int(usage.total))
            return answer

    def _expired(self, renewed: bool, message: str) -> SalesforceAuthError:
        if renewed:
            text = (
                "Salesforce refused a session it had just given (INVALID_SESSION_ID: "
                f"{message}): check that the user may use the API"
            )
        else:
            text = (
                f"Salesforce refused the session_id (INVALID_SESSION_ID: {message}): set "
                "session_id to a fresh one, or give username + password + security_token or "
                "consumer_key + consumer_secret instead so that slacore can log in again"
            )
        return SalesforceAuthError(message=self._hide(text), code="INVALID_SESSION_ID")

    def _refused(
        self, what: str, status: int | None, code: str | None, message: str
    ) -> SalesforceError:
        detail = self._hide(f"{code}: {message}" if code else message or "no detail")
        text = f"Salesforce answered {status} to {what}: {detail}"
        if code == "REQUEST_LIMIT_EXCEEDED":
            return SalesforceLimitError(
                message=f"{text}; the org's API allocation is used up: rerun later", code=code
            )
        if code == "QUERY_TIMEOUT":
            return SalesforceQueryTimeout(message=text, code=code)
        return SalesforceError(message=text, code=code)

    # -- reads -----------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        """The ``describe()`` of ``sobject`` (its fields, picklist values...).

        Raises:
            SalesforceError: Salesforce refused the call (``NOT_FOUND`` for an object the org
                does not have), or did not answer in time.

        """
        if not _NAME.fullmatch(sobject):
            raise ValueError(f"not an object name: {sobject!r}")
        answer = self._call(
            f"the describe of {sobject}",
            lambda sf: sf.restful(f"sobjects/{sobject}/describe", timeout=self.timeout),
        )
        return dict(answer or {})

    def _query_headers(self) -> dict[str, str]:
        if self.page_size is None:
            return {}
        return {"Sforce-Query-Options": f"batchSize={self.page_size}"}

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The rows of ``soql``, a page at a time (``nextRecordsUrl`` followed, as
        ``query_all_iter`` does).

        Rows are REST's JSON objects without their top-level ``attributes`` key (relationship
        objects keep theirs). Each page is one API call; the daily share is checked before
        each.

        Args:
            soql: The query.
            include_deleted: Read through ``queryAll``: deleted rows (``IsDeleted`` true)
                and archived activities too.

        Yields:
            Lists of rows, non-empty.

        Raises:
            SalesforceQueryTimeout: ``QUERY_TIMEOUT``.
            SalesforceLimitError: ``REQUEST_LIMIT_EXCEEDED``, or the daily share is used.
            SalesforceAuthError: The session expired and no new one could be had.
            SalesforceError: Any other refusal (``INVALID_FIELD``...), or no answer in time.

        """
        headers = self._query_headers()
        what = f"a {'queryAll' if include_deleted else 'query'} of {_sobject(soql)}"
        options = {"include_deleted": include_deleted, "timeout": self.timeout, "headers": headers}
        following: str | None = None
        while True:
            answer = self._call(what, partial(_page, soql=soql, after=following, **options))
            records = [
                {key: value for key, value in row.items() if key != "attributes"}
                for row in answer.get("records") or ()
                if isinstance(row, dict)
            ]
            if records:
                yield records
            following = answer.get("nextRecordsUrl") or None
            if answer.get("done", True) or following is None:
                return

    def count(self, soql_where_from: str, *, include_deleted: bool = False) -> int:
        """How many rows ``SELECT COUNT() FROM ...`` finds (one API call).

        Args:
            soql_where_from: What follows ``SELECT COUNT()``: ``FROM Lead WHERE ...``, or
                ``Lead WHERE ...`` (``FROM`` added).
            include_deleted: Count deleted rows too (``queryAll``).

        Raises:
            SalesforceError: As :meth:`query`.

        """
        rest = soql_where_from.strip()
        if not rest.upper().startswith("FROM "):
            rest = f"FROM {rest}"
        soql = f"SELECT COUNT() {rest}"
        answer = self._call(
            f"a count of {_sobject(soql)}",
            lambda sf: sf.query(soql, include_deleted=include_deleted, timeout=self.timeout),
        )
        return int(answer.get("totalSize") or 0)

    # -- Bulk API 2.0 ----------------------------------------------------------------------

    def _bulk(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        """One Bulk 2.0 request through the SDK's session and headers, with our timeout."""

        def send(sf: Any) -> Any:
            response = self._sdk_util.call_salesforce(
                f"{sf.bulk2_url}{path}",
                method,
                sf.session,
                dict(sf.headers),
                timeout=self.timeout,
                **kwargs,
            )
            limit = response.headers.get("Sforce-Limit-Info")
            if limit:
                sf.api_usage = sf.parse_api_usage(limit)
            return response

        return self._call(what, send, idempotent=method != "POST")

    def bulk_query(
        self, soql: str, *, include_deleted: bool = False
    ) -> Iterator[list[dict[str, str]]]:
        """The rows of ``soql`` through a Bulk API 2.0 query job, a results page at a time.

        The job is created (operation ``queryAll`` when ``include_deleted``), polled until
        complete (for at most ``bulk_wait`` seconds), then its CSV results are read page by
        page (``Sforce-Locator``). Rows are as the CSV gives them: every value a string,
        ``""`` for null, ``true``/``false``, datetimes ending in ``Z``; relationship fields
        under their dotted names (``Owner.Name``).

        Yields:
            Lists of rows, non-empty.

        Raises:
            SalesforceError: As :meth:`query`; also a job that failed, was aborted or did
                not complete in time.

        """
        operation = "queryAll" if include_deleted else "query"
        sobject = _sobject(soql)
        what = f"a Bulk 2.0 {operation} job on {sobject}"
        body = {
            "operation": operation,
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        created = self._bulk(what, "POST", "query", json=body).json()
        job = str(created.get("id") or "")
        if not _JOB_ID.fullmatch(job):
            raise SalesforceError(message=f"Salesforce answered no job id to {what}")
        self._await(what, job)
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": self.bulk_page}
            if locator:
                params["locator"] = locator
            response = self._bulk(what, "GET", f"query/{job}/results", params=params)
            text = response.content.decode("utf-8").replace("\0", "")
            rows = list(csv.DictReader(io.StringIO(text)))
            if rows:
                yield rows
            locator = response.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    def _await(self, what: str, job: str) -> None:
        """Poll the job until it completes; raise when it fails or takes too long."""
        deadline = self._clock() + self.bulk_wait
        pause = self.bulk_poll
        while True:
            info = self._bulk(what, "GET", f"query/{job}").json()
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                reason = self._hide(_one_line(info.get("errorMessage") or "no reason given"))
                raise SalesforceError(message=f"Salesforce's {what} ended {state}: {reason}")
            if self._clock() + pause > deadline:
                raise SalesforceError(
                    message=f"Salesforce's {what} (job {job}) did not complete within "
                    f"{self.bulk_wait:g} s (last state {state})"
                )
            self._sleep(pause)
            pause = min(10.0, pause * 2)
