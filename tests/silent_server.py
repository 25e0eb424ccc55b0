"""A loopback TCP server that accepts connections and never answers (a hung service, a black hole)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def silent_server() -> Iterator[str]:
    """Yields ``http://127.0.0.1:PORT``; the kernel completes every handshake, nobody ever reads."""
    listener = socket.socket()
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
