"""bol.com process status as ``approvals-bot serve`` runs it: one real process, the notifier on.

Process ids come in the four ways users hand them over (the ingest API, ``approvals-bot watch``,
``/process-status watch`` and ``/process-status follow``); the bol.com emulator then finishes them
and the test reads what the running bot posted: batch cards kept current with failures in their
thread, the single watch's message and the followed process's message.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.sandbox.bol import BolEmulator
from bot.sandbox.slack import SlackEmulator, StoredMessage
from bot.settings import Settings
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.conftest import APPROVER, PROCESS_CHANNEL, SIGNING_SECRET
from tests.replicas import Replica
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for

API_TOKEN = "product-test-ingest-token-5d0c8e7a9b1f2a3c"
TEAM_CHANNEL = "C_TEAM"


def _text(message: StoredMessage) -> str:
    return f"{message.text or ''} {json.dumps(message.blocks or [])}"


def _messages_with(slack: SlackEmulator, channel: str, needle: str) -> list[StoredMessage]:
    return [m for m in slack.top_level_messages(channel) if needle in _text(m)]


def test_serve_follows_processes_from_the_api_the_cli_and_slash_commands_until_they_finish(
    make_settings: Callable[..., Settings], slack: SlackEmulator, bol: BolEmulator, tmp_path: Path
) -> None:
    settings = make_settings(
        notifier_enabled=True,
        port=free_port(),
        approvals_poll_seconds=3600,
        process_status_poll_seconds=0.5,
        api_tokens=API_TOKEN,
    )
    uploaded = bol.add_processes(3, entity_prefix="upload")
    from_cron = bol.add_processes(2, entity_prefix="cron")
    single = bol.add_process("CANCEL_ORDER", "order-77")

    bot = Replica(settings, tmp_path / "serve")
    bot.wait_until_listening()
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    try:
        # The ingest API and the CLI each hand in a batch: each gets one card.
        answer = httpx.post(
            f"{bot.url}/api/v1/process-status/watches",
            json={"ids": uploaded, "label": "offer upload"},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        watched = subprocess.run(
            [EXECUTABLE, "watch", *from_cron, "--label", "nightly sync"],
            env=environment(settings),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert watched.returncode == 0, watched.stderr
        (upload_card,) = wait_for(
            lambda: _messages_with(slack, PROCESS_CHANNEL, "offer upload"), what="API card"
        )
        (cron_card,) = wait_for(
            lambda: _messages_with(slack, PROCESS_CHANNEL, "nightly sync"), what="CLI card"
        )

        # A person watches one process and follows an entity, from Slack.
        for text in ("watch " + single, "follow shipment-9 CREATE_SHIPMENT"):
            response = sender.slash_command(
                "/process-status", text, user_id=APPROVER, channel_id=TEAM_CHANNEL
            )
            assert response.status_code == 200
        wait_for(lambda: bol.bulk_requests() and bol.entity_requests(), what="the first rounds of polling")
        followed = bol.add_process("CREATE_SHIPMENT", "shipment-9")  # started after the follow

        bol.finish(uploaded[:2], "SUCCESS")
        bol.finish(uploaded[2:], "FAILURE", error_message="Offer 'upload-2' has an invalid EAN.")
        bol.finish(from_cron, "SUCCESS")
        bol.finish([single], "TIMEOUT")
        bol.finish([followed], "SUCCESS")

        wait_for(
            lambda: "invalid EAN" in _text(slack.message(PROCESS_CHANNEL, upload_card.ts)),
            what="the batch card updated with its failure",
        )
        wait_for(
            lambda: any(
                "invalid EAN" in _text(m) for m in slack.thread_replies(PROCESS_CHANNEL, upload_card.ts)
            ),
            what="the failure in the batch card's thread",
        )
        wait_for(
            lambda: (
                "SUCCESS" in _text(slack.message(PROCESS_CHANNEL, cron_card.ts))
                and "PENDING" not in (slack.message(PROCESS_CHANNEL, cron_card.ts).text or "")
            ),
            what="the CLI batch's card complete",
        )
        wait_for(lambda: _messages_with(slack, TEAM_CHANNEL, single), what="the watched process's message")
        wait_for(lambda: _messages_with(slack, TEAM_CHANNEL, followed), what="the followed process's message")
    finally:
        assert bot.stop() == 0
