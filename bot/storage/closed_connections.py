"""A pooled PostgreSQL connection the server has closed is replaced before use, with no round trip.

A PostgreSQL restart (or a failover, or ``pg_terminate_backend``) ends every session: the server
sends each client its last message and closes the socket, while the pool still holds their
connections, and the first call after it failed ("AdminShutdown"). A connection lying idle in the
pool has nothing to read; one whose socket is readable has been told goodbye. That is checked as it
leaves the pool (one ``poll`` system call, no query), and such a connection is discarded: SQLAlchemy
then connects afresh. A server that vanished without a word is TCP keepalive's to find.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import Engine, event, exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def discard_closed_connections(engine: Engine) -> None:
    """Hands out no connection of ``engine``'s pool that the server has already closed."""

    @event.listens_for(engine, "checkout")
    def _checked_out(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        if _told_goodbye(dbapi_connection):
            raise exc.DisconnectionError("the server closed this pooled connection")


def _told_goodbye(dbapi_connection: Any) -> bool:
    """Whether the idle connection's socket has something to read (the server's last word, or EOF)."""
    driver_connection = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    pgconn = getattr(driver_connection, "pgconn", None)
    try:
        socket = pgconn.socket if pgconn is not None else None
    except Exception:
        return True  # libpq has no socket for it any more: closed
    if socket is None:
        return False
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
