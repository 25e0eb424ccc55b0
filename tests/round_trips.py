"""Counts the round trips a PostgreSQL store makes, from libpq's own trace of the wire protocol.

Each message the client ends a request with (``Query`` for a simple query such as BEGIN or COMMIT,
``Sync`` for a statement with parameters) is one wait for the server's answer (no pipelining here).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import pq
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class RoundTrips:
    def __init__(self, path: str) -> None:
        self._path = path
        self._start = 0

    def reset(self) -> None:
        """Counts from here on."""
        self._start = os.path.getsize(self._path)

    def messages(self) -> list[str]:
        """The client's messages that waited for an answer since ``reset``: one per round trip."""
        with open(self._path, encoding="utf-8", errors="replace") as trace:
            trace.seek(self._start)
            lines = [line.split("\t") for line in trace]
        return [
            " ".join(fields[2:]).strip()
            for fields in lines
            if len(fields) > 2 and fields[0] == "F" and fields[2].split(" ")[0].strip() in ("Query", "Sync")
        ]

    @property
    def count(self) -> int:
        return len(self.messages())


@contextmanager
def round_trips(engine: AsyncEngine) -> Iterator[RoundTrips]:
    """Traces every connection ``engine``'s pool hands out (dispose the pool first so none escapes)."""
    with tempfile.NamedTemporaryFile(prefix="libpq-trace-", delete=False) as handle:
        path = handle.name
    trace = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for libpq until the end
    pool = engine.sync_engine.pool

    def traced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        pgconn = dbapi_connection.driver_connection.pgconn
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def untraced(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.pgconn.untrace()

    event.listen(pool, "checkout", traced)
    event.listen(pool, "checkin", untraced)
    try:
        counter = RoundTrips(path)
        yield counter
    finally:
        event.remove(pool, "checkout", traced)
        event.remove(pool, "checkin", untraced)
        trace.close()
        os.unlink(path)
