"""Runs the whole bot in one process: HTTP (or Socket Mode) for Slack, plus the notifier loops."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.clock import Clock, utcnow
from bot.features.parts import SLACK_TIMEOUT_SECONDS
from bot.runtime import Runtime, backends_line
from bot.services.budget import DecisionBudget
from bot.settings import Settings
from bot.slack.outbound.user_agent import slack_user_agent
from bot.web.read_deadlines import ReadDeadlines
from bot.web.routes import build_web_app, metrics_routes, serve_metrics

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger(__name__)


DRAIN_MARGIN_SECONDS = 5.0


def drain_seconds(
    commerce_timeout_seconds: float, slack_timeout_seconds: float = SLACK_TIMEOUT_SECONDS
) -> float:
    """The longest a decision acked to Slack can still take, from the timeouts: the approver lookup
    (one Slack call), the read of the approval's route (one read's budget), Commerce (the decision's
    whole budget: the read with its retries, then the decision POST), and the card's chat.update,
    plus a margin for the store. A shutdown waits this long, so no decision is cut off between
    Commerce and the bot's record of it."""
    budget = DecisionBudget.from_timeout(commerce_timeout_seconds)
    commerce = budget.read_seconds + budget.total_seconds
    return commerce + 2 * slack_timeout_seconds + DRAIN_MARGIN_SECONDS


DEFAULT_DRAIN_SECONDS = drain_seconds(10.0)
"""With the default timeouts (Commerce 10 s, Slack 10 s): 55 s. Give the container longer to stop."""


async def drain_in_flight_work(seconds: float, *, not_ours: set[asyncio.Task[Any]]) -> None:
    """Lets work that Slack has already been acked for (a decision, a card update) finish before closing.

    Tasks in ``not_ours`` (those that existed before the bot started, such as whoever awaits it) are
    not waited for.
    """
    current = asyncio.current_task()
    in_flight = [
        task
        for task in asyncio.all_tasks()
        if task is not current and task not in not_ours and not task.done()
    ]
    if not in_flight:
        return
    log.info("stopping: waiting up to %.0fs for %d task(s) in flight", seconds, len(in_flight))
    started = time.monotonic()
    _, still_running = await asyncio.wait(in_flight, timeout=seconds)
    if still_running:
        log.warning("%d task(s) still running after %.0fs; stopping anyway", len(still_running), seconds)
    else:
        log.info("drained %d task(s) in flight in %.1fs", len(in_flight), time.monotonic() - started)


async def _warn_about_links(runtime: Runtime) -> None:
    """Logs what unlinked approvers mean (who is refused, whose self-approval goes unseen); a failure to
    find out is logged, never raised."""
    try:
        for warning in await runtime.decisions.link_warnings():
            log.warning("%s", warning)
    except Exception:
        log.warning("could not find out which approvers are linked to Commerce users", exc_info=True)


