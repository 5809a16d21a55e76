"""Logins of the fake Salesforce (:mod:`tests.fakes.salesforce`): OAuth token and SOAP.

simple-salesforce 1.12 logs in with SOAP (``/services/Soap/u/{version}``) for username,
password and security token, and with the OAuth token endpoint (``/services/oauth2/token``) for
a connected app: the ``password`` grant (username, password, consumer key and secret) and the
``client_credentials`` grant (key and secret as HTTP Basic, needing a ``domain`` other than
``login``/``test``). Both post to ``https://{domain}.salesforce.com/...``. OAuth errors are
objects (``{"error", "error_description"}``), SOAP errors a ``LoginFault`` (VENDORS.md 3.4).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from tests.fakes.salesforce_org import Org

ORG_ID = "00D000000000001AAA"


@dataclass
class Answer:
    """What the fake writes back: status, headers and body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=UTF-8"


class LoginMixin:
    """The token and SOAP login endpoints of :class:`tests.fakes.salesforce.FakeSalesforce`."""

    org: Org
    version: str
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    _sessions: set[str]
    url: str
    _take_fault: Callable[[str], Any]

    def _new_session(self) -> str:
        session = f"{ORG_ID}!fake-session-{uuid.uuid4().hex}"
        self._sessions.add(session)
        return session

    def _token(self, headers: dict[str, str], raw: bytes) -> Answer:
        form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        fault = self._take_fault("token")
        if fault is not None:
            return _oauth_error("invalid_grant", fault.message)
        grant = form.get("grant_type")
        if grant == "password":
            app = (form.get("client_id"), form.get("client_secret"))
            if app != (self.consumer_key, self.consumer_secret):
                return _oauth_error("invalid_client_id", "client identifier invalid")
            passwords = (self.password, self.password + self.security_token)
            if form.get("username") != self.username or form.get("password") not in passwords:
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            basic = headers.get("authorization", "").removeprefix("Basic ")
            expected = f"{self.consumer_key}:{self.consumer_secret}".encode()
            if base64.b64decode(basic + "==") != expected:
                return _oauth_error("invalid_client", "invalid client credentials")
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        return json_answer(
            200,
            {
                "access_token": self._new_session(),
                "instance_url": self.url,
                "id": f"https://login.salesforce.com/id/{ORG_ID}/{self.org._any_user()}",
                "token_type": "Bearer",
                "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
                "signature": base64.b64encode(uuid.uuid4().bytes).decode(),
            },
        )

    def _soap_login(self, raw: bytes) -> Answer:
        values = {
            element.tag.rsplit("}", 1)[-1]: element.text or ""
            for element in ElementTree.fromstring(raw).iter()
        }
        fault = self._take_fault("soap_login")
        good = values.get("username") == self.username and values.get("password") == (
            self.password + self.security_token
        )
        if fault is not None or not good:
            message = (
                fault.message
                if fault
                else ("Invalid username, password, security token; or user locked out.")
            )
            body = _SOAP_FAULT.format(message=escape(message))
            return Answer(500, body.encode(), content_type="text/xml;charset=UTF-8")
        server = f"{self.url}/services/Soap/u/{self.version}/{ORG_ID[:15]}"
        body = _SOAP_LOGIN.format(
            server=escape(server), session=escape(self._new_session()), user=self.org._any_user()
        )
        return Answer(200, body.encode(), content_type="text/xml;charset=UTF-8")


_SOAP_LOGIN = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result>'
    "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
    "<serverUrl>{server}</serverUrl><sessionId>{session}</sessionId><userId>{user}</userId>"
    "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
)
_SOAP_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
    "<faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: {message}</faultstring>"
    '<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN'
    "</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault>"
    "</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
)


def json_answer(status: int, body: Any) -> Answer:
    return Answer(status, json.dumps(body).encode())


def _oauth_error(error: str, description: str) -> Answer:
    # The OAuth endpoint answers objects, not the REST API's arrays (VENDORS.md 3.4).
    return json_answer(400, {"error": error, "error_description": description})
