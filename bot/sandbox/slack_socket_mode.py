"""A Slack Socket Mode server emulator: a real WebSocket server on an ephemeral loopback port.

Slack's side of Socket Mode: ``apps.connections.open`` (answered by ``SlackEmulator`` once this server
is attached to it) issues a single-use ``ws://.../link/?ticket=...`` URL; the app opens a WebSocket
there, receives ``{"type": "hello", ...}``, then envelopes
``{"envelope_id", "type", "payload", "accepts_response_payload"}`` which it acks with
``{"envelope_id", "payload"?}``. Tests push envelopes with ``send_envelope()``, read the acks with
``acks()`` / ``wait_for_ack()``, and drop the connection with ``disconnect()`` to exercise
reconnection. Ping frames are answered with pongs (and counted).

The aiohttp server runs on its own event loop in a daemon thread, so the test thread can drive it
synchronously while the bot runs on its own loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSCloseCode, WSMsgType, web

LINK_PATHS = ("/link", "/link/")
DEFAULT_APP_ID = "A_APPROVALS"
CALL_TIMEOUT_SECONDS = 10.0

T = TypeVar("T")


@dataclass
class SocketConnection:
    """One WebSocket connection the app opened (oldest first in ``SocketModeEmulator.connections``)."""

    number: int
    ticket: str
    websocket: web.WebSocketResponse = field(repr=False)
    opened_at: float = field(default_factory=time.monotonic)
    closed: bool = False
    received: list[Any] = field(default_factory=list)
    """Every text frame the app sent on this connection (JSON-decoded when possible)."""
    """Every text frame the app sent on this connection (JSON-decoded when possible)."""
    user_agent: str = ""
    """The ``User-Agent`` of the WebSocket handshake."""
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    """Set (on the emulator's loop) once the connection is over, whoever closed it."""


class SocketModeEmulator:
    def __init__(self, *, app_id: str = DEFAULT_APP_ID, host: str = "127.0.0.1") -> None:
        self.app_id = app_id
        self.host = host
        self.port: int | None = None
        self.connections: list[SocketConnection] = []
        self.rejected_tickets: list[str] = []
        """Tickets the app tried to connect with that were unknown or already used."""
        self.sent: list[dict[str, Any]] = []
        """Every envelope sent to the app, oldest first."""
        self.pings = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._tickets: set[str] = set()
        self._acks: dict[str, list[dict[str, Any]]] = {}
        self._envelope_numbers = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SocketModeEmulator:
        loop = self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="socket-mode-emulator", daemon=True)
        self._thread.start()
        self._call(self._start())
        return self

    async def _start(self) -> None:
        app = web.Application()
        for path in LINK_PATHS:
            app.router.add_get(path, self._link)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None

    async def _stop(self) -> None:
        for connection in self.open_connections():
            await connection.websocket.close(code=WSCloseCode.GOING_AWAY, message=b"emulator stopping")
        if self._runner is not None:
            await self._runner.cleanup()

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        assert self._loop is not None, "socket mode emulator not started"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- addresses -------------------------------------------------------------------------------
    @property
    def ws_url(self) -> str:
        assert self.port is not None, "socket mode emulator not started"
        return f"ws://{self.host}:{self.port}"

    def new_url(self) -> str:
        """A fresh single-use WebSocket URL, what ``apps.connections.open`` hands out."""
        ticket = secrets.token_hex(8)
        with self._lock:
            self._tickets.add(ticket)
        return f"{self.ws_url}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- the WebSocket endpoint ------------------------------------------------------------------
    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
            if not valid:
                self.rejected_tickets.append(ticket)
                self._changed.notify_all()
        if not valid:
            return web.Response(status=401, text="invalid_ticket")
        websocket = web.WebSocketResponse(autoping=False)
        await websocket.prepare(request)
        with self._lock:
            num_connections = len(self._open_connections()) + 1
        await websocket.send_json(
            {
                "type": "hello",
                "num_connections": num_connections,
                "debug_info": {
                    "host": "applink-emulator",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        with self._lock:
            connection = SocketConnection(
                len(self.connections) + 1, ticket, websocket, user_agent=request.headers.get("User-Agent", "")
            )
            self.connections.append(connection)
            self._changed.notify_all()
        try:
            async for message in websocket:
                if message.type == WSMsgType.PING:
                    await websocket.pong(message.data)
                    with self._lock:
                        self.pings += 1
                elif message.type == WSMsgType.TEXT:
                    self._received(connection, message.data)
        finally:
            connection.ended.set()
            with self._lock:
                connection.closed = True
                self._changed.notify_all()
        return websocket

    def _received(self, connection: SocketConnection, data: str) -> None:
        try:
            decoded: Any = json.loads(data)
        except ValueError:
            decoded = data
        with self._lock:
            connection.received.append(decoded)
            if isinstance(decoded, dict) and isinstance(decoded.get("envelope_id"), str):
                self._acks.setdefault(decoded["envelope_id"], []).append(decoded)
            self._changed.notify_all()

    # -- driving the app -------------------------------------------------------------------------
    def _open_connections(self) -> list[SocketConnection]:
        return [c for c in self.connections if not c.closed and not c.websocket.closed]

    def open_connections(self) -> list[SocketConnection]:
        with self._lock:
            return self._open_connections()

    def wait_for_connections(self, count: int, timeout: float = 15.0) -> SocketConnection:
        """Waits until the app has opened ``count`` connections in all; returns the newest open one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                open_now = self._open_connections()
                if len(self.connections) >= count and open_now:
                    return open_now[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for connection #{count} "
                        f"({len(self.connections)} opened, {len(open_now)} open)"
                    )
                self._changed.wait(remaining)

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> str:
        """Sends an envelope on the newest open connection; returns its ``envelope_id``.

        ``accepts_response_payload`` defaults like Slack: false for ``events_api`` and for
        ``block_actions``, true otherwise (slash commands, view submissions, options, shortcuts).
        """
        with self._lock:
            open_now = self._open_connections()
        if not open_now:
            raise AssertionError("the app has no open Socket Mode connection")
        if accepts_response_payload is None:
            accepts_response_payload = type != "events_api" and payload.get("type") != "block_actions"
        envelope_id = f"{next(self._envelope_numbers):08d}-emu-{secrets.token_hex(4)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        self._call(open_now[-1].websocket.send_json(envelope))
        with self._lock:
            self.sent.append(envelope)
        return envelope_id

    def disconnect(self, reason: str | None = None, *, grace_seconds: float = 5.0) -> None:
        """Drops every open connection at once (a close frame, no warning).

        With ``reason`` (e.g. ``"refresh_requested"``), behaves like Slack refreshing a socket: sends
        ``{"type": "disconnect", "reason": ...}`` first, gives the app ``grace_seconds`` to open a new
        connection and close this one itself, and only then closes it.
        """
        for connection in self.open_connections():
            self._call(
                self._drop(connection, reason, grace_seconds), timeout=grace_seconds + CALL_TIMEOUT_SECONDS
            )

    async def _drop(self, connection: SocketConnection, reason: str | None, grace_seconds: float) -> None:
        if reason is not None:
            await connection.websocket.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-emulator"}}
            )
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(connection.ended.wait(), grace_seconds)
        if not connection.websocket.closed:
            await connection.websocket.close(
                code=WSCloseCode.GOING_AWAY, message=b"disconnected by the emulator"
            )

    # -- assertions ------------------------------------------------------------------------------
    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        """Every ack the app sent for ``envelope_id`` (``{"envelope_id": ..., "payload"?: ...}``)."""
        with self._lock:
            return list(self._acks.get(envelope_id, []))

    def wait_for_ack(self, envelope_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The first ack for ``envelope_id``; fails if none arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._acks.get(envelope_id):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for the ack of envelope {envelope_id}")
                self._changed.wait(remaining)
            return self._acks[envelope_id][0]
