"""``approvals-bot demo``: the real bot against the sandbox servers, with a page to click in.

The bot is started exactly as ``serve`` starts it (``BotServer``: ``/slack/events``, the notifier on,
SQLite), but with settings made here from the sandbox's addresses: nothing is read from ``.env`` or the
environment, so no real Slack, Commerce or bol.com is ever called. The sandbox servers and the bot
listen on 127.0.0.1 only; the page listens on ``--host`` (127.0.0.1 unless asked otherwise: in a
container, 0.0.0.0 so that ``docker run -p 127.0.0.1:3000:3000`` can reach it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import monotonic
from time import time as epoch_seconds
from typing import TextIO

import httpx
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.sandbox import sample_data
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.sandbox.workspace import Workspace
from bot.server import BotServer
from bot.settings import Settings
from bot.storage.records import IdentityLink
from bot.storage.store import Store

LOOPBACK = "127.0.0.1"
TIMELINE_TICK_SECONDS = 1.0
FIRST_LINE = (
    "approvals-bot demo: a sandbox on this machine; nothing leaves it (no Slack, Commerce or bol.com)."
)

log = logging.getLogger("bot.demo")


class DemoSettings(Settings):
    """``Settings`` from the arguments only: no ``.env``, no environment variable."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class DemoOptions:
    host: str = LOOPBACK
    port: int = 3000
    db: Path | None = None


@dataclass
class Sandbox:
    slack: SlackEmulator
    commerce: CommerceEmulator
    bol: BolEmulator

    @classmethod
    def start(cls) -> Sandbox:
        slack = SlackEmulator()
        slack.clock = epoch_seconds  # messages get real timestamps, as Slack's do
        commerce, bol = CommerceEmulator(), BolEmulator()
        for server in (slack, commerce, bol):
            server.start()
        return cls(slack, commerce, bol)

    def stop(self) -> None:
        for server in (self.slack, self.commerce, self.bol):
            server.stop()


def demo_settings(sandbox: Sandbox, directory: Path, database: Path, api_token: str) -> Settings:
    routes = directory / "routes.yaml"
    routes.write_text(sample_data.ROUTES_YAML, encoding="utf-8")
    values: dict[str, object] = {
        "slack_bot_token": sandbox.slack.token,
        "slack_signing_secret": secrets.token_hex(16),
        "slack_api_url": sandbox.slack.api_url,
        "slack_post_interval_seconds": 0.2,
        "commerce_base_url": sandbox.commerce.base_url,
        "commerce_store_id": sandbox.commerce.store_id,
        "commerce_logon_id": sandbox.commerce.logon_id,
        "commerce_logon_password": sandbox.commerce.password,
        "commerce_timeout_seconds": 5,
        "bol_client_id": sandbox.bol.client_id,
        "bol_client_secret": sandbox.bol.client_secret,
        "bol_api_url": sandbox.bol.api_url,
        "bol_token_url": sandbox.bol.token_url,
        "approvals_channel": sample_data.APPROVALS_CHANNEL,
        "approvals_routes_file": routes,
        "process_status_channel": sample_data.PROCESS_CHANNEL,
        "approvers": ",".join(sample_data.APPROVERS),
        "approvals_poll_seconds": 2,
        "process_status_poll_seconds": 3,
        "approvals_remind_after": timedelta(minutes=2),
        "approvals_remind_every": timedelta(minutes=3),
        "approvals_followup_poll_seconds": 15,
        "api_tokens": [api_token],
        "process_status_notify": "failures",
        "database_url": f"sqlite:///{database}",
        "host": LOOPBACK,
        "port": 0,
        "replica_id": "demo",
        "log_level": "WARNING",
    }
    return DemoSettings(**values)  # type: ignore[arg-type]


async def run_demo(options: DemoOptions, stop: asyncio.Event, out: TextIO = sys.stdout) -> None:
    """Runs until ``stop`` is set; prints the first line, then the page's URL once it answers."""
    print(FIRST_LINE, file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix="approvals-bot-demo-") as temporary:
        directory = Path(temporary)
        sandbox = Sandbox.start()
        try:
            await _run(sandbox, options, directory, stop, out)
        finally:
            sandbox.stop()


async def _link_identities(settings: Settings, sample: sample_data.Sample) -> None:
    """Links the demo's approvers (a two-person route counts linked voters only) and the submitter
    who is also an approver (so the self-approval block shows) to their Commerce users."""
    store = await Store.open(settings.database_url)
    try:
        for slack_user_id, person in (
            (sample_data.SUBMITTER.user_id, sample.self_submitter),
            *sample.linked_approvers,
        ):
            await store.link_identity(IdentityLink(slack_user_id, person.logon_id, person.user_id))
    finally:
        await store.close()


async def _run(
    sandbox: Sandbox, options: DemoOptions, directory: Path, stop: asyncio.Event, out: TextIO
) -> None:
    sample = sample_data.fill(sandbox.slack, sandbox.commerce, sandbox.bol)
    api_token = secrets.token_urlsafe(24)
    settings = demo_settings(sandbox, directory, options.db or directory / "demo.db", api_token)
    await _link_identities(settings, sample)  # before the bot starts: it names unlinked approvers then
    server = BotServer(settings, host=LOOPBACK)
    await server.start()
    try:
        bot_url = f"http://{LOOPBACK}:{server.port}"
        workspace = Workspace(sandbox.slack, bot_url, settings.slack_signing_secret.get_secret_value())
        page_port = await workspace.start(options.host, options.port)
        try:
            await _ingest_offer_upload(bot_url, api_token, sample.offer_upload)
            shown_host = LOOPBACK if options.host in ("0.0.0.0", "::", "") else options.host  # noqa: S104
            print(f"Open http://{shown_host}:{page_port}/ (Ctrl-C stops the demo)", file=out, flush=True)
            timeline = asyncio.create_task(
                _follow(sandbox, sample_data.Timeline(sample)), name="demo-timeline"
            )
            try:
                await stop.wait()
            finally:
                timeline.cancel()
        finally:
            await workspace.stop()
    finally:
        await server.stop()
    print("approvals-bot demo stopped", file=out, flush=True)


async def _ingest_offer_upload(bot_url: str, api_token: str, ids: list[str]) -> None:
    """Hands the offer upload's process ids to the bot through its ingest API, as a shop system would."""
    async with httpx.AsyncClient(base_url=bot_url, timeout=10) as client:
        answer = await client.post(
            "/api/v1/process-status/watches",
            json={
                "ids": ids,
                "label": sample_data.OFFER_UPLOAD_LABEL,
                "channel": sample_data.PROCESS_CHANNEL,
            },
            headers={"Authorization": f"Bearer {api_token}"},
        )
        answer.raise_for_status()


async def _follow(sandbox: Sandbox, timeline: sample_data.Timeline) -> None:
    started = monotonic()
    while True:
        timeline.advance(timedelta(seconds=monotonic() - started))
        for server in (sandbox.slack, sandbox.commerce, sandbox.bol):
            server.forget_requests()  # nobody reads them here; a demo left running would pile them up
        await asyncio.sleep(TIMELINE_TICK_SECONDS)
