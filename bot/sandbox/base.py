"""A tiny threaded HTTP server that emulators build on.

Every emulator is a real HTTP server on an ephemeral loopback port. Requests are
recorded (method, path, query, headers, raw body) so tests can assert on exactly
what the bot sent over the wire.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_port: int = 0
    """The sender's TCP port: requests on one kept-alive connection share it."""
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (``time.monotonic()``), to measure gaps between polls."""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    withhold: str | None = None
    """``"hang"``: hold the answer until the emulator stops or ``release_held()``, then close the
    connection unanswered; ``"drop"``: close the connection at once without answering. Either way the
    request was handled (what it changed stays changed): the answer is what gets lost."""

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


Handler = Callable[[RecordedRequest], Response]


class _QuietServer(ThreadingHTTPServer):
    """Takes a client that goes away mid-request (reset, broken pipe) as the normal end of that
    connection: counted, never printed. Anything else still prints its traceback (an emulator bug)."""

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], emulator: EmulatorServer
    ) -> None:
        super().__init__(address, handler)
        self._emulator = emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            with self._emulator.lock:
                self._emulator.connections_dropped += 1
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """Base class: subclasses implement ``handle(request) -> Response``."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._injected: list[Callable[[RecordedRequest], Response | None]] = []
        self._release = threading.Event()
        self._held = 0
        self.connections_dropped = 0
        """Connections the client reset or closed in the middle of a request (a killed bot process)."""
        self._gates: list[tuple[Callable[[RecordedRequest], bool], threading.Event]] = []

    # -- lifecycle -----------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "emulator not started"
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        emulator = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes: without NODELAY, Nagle + delayed ACK add ~40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    client_port=int(self.client_address[1]),
                )
                with emulator.lock:
                    emulator.requests.append(recorded)
                response = emulator._dispatch(recorded)
                emulator._wait_to_answer(recorded)
                if response.withhold is not None:
                    emulator._withhold(self, response.withhold)
                    return
                payload = response.encoded()
                self.send_response(response.status)
                if payload:
                    self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve
            do_PUT = _serve
            do_DELETE = _serve

        self._server = _QuietServer(("127.0.0.1", 0), _RequestHandler, emulator)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def forget_requests(self) -> None:
        """Drops the recorded requests (bodies), which long runs would otherwise pile up."""
        with self.lock:
            self.requests.clear()

    def stop(self) -> None:
        self._release.set()
        for _, gate in self._gates:
            gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- fault injection -----------------------------------------------------
    def inject(self, rule: Callable[[RecordedRequest], Response | None]) -> None:
        """Add a rule consulted before ``handle``; return a Response to override."""
        with self.lock:
            self._injected.append(rule)

    def fail_next(
        self, count: int, response: Response, when: Callable[[RecordedRequest], bool] | None = None
    ) -> None:
        """Answer the next ``count`` matching requests with ``response``."""
        remaining = [count]

        def rule(request: RecordedRequest) -> Response | None:
            if remaining[0] <= 0 or (when is not None and not when(request)):
                return None
            remaining[0] -= 1
            return response

        self.inject(rule)

    def answer_late(self, when: Callable[[RecordedRequest], bool]) -> threading.Event:
        """Matching requests are handled at once (what they change is changed) but answered only once
        the returned event is set (or after 60 s): an answer that is slow, not lost."""
        gate = threading.Event()
        with self.lock:
            self._gates.append((when, gate))
        return gate

    def _wait_to_answer(self, request: RecordedRequest) -> None:
        with self.lock:
            gates = [gate for when, gate in self._gates if when(request)]
        for gate in gates:
            gate.wait(timeout=60)

    @property
    def held(self) -> int:
        """Requests whose answer is being held (``withhold="hang"``) right now."""
        with self.lock:
            return self._held

    def release_held(self) -> None:
        """Ends every held request (their connections close unanswered); later ones are held again."""
        with self.lock:
            release, self._release = self._release, threading.Event()
        release.set()

    def _withhold(self, handler: BaseHTTPRequestHandler, mode: str) -> None:
        """Answers nothing: holds the connection first for ``"hang"``, then closes it."""
        if mode == "hang":
            with self.lock:
                self._held += 1
                release = self._release
            try:
                release.wait()
            finally:
                with self.lock:
                    self._held -= 1
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)

    def clear_faults(self) -> None:
        with self.lock:
            self._injected.clear()
            gates, self._gates = self._gates, []
        for _, gate in gates:
            gate.set()

    def _dispatch(self, request: RecordedRequest) -> Response:
        with self.lock:
            rules = list(self._injected)
        for rule in rules:
            override = rule(request)
            if override is not None:
                return override
        return self.handle(request)

    # -- to override -----------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        raise NotImplementedError

    # -- helpers for assertions ------------------------------------------------
    def requests_to(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]
