"""A fake Salesforce on 127.0.0.1, over TLS, for the real ``simple-salesforce`` 1.12.x SDK.

It answers with the shapes of ``/work/shared/VENDORS.md`` (sections 3 and 6.8-6.11) for the calls
a connector makes: REST ``query`` and ``queryAll`` over a SOQL subset (:mod:`tests.fakes.soql`)
with ``nextRecordsUrl`` paging at 2,000 rows (``Sforce-Query-Options: batchSize=N`` lowers it,
200 at least), ``describe`` (global and per object), ``limits``, the Bulk API 2.0 query job
flow (CSV results with ``Sforce-Locator``), the OAuth token endpoint (password and client
credentials grants) and the SOAP ``login`` that simple-salesforce's username, password and
security token use. Every data answer carries ``Sforce-Limit-Info: api-usage=N/M``; errors are
Salesforce's JSON arrays (``INVALID_SESSION_ID`` 401, ``REQUEST_LIMIT_EXCEEDED`` 403,
``QUERY_TIMEOUT``, ``MALFORMED_QUERY``, ``INVALID_FIELD`` 400). Its org is generated from a seed
(:func:`tests.fakes.salesforce_org.generate_org`). Faults are injected on demand
(:meth:`FakeSalesforce.fail`, :meth:`FakeSalesforce.expire_sessions`,
:attr:`FakeSalesforce.query_timeout_rows`, :attr:`FakeSalesforce.api_max`); rows changed or
inserted late through :class:`~tests.fakes.salesforce_org.Org` or the ``before_request`` hook.

simple-salesforce builds every URL as ``https://{host}`` (VENDORS.md 6.11), so the fake speaks
TLS with a certificate for 127.0.0.1 issued by a ``trustme`` CA; trust it through
``REQUESTS_CA_BUNDLE=fake.ca_path`` (what a user does; subprocesses inherit it) or a session
(``session.verify`` alone is not enough where the environment sets ``REQUESTS_CA_BUNDLE``: see
:meth:`FakeSalesforce.trusting_session`)::

    sf = Salesforce(
        instance_url=fake.url, session_id=fake.session_id, session=fake.trusting_session()
    )

Logins reach it through ``domain=fake.domain``: the SDK posts to
``https://{domain}.salesforce.com/services/...``, and ``fake.domain`` is
``127.0.0.1:PORT/login`` so that URL lands on the fake (any path prefix before
``/services/oauth2/token`` or ``/services/Soap/u/`` is accepted).

What simple-salesforce 1.12.10 does not let a caller bound (seen against this fake):
``SFType.describe()`` takes no ``timeout`` (``sf.restful("sobjects/Lead/describe",
timeout=...)`` does), and the Bulk 2.0 calls pass none to ``requests``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import ssl
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
from tests.fakes._serving import Handler, LoopbackFake, Request, take_fault
from tests.fakes.salesforce_auth import ORG_ID, Answer, LoginMixin, json_answer
from tests.fakes.salesforce_org import FIELDS, PREFIXES, RELATIONSHIPS, Org
from tests.fakes.soql import Query, SoqlError, parse, sort_key

#: The largest REST query page (and the default); ``batchSize`` may lower it to 200.
PAGE_MAX = 2_000
PAGE_MIN = 200
#: The API version the fake answers by default (simple-salesforce 1.12's default).
VERSION = "59.0"
#: Status and message of each error code :meth:`FakeSalesforce.fail` can answer.
ERRORS: dict[str, tuple[int, str]] = {
    "INVALID_SESSION_ID": (401, "Session expired or invalid"),
    "REQUEST_LIMIT_EXCEEDED": (403, "TotalRequests Limit exceeded."),
    "QUERY_TIMEOUT": (400, "Your query request was running for too long."),
    "MALFORMED_QUERY": (400, "unexpected token: 'FORM'"),
    "INVALID_FIELD": (400, "No such column 'BADFIELD' on entity 'Lead'."),
    "INVALID_QUERY_LOCATOR": (400, "invalid query locator"),
    "SERVER_UNAVAILABLE": (503, "Server unavailable, try again later."),
    "UNKNOWN_EXCEPTION": (500, "An unexpected error occurred. Please include this ErrorId."),
}


def rest_time(moment: datetime) -> str:
    """A date-time as REST answers it: UTC, milliseconds, ``+0000`` (VENDORS.md 6.8)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def bulk_time(moment: datetime) -> str:
    """A date-time as Bulk 2.0 CSV answers it: UTC, milliseconds, ``Z``."""
    return rest_time(moment)[:-5] + "Z"


