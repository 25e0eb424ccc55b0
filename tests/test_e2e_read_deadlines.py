"""Slow or half-sent requests are closed by the bot after ``REQUEST_READ_TIMEOUT_SECONDS``, over real
sockets, while complete signed requests are still answered."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from bot.web.routes import SLACK_EVENTS_PATH
from tests.bot_runner import RunningBot
from tests.conftest import SIGNING_SECRET
from tests.slack_requests import SlackRequestSender

READ_TIMEOUT_SECONDS = 0.5
CLOSED_WITHIN_SECONDS = 20.0  # generous: the bound is about twice the timeout, the machine may be busy
HALF_SENT = 200


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def connect(bot: RunningBot, sockets: list[socket.socket], data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=CLOSED_WITHIN_SECONDS)
    sockets.append(sock)
    if data:
        sock.sendall(data)
    return sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sent before it closed the connection; fails the test if it never does."""
    received = b""
    deadline = time.monotonic() + CLOSED_WITHIN_SECONDS
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            break
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open (received {received!r})")


def head(content_length: int | None = None) -> bytes:
    lines = [
        f"POST {SLACK_EVENTS_PATH} HTTP/1.1",
        "Host: bot",
        "Content-Type: application/x-www-form-urlencoded",
    ]
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_half_sent_requests_are_closed_while_signed_requests_are_answered(
    start_bot: Callable[..., RunningBot], sockets: list[socket.socket]
) -> None:
    bot = start_bot(request_read_timeout_seconds=READ_TIMEOUT_SECONDS)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    silent = [connect(bot, sockets, b"") for _ in range(HALF_SENT // 4)]
    no_end_of_head = [connect(bot, sockets, head()[:-2]) for _ in range(HALF_SENT // 4)]
    short_body = [
        connect(bot, sockets, head(content_length=100) + b"token=abc") for _ in range(HALF_SENT // 2)
    ]

    # Meanwhile the bot answers a complete signed request at once.
    answer = sender.slash_command("/approvals", "help", user_id="U_ANYONE", channel_id="C_ANY")
    assert answer.status_code == 200 and "/approvals" in answer.text

    for sock in silent + no_end_of_head:
        assert until_closed(sock) == b""
    for sock in short_body:
        assert until_closed(sock).startswith(b"HTTP/1.1 408 ")
    answer = sender.slash_command("/approvals", "help", user_id="U_ANYONE", channel_id="C_ANY")
    assert answer.status_code == 200


def test_a_request_whose_body_arrives_in_parts_within_the_timeout_is_served(
    start_bot: Callable[..., RunningBot], sockets: list[socket.socket]
) -> None:
    bot = start_bot(request_read_timeout_seconds=5.0)
    body = b"token=abc&text=help"
    sock = connect(bot, sockets, head(content_length=len(body)) + body[:5])
    sock.sendall(body[5:])

    answer = until_closed_or_answered(sock)

    assert answer.startswith(b"HTTP/1.1 401 ")  # read whole and judged: unsigned, so refused


def until_closed_or_answered(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_an_idle_kept_alive_connection_is_closed_after_the_timeout(
    start_bot: Callable[..., RunningBot], sockets: list[socket.socket]
) -> None:
    bot = start_bot(request_read_timeout_seconds=READ_TIMEOUT_SECONDS)
    sock = connect(bot, sockets, b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")

    received = until_closed(sock)

    assert received.startswith(b"HTTP/1.1 200 ")  # answered, then closed once it sent nothing more
