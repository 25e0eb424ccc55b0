"""End to end: no client input gets a 5xx, on either database: deep JSON, lone surrogates, NUL, and
compressed bodies that are bombs or not compressed at all (against ``approvals-bot serve`` itself)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from tests.bot_runner import RunningBot
from tests.cli_process import free_port
from tests.ingest_api import API_TOKEN, post_watches
from tests.replicas import Replica

WATCHES = "/api/v1/process-status/watches"
FOLLOWS = "/api/v1/process-status/follows"
DEEP = 200_000

BAD_BODIES = {
    "200k-deep JSON": b'{"ids": ["p1"], "label": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "200k-deep JSON as the body": b"[" * DEEP + b"]" * DEEP,
    "a lone surrogate in the label": b'{"ids": ["p1"], "label": "offer \\ud800 upload"}',
    "a lone surrogate as a key": b'{"ids": ["p1"], "\\udfff": 1}',
    "a NUL in the label": b'{"ids": ["p1"], "label": "offer\\u0000upload"}',
    "a control character in the label": b'{"ids": ["p1"], "label": "offer\\u001bupload"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bodies_no_database_or_parser_can_take_are_a_400_problem(
    start_bot: Callable[..., RunningBot], database_url: str, body: bytes
) -> None:
    bot = start_bot(api_tokens=API_TOKEN, database_url=database_url)
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    with httpx.Client(base_url=bot.url, headers=headers, timeout=60) as client:
        for path in (WATCHES, FOLLOWS):
            answer = client.post(path, content=body)
            assert answer.status_code == 400, (path, answer.status_code, answer.text[:300])
            assert answer.headers["Content-Type"].startswith("application/problem+json")
            assert "Traceback" not in answer.text
    assert bot.call(bot.runtime.store.recent_batches()) == []
    assert post_watches(bot, {"ids": ["p1"], "label": "offer upload"}).status_code == 201  # still well


BOMB_BYTES = 256 * 1024 * 1024
"""What one bomb unpacks to; a handful of them would take over a GiB if held."""


def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header
    chunk = b"\0" * (1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(BOMB_BYTES // len(chunk))) + packer.flush()


def peak_memory_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_gzip_bombs_and_broken_gzip_get_a_415_with_no_traceback_and_bounded_memory(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(port=free_port(), api_tokens=API_TOKEN)
    replica = Replica(settings, tmp_path)
    try:
        replica.wait_until_listening()
        before = peak_memory_kib(replica.process.pid)
        bomb = gzip_bomb()
        broken = b"\x1f\x8b\x08\x00" + b"not gzip at all" * 64
        gzip_json = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        with httpx.Client(base_url=replica.url, timeout=60) as client:
            for n in range(8):
                for body in (bomb, broken):
                    for path, auth in ((WATCHES, {}), (WATCHES, {"Authorization": f"Bearer {API_TOKEN}"})):
                        answer = client.post(path, content=body, headers={**gzip_json, **auth})
                        assert 400 <= answer.status_code < 500, (
                            n,
                            path,
                            answer.status_code,
                            answer.text[:200],
                        )
                    slack = client.post("/slack/events", content=body, headers=gzip_json)
                    assert slack.status_code == 415, (n, slack.status_code, replica.log()[-3000:])
            assert client.get("/healthz").status_code == 200
        grown_mib = (peak_memory_kib(replica.process.pid) - before) / 1024
        assert grown_mib < 64, f"peak memory grew {grown_mib:.0f} MiB"
        assert "Traceback" not in replica.log()
        assert replica.alive
    finally:
        replica.stop()
