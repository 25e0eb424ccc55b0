"""End to end: other systems hand process ids to the bot over HTTP (bearer tokens, problem+json)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bot.sandbox.bol import BolEmulator
from bot.storage.records import Notify
from bot.storage.store import Store
from tests.bot_runner import RunningBot
from tests.conftest import PROCESS_CHANNEL, SIGNING_SECRET
from tests.ingest_api import API_TOKEN, BATCHES, OTHER_API_TOKEN, WATCHES, api_client, get_batch, post_watches
from tests.slack_requests import SlackRequestSender

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def api_bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    return start_bot(api_tokens=f"{API_TOKEN},{OTHER_API_TOKEN}")


def stored_batches(bot: RunningBot) -> int:
    return len(bot.call(bot.runtime.store.recent_batches(limit=100)))


def test_a_batch_of_500_ids_is_stored_once_and_a_repeat_is_idempotent(api_bot: RunningBot) -> None:
    ids = [f"proc-{n}" for n in range(500)]
    first = post_watches(api_bot, {"ids": ids, "label": "offer upload 2026-11-23"})
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["new"] == 500
    assert first.headers["Location"] == f"{BATCHES}/{created['batch_id']}"

    again = post_watches(api_bot, {"ids": list(reversed(ids))})
    assert again.status_code == 200
    assert again.json()["batch_id"] == created["batch_id"]
    assert again.json()["new"] == 0

    batch = get_batch(api_bot, created["batch_id"])
    assert batch["total"] == 500
    assert batch["counts"]["PENDING"] == 500
    assert batch["channel"] == PROCESS_CHANNEL
    assert batch["label"] == "offer upload 2026-11-23"
    assert batch["notify"] == "failures"
    assert stored_batches(api_bot) == 1


def test_ids_already_watched_in_the_channel_are_not_watched_twice(api_bot: RunningBot) -> None:
    first = post_watches(api_bot, {"ids": ["a1", "a2", "a2"], "channel": "C_OPS", "notify": "all"})
    assert first.json()["new"] == 2
    overlapping = post_watches(api_bot, {"ids": ["a2", "a3"], "channel": "C_OPS"})
    assert overlapping.status_code == 201
    assert overlapping.json()["new"] == 1
    elsewhere = post_watches(api_bot, {"ids": ["a2"], "channel": "C_ELSEWHERE"})
    assert elsewhere.json()["new"] == 1
    members = bot_members(api_bot)
    assert sorted((m.channel, m.process_status_id) for m in members) == [
        ("C_ELSEWHERE", "a2"),
        ("C_OPS", "a1"),
        ("C_OPS", "a2"),
        ("C_OPS", "a3"),
    ]
    assert get_batch(api_bot, first.json()["batch_id"])["notify"] == "all"


def bot_members(bot: RunningBot) -> list:  # type: ignore[type-arg]
    return bot.call(bot.runtime.store.active_batch_members())


@pytest.mark.parametrize("token", [None, "wrong-token", API_TOKEN + "x", ""])
def test_a_missing_or_wrong_token_gets_401_without_detail(api_bot: RunningBot, token: str | None) -> None:
    response = post_watches(api_bot, {"ids": ["p1"]}, token=token)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert set(response.json()) == {"type", "title", "status"}
    with api_client(api_bot, token) as client:
        assert client.get(f"{BATCHES}/abc").status_code == 401
        assert client.delete(f"{WATCHES}/p1").status_code == 401
    assert stored_batches(api_bot) == 0


def test_every_configured_token_opens_the_api(api_bot: RunningBot) -> None:
    assert post_watches(api_bot, {"ids": ["t1"]}, token=OTHER_API_TOKEN).status_code == 201


def test_without_api_tokens_the_api_does_not_exist(bot: RunningBot) -> None:
    assert post_watches(bot, {"ids": ["p1"]}).status_code == 404
    with api_client(bot) as client:
        assert client.get(f"{BATCHES}/abc").status_code == 404


def test_slack_route_does_not_accept_api_tokens_and_the_api_not_slack_signatures(api_bot: RunningBot) -> None:
    with api_client(api_bot) as client:
        assert (
            client.post("/slack/events", data={"command": "/process-status", "text": "help"}).status_code
            == 401
        )
    sender = SlackRequestSender(api_bot.url, SIGNING_SECRET, path=WATCHES)
    body = json.dumps({"ids": ["p1"]}).encode()
    headers = {**sender.signed_headers(body), "Content-Type": "application/json"}
    assert sender.raw(body, headers).status_code == 401
    assert stored_batches(api_bot) == 0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"ids": ["ok-1", "not ok!", "ok-2"]}, "/ids/1"),
        ({"ids": [f"p{n}" for n in range(1001)]}, "/ids"),
        ({"ids": []}, "/ids"),
        ({}, "/ids"),
        ({"ids": "p1"}, "/ids"),
        ({"ids": ["p1", None]}, "/ids/1"),
        ({"ids": ["x" * 65]}, "/ids/0"),
        ({"ids": ["p1"], "channel": "general"}, "/channel"),
        ({"ids": ["p1"], "channel": "D123"}, "/channel"),
        ({"ids": ["p1"], "notify": "sometimes"}, "/notify"),
        ({"ids": ["p1"], "label": ""}, "/label"),
        ({"ids": ["p1"], "label": "x" * 201}, "/label"),
        ({"ids": ["p1"], "colour": "red"}, "/colour"),
    ],
)
def test_bad_fields_get_a_problem_naming_the_field_and_store_nothing(
    api_bot: RunningBot, body: dict[str, object], pointer: str
) -> None:
    response = post_watches(api_bot, body)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == 400
    assert pointer in [error["pointer"] for error in problem["errors"]]
    assert "Traceback" not in response.text
    assert stored_batches(api_bot) == 0


def test_wrong_content_type_bad_json_and_oversized_bodies_are_problems(api_bot: RunningBot) -> None:
    with api_client(api_bot) as client:
        form = client.post(WATCHES, data={"ids": "p1"})
        assert form.status_code == 415
        assert form.headers["Content-Type"].startswith(PROBLEM_JSON)
        broken = client.post(WATCHES, content=b'{"ids": [', headers={"Content-Type": "application/json"})
        assert broken.status_code == 400
        assert broken.json()["errors"][0]["pointer"] == ""
        huge = json.dumps({"ids": ["p1"], "label": "x" * (1024 * 1024)}).encode()
        too_big = client.post(WATCHES, content=huge, headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413
        assert too_big.headers["Content-Type"].startswith(PROBLEM_JSON)
        array = client.post(WATCHES, json=["p1"])
        assert array.status_code == 400
    assert stored_batches(api_bot) == 0


def test_delete_stops_a_watch_and_unknown_batches_are_404(api_bot: RunningBot) -> None:
    created = post_watches(api_bot, {"ids": ["d1", "d2"]}).json()
    with api_client(api_bot) as client:
        assert client.delete(f"{WATCHES}/d1").status_code == 204
        gone = client.delete(f"{WATCHES}/d1")
        assert gone.status_code == 404
        assert gone.headers["Content-Type"].startswith(PROBLEM_JSON)
        assert client.delete(f"{WATCHES}/bad%20id").status_code == 400
        assert client.get(f"{BATCHES}/0123456789abcdef").status_code == 404
        assert client.get(f"{BATCHES}/..%2F..").status_code == 404
    assert get_batch(api_bot, created["batch_id"])["total"] == 1


def test_concurrent_identical_requests_create_one_batch(database_url: str) -> None:
    import asyncio

    async def scenario() -> None:
        first, second = await Store.open(database_url), await Store.open(database_url)
        try:
            results = await asyncio.gather(
                *(
                    (first if n % 2 else second).create_batch(
                        ["x1", "x2", "x3"], "C1", label=None, notify=Notify.FAILURES, requested_by="api"
                    )
                    for n in range(6)
                )
            )
            assert len({r.batch_id for r in results}) == 1
            assert sum(r.new for r in results) == 3
            assert len(await first.active_batch_members()) == 3
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_the_bol_emulator_is_not_called_when_ids_are_handed_in(api_bot: RunningBot, bol: BolEmulator) -> None:
    post_watches(api_bot, {"ids": ["n1"]})
    assert bol.requests == []


def test_http_client_errors_are_not_5xx(api_bot: RunningBot) -> None:
    with httpx.Client(base_url=api_bot.url, timeout=30) as client:
        response = client.post(
            WATCHES,
            content=b"\xff\xfe",
            headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
        )
    assert response.status_code == 400
