"""Time limits on receiving a request: a slow or half-sent request is closed, never held.

aiohttp has no header or body read timeout of its own. Invariant: a connection that has not sent a
complete request head within ``seconds`` (of opening, or of the answer to its previous request) is
closed by :meth:`ReadDeadlines.watch`; a request whose body has not fully arrived within ``seconds``
of its head is answered 408 by :attr:`ReadDeadlines.middleware` and its connection closed. A request
whose body has arrived is never cut off, however long its handler takes; a handler still reads the
body itself (and may refuse it, too large, before it has all arrived).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_CHECK_INTERVAL_SECONDS = 1.0
"""How often idle connections are looked at, at most (a deadline is kept to within this)."""


class ReadDeadlines:
    """Add :attr:`middleware` to the app and run :meth:`watch` with the runner's server."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("the request read timeout must be positive")
        self.seconds = seconds
        self._busy: set[RequestHandler] = set()
        """Connections whose request head has arrived and whose answer is not sent yet."""
        self._waiting_since: dict[RequestHandler, float] = {}
        """Connections waiting for a request head, and since when."""

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Marks the connection busy while its request is worked on, and bounds the body's arrival."""
        connection = request.protocol
        self._busy.add(connection)
        try:
            return await self._body_in_time(request, handler)
        finally:
            self._busy.discard(connection)
            self._waiting_since[connection] = asyncio.get_running_loop().time()

    async def _body_in_time(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The handler's answer, or 408 when the body is still arriving at the deadline. The deadline
        is lifted the moment the whole body has arrived (at once when there is none), so the handler
        itself is never cut off."""
        deadline = asyncio.timeout(self.seconds)
        running = True

        def lift() -> None:
            if running:
                deadline.reschedule(None)

        try:
            async with deadline:
                request.content.on_eof(lift)
                return await handler(request)
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own
            log.warning(
                "closed a request from %s: its body did not arrive within %g s", request.remote, self.seconds
            )
            response = web.Response(status=408, text="The request body did not arrive in time.")
            response.force_close()
            return response
        finally:
            running = False

    async def watch(self, server: web.Server) -> None:
        """Closes connections that wait too long to send a request head; runs until cancelled."""
        interval = min(MAX_CHECK_INTERVAL_SECONDS, self.seconds / 4)
        while True:
            self.close_overdue(server.connections)
            await asyncio.sleep(interval)

    def close_overdue(self, connections: list[RequestHandler]) -> int:
        """Closes the idle ``connections`` past their deadline (a connection seen for the first time
        starts waiting now); returns how many were closed."""
        now = asyncio.get_running_loop().time()
        waiting = {c: self._waiting_since.get(c, now) for c in connections if c not in self._busy}
        overdue = [c for c, since in waiting.items() if now - since >= self.seconds]
        for connection in overdue:
            connection.force_close()
            del waiting[connection]
        self._waiting_since = waiting  # connections gone since are forgotten
        if overdue:
            log.warning(
                "closed %d connection(s) that sent no complete request within %g s",
                len(overdue),
                self.seconds,
            )
        return len(overdue)
