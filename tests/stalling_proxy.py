"""A loopback TCP proxy that can stall: a database that still accepts connections but never answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


class StallingProxy:
    """Relays bytes to ``upstream`` until :meth:`stall`; from then on it reads nothing, sends nothing,
    and new connections are accepted (by the kernel) and left alone."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stalled = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._stalled.set()

    def resume(self) -> None:
        """New connections are relayed again (the stalled ones stay dead, as after a real outage)."""
        self._stalled.clear()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self._stalled.is_set():
                continue  # held open, never answered
            upstream = socket.create_connection(self._upstream)
            self._sockets.append(upstream)
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data or self._stalled.is_set():
                return  # stalled: what was sent is swallowed, and the socket stays open
            try:
                target.sendall(data)
            except OSError:
                return


@contextmanager
def stalling_postgres(database_url: str) -> Iterator[tuple[StallingProxy, str]]:
    """A proxy in front of ``database_url``'s server and the URL that goes through it."""
    url = make_url(database_url)
    proxy = StallingProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.close()
