"""HTTP surface: Slack's request URL plus health, readiness and Prometheus metrics.

``/metrics`` is on the main port unless ``METRICS_PORT`` gives it a port (and an app) of its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.background import BUSY_MESSAGE, BackgroundWork
from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.inbound.edge import Refusal, check_request, needs_background_work
from bot.slack.outbound.blocks.help import error_message
from bot.web.process_api import API_PREFIX, problem
from bot.web.read_deadlines import ReadDeadlines

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
MAX_SLACK_BODY_BYTES = 1024 * 1024
_BUSY_TEXT, _BUSY_BLOCKS = error_message(BUSY_MESSAGE)
BUSY_ACK = json.dumps({"text": _BUSY_TEXT, "blocks": _BUSY_BLOCKS, "response_type": "ephemeral"}).encode()
"""The ack a full bot gives a slash command (what the listener's busy ack says), built once."""


REFUSAL_WARNING_EVERY_SECONDS = 60.0
"""One WARNING per kind of refusal in this time; the others of the kind are logged at DEBUG."""
CAUSES = {
    "bad Slack signature": "SLACK_SIGNING_SECRET is not the app's Signing Secret (Basic Information), "
    "or the request is not from Slack",
    "stale X-Slack-Request-Timestamp": "this machine's clock or the sender's is off by over 5 minutes",
}


class RefusalLog:
    """Logs refused Slack requests: a fixed text (never the body) with its likely cause, at WARNING at
    most once a minute per problem, so a misconfigured secret or a scanner does not flood the log."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def refused(self, request: web.Request, refusal: Refusal) -> web.Response:
        now = self._clock()
        last = self._last.get(refusal.problem)
        cause = CAUSES.get(refusal.problem)
        line = f"refused a Slack request from {request.remote}: {refusal.problem} (HTTP {refusal.status})"
        if cause is not None:
            line += f": {cause}"
        if last is not None and now - last < REFUSAL_WARNING_EVERY_SECONDS:
            self._quiet[refusal.problem] = self._quiet.get(refusal.problem, 0) + 1
            log.debug("%s", line)
        else:
            quiet = self._quiet.pop(refusal.problem, 0)
            if quiet:
                line += f" ({quiet} more like it since the last warning)"
            self._last[refusal.problem] = now
            log.warning("%s", line)
        return web.Response(status=refusal.status, text=refusal.problem)


def parsed_bolt_request(
    raw_body: str, body: dict[str, Any], *, query: str, headers: dict[str, str | Sequence[str]]
) -> AsyncBoltRequest:
    """Bolt's request for a body the edge has parsed already (``check_request`` parses it exactly as
    Bolt does), so that it is not parsed a second time: Bolt is handed an empty body, then the raw
    one (its signature check reads it) and the parsed fields with the context Bolt derives from them.
    """
    bolt_request = AsyncBoltRequest(body="", query=query, headers=headers)
    bolt_request.raw_body = raw_body
    bolt_request.body = body
    bolt_request.context = build_async_context(AsyncBoltContext({}), body)
    return bolt_request


def build_web_app(
    bolt_app: AsyncApp,
    *,
    signing_secret: str,
    database_ready: Callable[[], Awaitable[bool]],
    slack_problem: Callable[[], str | None] = lambda: None,
    mount: Callable[[web.Application], None] | None = None,
    read_deadlines: ReadDeadlines | None = None,
    work: BackgroundWork | None = None,
) -> web.Application:
    """Slack's route, ``/healthz`` and ``/readyz`` (answered by ``database_ready`` and ``slack_problem``,
    the reason Slack refuses the bot token or ``None``); no ``/metrics``.

    Slack's route checks the signature on the raw bytes, then the body's shape
    (:func:`bot.slack.inbound.edge.check_request`), before Bolt parses anything: junk gets 401 or
    400 and one log line. ``mount`` adds the features' routes (the ingest API under ``/api/v1``,
    with bearer tokens, not Slack signatures). ``read_deadlines`` bounds how long a request's body
    may take to arrive. While ``work`` is full, a slash command that would run after its ack is told
    the bot is busy here, before Bolt: under a burst a refusal costs a fraction of a served command.
    """

    refused = RefusalLog().refused

    async def slack_events(request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.RequestPayloadError:  # a Content-Encoding its bytes do not follow
            return refused(request, Refusal(400, "body could not be decoded"))
        checked = check_request(signing_secret, raw, request.headers, now=time.time())
        if isinstance(checked, Refusal):
            return refused(request, checked)
        if work is not None and not work.has_room and needs_background_work(checked):
            work.refused(str(checked["command"]))
            return web.Response(body=BUSY_ACK, content_type="application/json")
        try:
            # Signed and of the right shape, so the strict decode succeeds.
            bolt_request = parsed_bolt_request(
                raw.decode("utf-8"), checked, query=request.query_string, headers=dict(request.headers)
            )
        except Exception as error:  # a shape edge.py does not know yet: still the client's fault
            return refused(request, Refusal(400, f"Bolt could not read the request ({type(error).__name__})"))
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        database_ok = await database_ready()
        slack = slack_problem()
        status = 200 if database_ok and slack is None else 503
        answer = {"database": "ok" if database_ok else "unavailable", "slack": slack or "ok"}
        return web.json_response(answer, status=status)

    middlewares = [_identity_bodies_only]
    if read_deadlines is not None:
        middlewares.insert(0, read_deadlines.middleware)
    app = web.Application(client_max_size=MAX_SLACK_BODY_BYTES, middlewares=middlewares)
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if mount is not None:
        mount(app)
    return app


@web.middleware
async def _identity_bodies_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A body with a ``Content-Encoding`` (gzip, deflate, br, ...) is refused with 415 before anything
    reads it: neither Slack nor the ingest API's callers compress requests, and the server does not
    decompress them (``auto_decompress=False``), so a bomb never unpacks."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity") or not request.body_exists:
        return await handler(request)
    log.warning("refused a request from %s: Content-Encoding %.20s (HTTP 415)", request.remote, encoding)
    if request.path.startswith(API_PREFIX + "/"):
        return problem(415, "Unsupported media type", "send the body uncompressed (no Content-Encoding)")
    return web.Response(status=415, text="compressed request bodies are not accepted")


def metrics_routes(metrics: Metrics) -> list[web.RouteDef]:
    """``GET /metrics``, for the main app or for an app of its own on ``METRICS_PORT``."""

    async def render_metrics(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return [web.get("/metrics", render_metrics)]


async def serve_metrics(metrics: Metrics, host: str, port: int) -> web.AppRunner:
    """Serves only ``/metrics`` on ``host:port``; the caller cleans the returned runner up."""
    app = web.Application()
    app.add_routes(metrics_routes(metrics))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