class BotServer:
    """Start with ``await start()``, stop with ``await stop()``; ``port`` is the bound HTTP port."""

    def __init__(self, settings: Settings, *, host: str | None = None, clock: Clock = utcnow) -> None:
        self.settings = settings
        self.clock = clock
        self.host = settings.host if host is None else host
        self.port: int | None = None
        self.metrics_port: int | None = None  # bound port of /metrics when METRICS_PORT is set
        self._metrics_runner: web.AppRunner | None = None
        self.runtime: Runtime | None = None
        self._runner: web.AppRunner | None = None
        self._socket_mode: AsyncSocketModeHandler | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        self._read_watch: asyncio.Task[None] | None = None
        self._tasks_before_start: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        self._tasks_before_start = asyncio.all_tasks()
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> int:
        runtime = self.runtime = await Runtime.create(self.settings, clock=self.clock)
        await runtime.check_slack_token()
        bolt_app = runtime.bolt_app
        read_deadlines = ReadDeadlines(self.settings.request_read_timeout_seconds)
        web_app = build_web_app(
            bolt_app,
            signing_secret=self.settings.slack_signing_secret.get_secret_value(),
            database_ready=runtime.store.ping,
            slack_problem=runtime.slack_token.problem,
            mount=runtime.mount_routes,
            read_deadlines=read_deadlines,
            work=runtime.parts.work,
        )
        if self.settings.metrics_port is None:
            web_app.add_routes(metrics_routes(runtime.metrics))
        # A refused request's unread body is read and dropped for at most the read timeout (not
        # aiohttp's 10 s), so its connection and task end with the deadline. Request bodies are never
        # decompressed (no Slack or API request is sent compressed; ``build_web_app`` refuses them):
        # a gzip bomb or broken gzip is then only its own bytes, read and dropped or refused.
        self._runner = web.AppRunner(
            web_app, access_log=None, lingering_time=read_deadlines.seconds, auto_decompress=False
        )
        await self._runner.setup()
        assert self._runner.server is not None  # set up just now
        self._read_watch = asyncio.create_task(
            read_deadlines.watch(self._runner.server), name="read-deadlines"
        )
        site = web.TCPSite(self._runner, self.host, self.settings.port)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.port
        if self.settings.metrics_port is not None:
            self._metrics_runner = await serve_metrics(runtime.metrics, self.host, self.settings.metrics_port)
            self.metrics_port = int(self._metrics_runner.addresses[0][1])
        if self.settings.socket_mode and self.settings.slack_app_token is not None:
            # Imported here: Socket Mode's client (a dozen modules) is for SLACK_APP_TOKEN only.
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = self._socket_mode = AsyncSocketModeHandler(
                bolt_app, self.settings.slack_app_token.get_secret_value()
            )
            # The WebSocket's handshake names our version too, as every other request to Slack does.
            await handler.client.aiohttp_client_session.close()
            handler.client.aiohttp_client_session = aiohttp.ClientSession(
                headers={"User-Agent": slack_user_agent()}
            )
            # connect() retries every failure forever, so a wrong app token would hang start-up:
            # ask for the first WebSocket URL ourselves and let a SlackApiError (invalid_auth) out.
            handler.client.wss_uri = await handler.client.issue_new_wss_url()
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("connected to Slack in Socket Mode")
        self._heartbeat = asyncio.create_task(runtime.beat_forever(), name="heartbeat")
        if self.settings.notifier_enabled:
            # Every replica serves Slack; the poller role runs the pollers while it holds the lock.
            self._tasks = [asyncio.create_task(runtime.poller_role.run(), name="poller-role")]
        self._tasks.append(asyncio.create_task(_warn_about_links(runtime), name="approver-links"))
        log.info(
            "approvals-bot listening on %s:%s (metrics on port %s, notifier %s)",
            self.host,
            self.port,
            self.metrics_port or self.port,
            "on" if self.settings.notifier_enabled else "off",
        )
        log.info("%s", backends_line(self.settings))
        return self.port

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._socket_mode is not None:
            await self._socket_mode.close_async()  # type: ignore[no-untyped-call]
        if self._read_watch is not None:
            self._read_watch.cancel()
            with suppress(asyncio.CancelledError):
                await self._read_watch
            self._read_watch = None
        if self._runner is not None:
            await self._runner.cleanup()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        keeps_running = {self._heartbeat} if self._heartbeat is not None else set()
        await drain_in_flight_work(
            drain_seconds(self.settings.commerce_timeout_seconds),
            not_ours=self._tasks_before_start | keeps_running,
        )
        if self._heartbeat is not None:  # beats until the drain is over: its claims are still live
            self._heartbeat.cancel()
            with suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self.runtime is not None:
            await self._name_decisions_left_unknown(self.runtime)
            await self.runtime.close()
        log.info("approvals-bot stopped")

    @staticmethod
    async def _name_decisions_left_unknown(runtime: Runtime) -> None:
        """One WARNING per decision this process sent and never heard back about (after the drain)."""
        try:
            open_decisions = await runtime.store.own_open_decisions()
        except Exception as error:
            log.warning("could not list the decisions left open: %s: %s", type(error).__name__, error)
            return
        for approval_id in open_decisions:
            log.warning(
                "decision on approval %s left unknown: sent to Commerce, no answer came back (Commerce may "
                "or may not have it); the next click on its card reads the approval again first",
                approval_id,
                extra={"approval_id": approval_id},
            )
