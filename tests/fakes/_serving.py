"""What the fake vendor servers share: listening on 127.0.0.1 in a thread, stopping, counting."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self, TypeVar


class _Countdown(Protocol):
    times: int


FaultT = TypeVar("FaultT", bound=_Countdown)


@dataclass
class Request:
    """A request a fake received, as its ``before_request`` hook sees it.

    Attributes:
        method: ``GET``, ``POST``, ...
        path: The path, without the query string and trailing slash.
        kind: The fake's name for the request (the keys of its ``calls``).
        number: 1 for the first request the fake received, and so on.
        query: The query string's parameters.
        body: The body as the fake reads it (parsed JSON for HubSpot, bytes for Salesforce).
    """

    method: str
    path: str
    kind: str
    number: int
    query: dict[str, list[str]]
    body: Any


def take_fault(faults: list[FaultT], matches: Callable[[FaultT], bool]) -> FaultT | None:
    """The first of ``faults`` that ``matches``, counted down and dropped once used up."""
    for fault in faults:
        if not matches(fault):
            continue
        fault.times -= 1
        if fault.times <= 0:
            faults.remove(fault)
        return fault
    return None


class LoopbackFake:
    """A fake vendor server's lifecycle: :meth:`start` on a free port, :meth:`stop`, ``with``.

    Subclasses name their request handler class in :meth:`handler_base` (a subclass of it
    finds the fake as ``self.server_fake``) and may build another server (TLS) in
    :meth:`make_server`.

    Attributes:
        calls: Requests received by kind; the subclass documents its kinds.
    """

    calls: Counter[str]
    _server: ThreadingHTTPServer | None = None

    def handler_base(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; a subclass with ``server_fake`` set serves."""
        raise NotImplementedError

    def make_server(self, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
        """The server to listen with; plain HTTP on a free port of 127.0.0.1 by default."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        return server

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        handler = type("Handler", (self.handler_base(),), {"server_fake": self})
        self._server = self.make_server(handler)
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the server."""
        self.stop()

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, where the fake listens."""
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def calls_of(self, prefix: str) -> int:
        """How many requests of the kinds starting with ``prefix`` were received."""
        return sum(count for kind, count in self.calls.items() if kind.startswith(prefix))


class Handler(BaseHTTPRequestHandler):
    """A request handler that reads a request whole and writes one answer, quietly."""

    protocol_version = "HTTP/1.1"
    # Headers and body are written apart: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK held every answer back about 40 ms.
    disable_nagle_algorithm = True

    def read(self) -> tuple[dict[str, str], bytes]:
        """The request's headers (names in lower case) and body."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return {name.lower(): value for name, value in self.headers.items()}, raw

    def write(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
        """Write the answer; no ``Content-Type`` when ``content_type`` is empty."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
