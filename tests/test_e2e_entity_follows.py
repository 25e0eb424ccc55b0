"""End to end: following an entity posts each of its processes that reaches a final state, once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.bol.models import ENTITY_PAGE_SIZE
from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator
from tests.bot_runner import RunningBot
from tests.conftest import APPROVER, PROCESS_CHANNEL, SIGNING_SECRET
from tests.ingest_api import API_TOKEN, api_client
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender

CHANNEL = "C_OPS"
FOLLOWS = "/api/v1/process-status/follows"


def posted(slack: SlackEmulator, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [c for c in slack.calls("chat.postMessage") if c.get("channel") == channel]


def shown(call: dict[str, Any]) -> str:
    return json.dumps(call.get("blocks")) + str(call.get("text"))


def test_follow_from_slack_announces_each_newly_finished_process_once(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, database_url: str
) -> None:
    bot = start_bot(database_url=database_url)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    old = bol.add_process("CREATE_SHIPMENT", "order-77", status="SUCCESS")
    running = bol.add_process("CREATE_SHIPMENT", "order-77")
    answer = run_command(
        sender, slack, "/process-status", "follow order-77 create_shipment", user=APPROVER, channel=CHANNEL
    )
    assert "Following" in shown(answer)
    again = run_command(
        sender, slack, "/process-status", "follow order-77 CREATE_SHIPMENT", user=APPROVER, channel=CHANNEL
    )
    assert "already followed" in shown(again)

    assert bot.poll_follows() == 0  # what had finished before the follow is not news
    bol.set_status(running, "FAILURE", error_message="Transporter unknown")
    newer = bol.add_process("CREATE_SHIPMENT", "order-77", status="SUCCESS")
    bol.add_process("CANCEL_ORDER", "order-77", status="SUCCESS")  # another event type
    assert bot.poll_follows() == 2
    assert bot.poll_follows() == 0
    texts = [shown(c) for c in posted(slack)]
    assert any(running in t and "Transporter unknown" in t for t in texts)
    assert any(newer in t for t in texts)
    assert not any(old in t for t in texts)

    bad = run_command(
        sender, slack, "/process-status", "follow order-77 SHIP_IT", user=APPROVER, channel=CHANNEL
    )
    assert "SHIP_IT" in shown(bad)
    stop = run_command(
        sender, slack, "/process-status", "unfollow order-77 CREATE_SHIPMENT", user=APPROVER, channel=CHANNEL
    )
    assert "Stopped following" in shown(stop)
    bol.add_process("CREATE_SHIPMENT", "order-77", status="SUCCESS")
    assert bot.poll_follows() == 0


def test_further_pages_are_read_only_while_they_show_unseen_processes(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator
) -> None:
    bot = start_bot(api_tokens=API_TOKEN)
    for _ in range(ENTITY_PAGE_SIZE * 2 + 10):
        bol.add_process("UPDATE_OFFER_STOCK", "offer-9", status="SUCCESS")
    with api_client(bot) as client:
        created = client.post(FOLLOWS, json={"entity_id": "offer-9", "event_type": "UPDATE_OFFER_STOCK"})
        assert created.status_code == 201, created.text
        assert (
            client.post(
                FOLLOWS, json={"entity_id": "offer-9", "event_type": "UPDATE_OFFER_STOCK"}
            ).status_code
            == 200
        )
        bad = client.post(FOLLOWS, json={"entity_id": "offer 9", "event_type": "NOPE"})
        assert bad.status_code == 400
        assert {e["pointer"] for e in bad.json()["errors"]} == {"/entity_id", "/event_type"}

    def pages_read() -> list[str | None]:
        return [r.q("page") for r in bol.entity_requests() if r.q("entity-id") == "offer-9"]

    assert bot.poll_follows() == 0
    assert pages_read() == ["1", "2", "3"]  # every page is new on the first round
    assert bot.poll_follows() == 0
    assert pages_read()[3:] == ["1"]  # nothing unseen on page 1: no further page
    finished = bol.add_process("UPDATE_OFFER_STOCK", "offer-9", status="TIMEOUT")
    assert bot.poll_follows() == 1
    assert finished in shown(posted(slack, PROCESS_CHANNEL)[0])
    with api_client(bot) as client:
        assert client.delete(f"{FOLLOWS}/offer-9/UPDATE_OFFER_STOCK").status_code == 204
        assert client.delete(f"{FOLLOWS}/offer-9/UPDATE_OFFER_STOCK").status_code == 404
