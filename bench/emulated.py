"""The loopback emulators (Slack, Commerce, bol.com) in a process of their own, for ``Remote``.

Their CPU is then not the bot's. Slack's emulator also notes when each ``chat.postMessage`` and
``chat.update`` arrived (``time.monotonic()``, one clock for every process on the machine), so
latencies are measured from the sender's clock to the arrival at Slack.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.remote import ProcessFigures
from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator

BOT_TOKEN = "xoxb-bench-token"
CHANNEL = "C_BENCH"


class TimedSlackEmulator(SlackEmulator):
    """Notes the arrival time of every accepted ``chat.update`` (by ts) and card post (by approval)."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.arrivals = threading.Condition(self.lock)
        self.updated_at: dict[str, float] = {}
        self.card_posted_at: dict[str, tuple[str, float]] = {}
        """approval id -> (ts, arrival) of its card."""

    def handle(self, request: RecordedRequest) -> Response:
        response = super().handle(request)
        arrived = time.monotonic()
        method = request.path.rsplit("/", 1)[-1]
        if method in ("chat.update", "chat.postMessage") and isinstance(response.body, dict):
            body = response.body
            if body.get("ok"):
                with self.arrivals:
                    if method == "chat.update":
                        self.updated_at.setdefault(str(body.get("ts")), arrived)
                    else:
                        approval_id = _card_approval_id(body.get("message") or {})
                        if approval_id is not None:
                            self.card_posted_at[approval_id] = (str(body.get("ts")), arrived)
                    self.arrivals.notify_all()
        return response


def _card_approval_id(message: dict[str, Any]) -> str | None:
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if element.get("value"):
                    return str(element["value"])
    return None


class EmulatorHost(ProcessFigures):
    def __init__(self) -> None:
        self.slack = TimedSlackEmulator(BOT_TOKEN)
        self.commerce = CommerceEmulator()
        self.bol = BolEmulator()
        for emulator in (self.slack, self.commerce, self.bol):
            emulator.start()

    def close(self) -> None:
        for emulator in (self.slack, self.commerce, self.bol):
            emulator.stop()

    def addresses(self) -> dict[str, str]:
        return {
            "slack_api_url": self.slack.api_url,
            "commerce_base_url": self.commerce.base_url,
            "commerce_store_id": self.commerce.store_id,
            "commerce_logon_id": self.commerce.logon_id,
            "commerce_logon_password": self.commerce.password,
            "bol_client_id": self.bol.client_id,
            "bol_client_secret": self.bol.client_secret,
            "bol_api_url": self.bol.api_url,
            "bol_token_url": self.bol.token_url,
        }

    # -- Commerce ----------------------------------------------------------------------------------
    def add_approvals(self, count: int) -> list[str]:
        return [self.commerce.add_approval(ApprovalKind.ORDER) for _ in range(count)]

    def decide_elsewhere(self, approval_ids: list[str]) -> None:
        for approval_id in approval_ids:
            self.commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)

    def pending_approvals(self, approval_ids: list[str]) -> set[str]:
        with self.commerce.lock:
            return {i for i in approval_ids if self.commerce.approval(i)["status"] == "0"}

    def request_counts(self) -> dict[str, int]:
        """Requests each emulator has answered so far."""
        return {
            "commerce": len(self.commerce.requests),
            # The listing's own calls (the bare listing's baseline); order reads asked ahead go on
            # in the background and land in whichever round is running.
            "commerce_listing": sum(1 for r in self.commerce.requests if "/approval_status" in r.path),
            "slack": len(self.slack.requests),
            "bol": len(self.bol.requests),
            "bol_bulk": len(self.bol.bulk_requests()),
        }

    def forget_requests(self) -> None:
        """Drops the recorded requests (bodies), which big runs would otherwise pile up."""
        for emulator in (self.slack, self.commerce, self.bol):
            emulator.forget_requests()

    # -- bol.com -----------------------------------------------------------------------------------
    def add_processes(self, count: int) -> list[str]:
        return self.bol.add_processes(count)

    def finish_processes(self, process_ids: list[str]) -> None:
        self.bol.finish(process_ids, "SUCCESS")

    # -- Slack -------------------------------------------------------------------------------------
    def new_response_urls(self, count: int) -> list[str]:
        """Fresh ``response_url``s, one a command, to see which commands got their answer."""
        return [self.slack.new_response_url() for _ in range(count)]

    def answered(self, response_urls: list[str]) -> int:
        """How many of these ``response_url``s have been posted to."""
        return sum(1 for url in response_urls if self.slack.responses(url))

    def post_messages(self, count: int) -> list[str]:
        """``count`` plain messages in the bench channel (cards for the minimal decide handler)."""
        with self.slack.lock:
            return [
                self.slack._post_message({"channel": CHANNEL, "text": "card"})["ts"] for _ in range(count)
            ]

    def cards(self) -> dict[str, tuple[str, float]]:
        """approval id -> (ts, arrival) of every card posted so far."""
        with self.slack.arrivals:
            return dict(self.slack.card_posted_at)

    def forget_cards(self) -> None:
        with self.slack.arrivals:
            self.slack.card_posted_at.clear()

    def wait_for_updates(self, timestamps: list[str], timeout: float = 60) -> dict[str, float]:
        """Arrival of the first ``chat.update`` of each ts; raises TimeoutError if one never comes."""
        deadline = time.monotonic() + timeout
        with self.slack.arrivals:
            while not all(ts in self.slack.updated_at for ts in timestamps):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = [ts for ts in timestamps if ts not in self.slack.updated_at]
                    raise TimeoutError(f"{len(missing)} card(s) never updated")
                self.slack.arrivals.wait(left)
            return {ts: self.slack.updated_at[ts] for ts in timestamps}

    def wait_for_cards(self, approval_ids: list[str], timeout: float = 600) -> dict[str, float]:
        """Arrival of each approval's card; raises TimeoutError if one never comes."""
        deadline = time.monotonic() + timeout
        with self.slack.arrivals:
            while not all(i in self.slack.card_posted_at for i in approval_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("card(s) never posted")
                self.slack.arrivals.wait(left)
            return {i: self.slack.card_posted_at[i][1] for i in approval_ids}
