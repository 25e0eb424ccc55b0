"""SIGTERM with a decision in flight: the drain is logged, and a decision left unknown is named."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID
from tests.cli_process import EXECUTABLE, environment, free_port
from tests.conftest import APPROVALS_CHANNEL, APPROVER, SIGNING_SECRET
from tests.slack_requests import SlackRequestSender
from tests.waiting import wait_for


def test_sigterm_during_a_decision_logs_the_drain_and_names_the_decision_left_unknown(
    make_settings: Callable[..., Settings], slack: SlackEmulator, commerce: CommerceEmulator, tmp_path: Path
) -> None:
    approval_id = commerce.add_approval(ApprovalKind.ORDER)

    def decision_post(request: RecordedRequest) -> bool:
        return request.method == "POST" and request.path.endswith(f"/approval_status/{approval_id}")

    commerce.fail_next(1, Response(withhold="hang"), when=decision_post)  # Commerce never answers it
    port = free_port()
    settings = make_settings(port=port, notifier_enabled=True, approvals_poll_seconds=0.2)
    log_path = tmp_path / "bot.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [EXECUTABLE, "serve"], env=environment(settings), cwd=tmp_path, stdout=log_file, stderr=log_file
        )
        try:
            card = wait_for(
                lambda: [
                    c for c in slack.calls("chat.postMessage") if approval_id in json.dumps(c["blocks"])
                ],
                timeout=30,
                what="the card",
            )[0]
            sender = SlackRequestSender(f"http://127.0.0.1:{port}", SIGNING_SECRET)
            answer = sender.block_action(
                APPROVE_ACTION_ID,
                approval_id,
                user_id=APPROVER,
                channel_id=APPROVALS_CHANNEL,
                message_ts=slack.message_ts(card),
                response_url=slack.new_response_url(),
            )
            assert answer.status_code == 200
            wait_for(lambda: commerce.held == 1, timeout=30, what="the decision to reach Commerce")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    output = log_path.read_text()
    assert process.returncode == 0, output
    assert "waiting up to" in output and "in flight" in output, output
    assert "drained" in output, output
    unknown = [line for line in output.splitlines() if "left unknown" in line]
    assert len(unknown) == 1 and approval_id in unknown[0], output
    assert output.rstrip().endswith("approvals-bot stopped")