def soql_time(moment: datetime) -> str:
    """A date-time as a SOQL literal: unquoted, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    """An error answered instead of the real one, for the next ``times`` matching requests."""

    code: str
    message: str
    kind: str | None
    times: int


class SalesforceError(Exception):
    """An error answer raised inside a handler, written as Salesforce's JSON array."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        """Keep the code, message and status (from :data:`ERRORS` unless given)."""
        known_status, known_message = ERRORS.get(code, (400, code))
        super().__init__(message or known_message)
        self.code = code
        self.message = message or known_message
        self.status = status or known_status


@dataclass
class _Cursor:
    query: Query
    rows: list[dict[str, Any]]
    batch: int


@dataclass
class _Job:
    id: str
    query: Query
    operation: str
    rows: list[dict[str, Any]]
    created: datetime
    polls: int = 0


class FakeSalesforce(LoopbackFake, LoginMixin):
    """The fake Salesforce over an :class:`Org`, on 127.0.0.1 over TLS.

    Attributes:
        org: The data served; change it freely (under :attr:`lock` while serving).
        session_id: A session id the fake accepts from the start (``session_id=`` auth).
        username, password, security_token: The credentials SOAP login and the OAuth password
            grant accept (the password grant takes the password with or without the token).
        consumer_key, consumer_secret: The connected app's, for the OAuth grants.
        calls: Requests received by kind (``query:Lead``, ``queryAll:Lead``,
            ``query_more:Lead``, ``describe:Lead``, ``describe``, ``limits``, ``token``,
            ``soap_login``, ``bulk_create:Lead``, ``bulk_job``, ``bulk_results``,
            ``bulk_delete``), failed ones included.
        requests: Every request received, in order.
        before_request: Called with each :class:`Request` before it is answered (under the
            lock), to change rows "during" a sync.
        api_used, api_max: The daily API allocation ``Sforce-Limit-Info`` and ``limits``
            report; each data request uses one, and past ``api_max`` every data request is
            answered ``REQUEST_LIMIT_EXCEEDED``.
        query_timeout_rows: Answer ``QUERY_TIMEOUT`` to a query or Bulk job matching more
            rows than this (a window too wide); None: never.
        hidden: Fields (``"Lead.Status"``) the integration user cannot see (field-level
            security): ``describe()`` leaves them out and a query naming them is answered
            ``INVALID_FIELD``, as Salesforce does.
        bulk_polls: How many job polls answer ``InProgress`` before ``JobComplete``.
        bulk_failure: When set, Bulk jobs end ``Failed`` with this ``errorMessage``.
        errors: Requests the fake failed on (a bug of the fake, answered 500); the fixtures
            check it stays empty.
    """

    def __init__(self, org: Org, *, ca: trustme.CA | None = None, version: str = VERSION) -> None:
        """Serve ``org``; call :meth:`start` (or use as a context manager) to listen."""
        self.org = org
        self.version = version
        self.session_id = f"{ORG_ID}!fake-session-0"
        self.username = "integration@example.com"
        self.password = "correct-horse"
        self.security_token = "TOKEN123"
        self.consumer_key = "3MVG9fake.consumer.key"
        self.consumer_secret = "fake-consumer-secret"
        self.calls: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.before_request: Callable[[Request], None] | None = None
        self.api_used = 0
        self.api_max = 15_000
        self.query_timeout_rows: int | None = None
        self.hidden: set[str] = set()
        self.bulk_polls = 1
        self.bulk_failure: str | None = None
        self.errors: list[str] = []
        self.lock = threading.RLock()
        self._ca = ca or trustme.CA()
        self._sessions = {self.session_id}
        self._faults: list[Fault] = []
        self._cursors: dict[str, _Cursor] = {}
        self._jobs: dict[str, _Job] = {}
        self._ca_file: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        """The request handler (see :class:`tests.fakes._serving.LoopbackFake`)."""
        return _Handler

    def make_server(self, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
        """A TLS server with a fresh certificate for 127.0.0.1; the CA written to a file."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        handle, self._ca_file = tempfile.mkstemp(prefix="fake-salesforce-ca-", suffix=".pem")
        with os.fdopen(handle, "wb") as file:
            file.write(self._ca.cert_pem.bytes())
        return _TlsServer(("127.0.0.1", 0), handler, context)

    def stop(self) -> None:
        """Stop listening and remove the CA file."""
        super().stop()
        if self._ca_file is not None:
            os.unlink(self._ca_file)
            self._ca_file = None

    @property
    def url(self) -> str:
        """The instance URL to give the SDK (``instance_url=``): ``https://127.0.0.1:PORT``."""
        return f"https://{self.host}"

    @property
    def domain(self) -> str:
        """The ``domain=`` that points the SDK's logins at the fake (see the module doc)."""
        return f"{self.host}/login"

    @property
    def ca_path(self) -> str:
        """A PEM file of the CA to trust (``REQUESTS_CA_BUNDLE`` or ``session.verify``)."""
        assert self._ca_file is not None, "start the fake first"
        return self._ca_file

    def trusting_session(self) -> Any:
        """A ``requests.Session`` that trusts the fake's CA, to pass as ``session=``.

        ``trust_env`` is off because requests lets ``REQUESTS_CA_BUNDLE`` (or
        ``CURL_CA_BUNDLE``) from the environment override ``session.verify`` (psf/requests
        #3829); with it on, a machine whose environment names the system bundle would
        distrust the fake whatever ``verify`` says. Off, proxies from the environment are
        ignored too, which a loopback server wants anyway.
        """
        import requests

        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_path
        return session

    # -- faults ----------------------------------------------------------------------------

    def fail(
        self, code: str, *, kind: str | None = None, times: int = 1, message: str | None = None
    ) -> None:
        """Answer error ``code`` (a key of :data:`ERRORS`) to the next ``times`` requests.

        Args:
            code: The ``errorCode``; its HTTP status comes from :data:`ERRORS`.
            kind: A request kind prefix to match (``queryAll:Lead``, ``query``, ``bulk``,
                ``token``); any data request if None.
            times: How many matching requests get the error.
            message: The message, instead of Salesforce's usual one.
        """
        if code not in ERRORS:
            raise ValueError(f"unknown error code {code!r}; known: {sorted(ERRORS)}")
        self._faults.append(Fault(code, message or ERRORS[code][1], kind, times))

    def expire_sessions(self) -> None:
        """Expire every session: data requests answer 401 until a login makes a new one."""
        with self.lock:
            self._sessions.clear()

    def _take_fault(self, kind: str) -> Fault | None:
        # A fault for any request is one for any data request: logins are asked by name.
        return take_fault(
            self._faults,
            lambda fault: (
                kind.startswith(fault.kind)
                if fault.kind is not None
                else kind not in ("token", "soap_login")
            ),
        )

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        """Answer one request."""
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        with self.lock:
            try:
                kind = self._kind(method, path, query, raw)
            except (SoqlError, ValueError, AttributeError):  # refused below, with the reason
                kind = "bulk_create" if "/jobs/" in path else "query"
            self.calls[kind] += 1
            request = Request(method, path, kind, len(self.requests) + 1, query, raw)
            self.requests.append(request)
            try:
                if self.before_request is not None:
                    self.before_request(request)
                if kind == "token":
                    return self._token(headers, raw)
                if kind == "soap_login":
                    return self._soap_login(raw)
                return self._data(request, headers)
            except Exception as error:  # a bug of the fake: visible in errors and as a 500
                self.errors.append(f"{method} {path}: {error!r}")
                return json_answer(
                    500, [{"message": repr(error), "errorCode": "UNKNOWN_EXCEPTION"}]
                )

    def _kind(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> str:
        if path.endswith("/services/oauth2/token"):
            return "token"
        if "/services/Soap/u/" in path:
            return "soap_login"
        parts = path.strip("/").split("/")[3:]  # after services/data/vXX.X
        if parts[:1] in (["query"], ["queryAll"]):
            if len(parts) == 2:
                cursor = self._cursors.get(parts[1].rsplit("-", 1)[0])
                return f"query_more:{cursor.query.sobject if cursor else '?'}"
            text = (query.get("q") or [""])[0]
            return f"{parts[0]}:{parse(text).sobject}"
        if parts[:1] == ["sobjects"]:
            return f"describe:{parts[1]}" if len(parts) > 1 else "describe"
        if parts == ["limits"]:
            return "limits"
        if parts[:2] == ["jobs", "query"]:
            if len(parts) == 2:
                return f"bulk_create:{parse(json.loads(raw or b'{}').get('query') or '').sobject}"
            if method == "DELETE":
                return "bulk_delete"
            return "bulk_results" if parts[3:] == ["results"] else "bulk_job"
        return "other"

    def _data(self, request: Request, headers: dict[str, str]) -> Answer:
        try:
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if token not in self._sessions:
                raise SalesforceError("INVALID_SESSION_ID")
            self.api_used += 1
            if self.api_used > self.api_max:
                raise SalesforceError("REQUEST_LIMIT_EXCEEDED")
            fault = self._take_fault(request.kind)
            if fault is not None:
                raise SalesforceError(fault.code, fault.message)
            answer = self._route(request, headers)
        except SoqlError as error:
            answer = _error_answer(400, error.code, error.message)
        except SalesforceError as error:
            answer = _error_answer(error.status, error.code, error.message)
        answer.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_max}"
        return answer

    def _route(self, request: Request, headers: dict[str, str]) -> Answer:
        method, query, raw = request.method, request.query, request.body
        parts = request.path.strip("/").split("/")
        if parts[:2] != ["services", "data"] or len(parts) < 4:
            raise SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)
        rest = parts[3:]
        if rest[0] in ("query", "queryAll") and method == "GET":
            if len(rest) == 2:
                return json_answer(200, self._query_more(rest[1], headers))
            return json_answer(200, self._query(query, headers, deleted=rest[0] == "queryAll"))
        if rest[0] == "sobjects" and method == "GET":
            if len(rest) == 1:
                return json_answer(200, self._describe_global())
            if len(rest) == 3 and rest[2] == "describe":
                return json_answer(200, self._describe(rest[1]))
        if rest == ["limits"] and method == "GET":
            return json_answer(200, self._limits())
        if rest[:2] == ["jobs", "query"]:
            return self._bulk(method, rest[2:], query, raw)
        raise SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)

    # -- REST query ------------------------------------------------------------------------

    def _select(self, text: str, *, deleted: bool) -> tuple[Query, list[dict[str, Any]]]:
        parsed = parse(text)
        for name in parsed.fields:
            if f"{parsed.sobject}.{name}" in self.hidden:
                raise SalesforceError(
                    "INVALID_FIELD", f"No such column '{name}' on entity '{parsed.sobject}'."
                )
        table = self.org.tables.get(parsed.sobject, {})
        rows = [
            r for r in table.values() if (deleted or not r.get("IsDeleted")) and parsed.where(r)
        ]
        if parsed.sobject == "LeadHistory" and not self.org.history_tracking:
            rows = [r for r in rows if r["Field"] not in ("Status", "Owner")]
        for name, descending in reversed(parsed.order):
            rows.sort(key=lambda r, n=name: sort_key(r.get(n)), reverse=descending)
        if parsed.limit is not None:
            rows = rows[: parsed.limit]
        if self.query_timeout_rows is not None and len(rows) > self.query_timeout_rows:
            raise SalesforceError("QUERY_TIMEOUT")
        return parsed, rows

    def _query(
        self, query: dict[str, list[str]], headers: dict[str, str], *, deleted: bool
    ) -> dict[str, Any]:
        text = (query.get("q") or [""])[0]
        parsed, rows = self._select(text, deleted=deleted)
        if parsed.count:  # SELECT COUNT(): the number in totalSize, no records
            return {"totalSize": len(rows), "done": True, "records": []}
        cursor = _Cursor(parsed, rows, _batch_size(headers, PAGE_MAX))
        locator = "01g" + uuid.uuid4().hex[:15].upper()
        self._cursors[locator] = cursor
        return self._page(locator, cursor, 0)

    def _query_more(self, identifier: str, headers: dict[str, str]) -> dict[str, Any]:
        locator, _, offset = identifier.rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit():
            raise SalesforceError("INVALID_QUERY_LOCATOR")
        cursor.batch = _batch_size(headers, cursor.batch)
        return self._page(locator, cursor, int(offset))

    def _page(self, locator: str, cursor: _Cursor, offset: int) -> dict[str, Any]:
        page = cursor.rows[offset : offset + cursor.batch]
        fields = cursor.query.fields
        answer: dict[str, Any] = {
            "totalSize": len(cursor.rows),
            "done": offset + len(page) >= len(cursor.rows),
            "records": [self._rest_row(cursor.query.sobject, r, fields) for r in page],
        }
        if not answer["done"]:
            after = offset + len(page)
            answer["nextRecordsUrl"] = f"/services/data/v{self.version}/query/{locator}-{after}"
        else:
            self._cursors.pop(locator, None)
        return answer

    def _rest_row(self, sobject: str, row: dict[str, Any], fields: tuple[str, ...]) -> Any:
        url = f"/services/data/v{self.version}/sobjects/{sobject}/{row['Id']}"
        out: dict[str, Any] = {"attributes": {"type": sobject, "url": url}}
        for name in fields:
            head, _, tail = name.partition(".")
            if not tail:
                out[name] = _rest_value(row.get(name))
                continue
            target = row.get(RELATIONSHIPS[head])
            if target is None:
                out[head] = None
                continue
            related = out.get(head) or self._related(head, target)
            related[tail] = self._related_value(target, tail)
            out[head] = related
        return out

    def _related(self, relationship: str, target: str) -> dict[str, Any]:
        target_type = self.org.type_of(target) or "Name"
        # Polymorphic relationships answer "Name", not the target's type (VENDORS.md 6.9).
        shown = "User" if relationship == "CreatedBy" else "Name"
        url = f"/services/data/v{self.version}/sobjects/{target_type}/{target}"
        return {"attributes": {"type": shown, "url": url}}

    def _related_value(self, target: str, name: str) -> Any:
        if name == "Id":
            return target
        if name == "Type":
            return self.org.type_of(target)
        return self.org.name_of(target)

    # -- describe and limits ---------------------------------------------------------------

    def _describe_global(self) -> dict[str, Any]:
        sobjects = [
            {
                "name": name,
                "label": name,
                "keyPrefix": PREFIXES[name],
                "queryable": True,
                "custom": False,
                "urls": {"describe": f"/services/data/v{self.version}/sobjects/{name}/describe"},
            }
            for name in FIELDS
        ]
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}

    def _describe(self, sobject: str) -> dict[str, Any]:
        if sobject not in FIELDS:
            raise SalesforceError(
                "NOT_FOUND", f"The requested resource does not exist: {sobject}", 404
            )
        values: dict[str, set[str]] = {}
        for row in self.org.tables.get(sobject, {}).values():
            for name, kind in FIELDS[sobject].items():
                if kind == "picklist" and isinstance(row.get(name), str):
                    values.setdefault(name, set()).add(row[name])
        fields = []
        for name, kind in FIELDS[sobject].items():
            if f"{sobject}.{name}" in self.hidden:
                continue
            fields.append(
                {
                    "name": name,
                    "label": name.removesuffix("__c").replace("_", " "),
                    "type": kind,
                    "soapType": {"id": "tns:ID", "reference": "tns:ID"}.get(kind, f"xsd:{kind}"),
                    "custom": name.endswith("__c"),
                    "nillable": name not in ("Id", "IsDeleted"),
                    "filterable": True,
                    "sortable": kind != "anyType",
                    "referenceTo": _reference_to(name) if kind == "reference" else [],
                    "picklistValues": [
                        {"value": v, "label": v, "active": True, "defaultValue": False}
                        for v in sorted(values.get(name, ()))
                    ],
                }
            )
        return {
            "name": sobject,
            "label": sobject,
            "keyPrefix": PREFIXES[sobject],
            "queryable": True,
            "custom": False,
            "fields": fields,
        }

    def _limits(self) -> dict[str, Any]:
        jobs = len(self._jobs)
        return {
            "DailyApiRequests": {"Max": self.api_max, "Remaining": self.api_max - self.api_used},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 10_000 - jobs},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000},
        }

    # -- Bulk API 2.0 ----------------------------------------------------------------------

    def _bulk(self, method: str, rest: list[str], query: dict[str, list[str]], raw: bytes) -> Any:
        if not rest and method == "POST":
            body = json.loads(raw or b"{}")
            operation = body.get("operation")
            if operation not in ("query", "queryAll"):
                raise SalesforceError("INVALIDJOB", f"Unknown operation: {operation}", 400)
            parsed, rows = self._select(body.get("query") or "", deleted=operation == "queryAll")
            job_id = "750" + uuid.uuid4().hex[:15].upper()
            job = _Job(job_id, parsed, operation, rows, datetime.now(UTC))
            self._jobs[job_id] = job
            return json_answer(200, self._job_info(job, "UploadComplete"))
        job = self._jobs.get(rest[0]) if rest else None
        if job is None:
            raise SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)
        if method == "DELETE" and len(rest) == 1:
            del self._jobs[job.id]
            return Answer(204, content_type="")
        if method == "GET" and len(rest) == 1:
            job.polls += 1
            if job.polls <= self.bulk_polls:
                return json_answer(200, self._job_info(job, "InProgress"))
            if self.bulk_failure is not None:
                return json_answer(
                    200, {**self._job_info(job, "Failed"), "errorMessage": self.bulk_failure}
                )
            return json_answer(200, self._job_info(job, "JobComplete"))
        if method == "GET" and rest[1:] == ["results"]:
            return self._bulk_results(job, query)
        raise SalesforceError("NOT_FOUND", "The requested resource does not exist", 404)

    def _job_info(self, job: _Job, state: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id,
            "operation": job.operation,
            "object": job.query.sobject,
            "createdById": next(iter(self.org.tables.get("User") or {"005": None})),
            "createdDate": rest_time(job.created),
            "systemModstamp": rest_time(job.created),
            "state": state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        }
        if state == "JobComplete":
            info.update(numberRecordsProcessed=len(job.rows), retries=0, totalProcessingTime=42)
        return info

    def _bulk_results(self, job: _Job, query: dict[str, list[str]]) -> Answer:
        size = int((query.get("maxRecords") or ["50000"])[0])
        locator = (query.get("locator") or [""])[0]
        offset = int(base64.b64decode(locator + "==").decode()) if locator else 0
        page = job.rows[offset : offset + size]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(job.query.fields)
        for row in page:
            rendered = self._rest_row(job.query.sobject, row, job.query.fields)
            writer.writerow([_csv_value(_pick(rendered, name)) for name in job.query.fields])
        after = offset + len(page)
        following = base64.b64encode(str(after).encode()).decode().rstrip("=")
        headers = {
            "Sforce-Locator": following if after < len(job.rows) else "null",
            "Sforce-NumberOfRecords": str(len(page)),
        }
        return Answer(200, out.getvalue().encode(), headers, "text/csv")


def _error_answer(status: int, code: str, message: str) -> Answer:
    # REST and Bulk errors are arrays of {message, errorCode} (VENDORS.md 3.4).
    return json_answer(status, [{"message": message, "errorCode": code}])


def _batch_size(headers: dict[str, str], default: int) -> int:
    options = headers.get("sforce-query-options", "")
    for option in options.split(","):
        name, _, value = option.strip().partition("=")
        if name == "batchSize" and value.isdigit():
            return max(PAGE_MIN, min(PAGE_MAX, int(value)))
    return default


def _rest_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return rest_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.endswith("+0000") and len(value) == 28:
        return value[:-5] + "Z"
    return str(value)


def _pick(rendered: dict[str, Any], name: str) -> Any:
    head, _, tail = name.partition(".")
    if not tail:
        return rendered.get(name)
    related = rendered.get(head)
    return related.get(tail) if isinstance(related, dict) else None


def _reference_to(name: str) -> list[str]:
    targets = {
        "OwnerId": ["Group", "User"],
        "WhoId": ["Contact", "Lead"],
        "WhatId": ["Account", "Opportunity"],
        "LeadId": ["Lead"],
        "ConvertedContactId": ["Contact"],
        "ConvertedOpportunityId": ["Opportunity"],
        "ConvertedAccountId": ["Account"],
        "AccountId": ["Account"],
        "CreatedById": ["User"],
    }
    return targets.get(name, [])


class _TlsServer(ThreadingHTTPServer):
    """A threading HTTP server whose connections speak TLS, the handshake in their thread."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(address, handler)
        self.context = context

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up waiting (a test of timeouts) hangs up before the answer is
        # written: nothing to report. Anything else is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            secure = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):  # a client that does not trust us hangs up
            return
        try:
            super().finish_request(secure, client_address)
        finally:
            secure.close()


class _Handler(Handler):
    server_fake: FakeSalesforce

    def _answer(self) -> None:
        headers, raw = self.read()
        answer = self.server_fake.handle(self.command, self.path, headers, raw)
        self.write(answer.status, answer.content_type, answer.body, answer.headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815
