"""HTTP surface: Slack's request URL plus health, readiness and Prometheus metrics.

``/metrics`` is on the main port unless ``METRICS_PORT`` gives it a port (and an app) of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.slack.inbound.edge import Refusal, check_request
from bot.web.read_deadlines import ReadDeadlines

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
MAX_SLACK_BODY_BYTES = 1024 * 1024


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


def build_web_app(
    bolt_app: AsyncApp,
    *,
    signing_secret: str,
    database_ready: Callable[[], Awaitable[bool]],
    slack_problem: Callable[[], str | None] = lambda: None,
    mount: Callable[[web.Application], None] | None = None,
    read_deadlines: ReadDeadlines | None = None,
) -> web.Application:
    """Slack's route, ``/healthz`` and ``/readyz`` (answered by ``database_ready`` and ``slack_problem``,
    the reason Slack refuses the bot token or ``None``); no ``/metrics``.

    Slack's route checks the signature on the raw bytes, then the body's shape
    (:func:`bot.slack.inbound.edge.check_request`), before Bolt parses anything: junk gets 401 or
    400 and one log line. ``mount`` adds the features' routes (the ingest API under ``/api/v1``,
    with bearer tokens, not Slack signatures). ``read_deadlines`` bounds how long a request's body
    may take to arrive.
    """

    refused = RefusalLog().refused

    async def slack_events(request: web.Request) -> web.Response:
        raw = await request.read()
        checked = check_request(signing_secret, raw, request.headers, now=time.time())
        if isinstance(checked, Refusal):
            return refused(request, checked)
        try:
            # Signed and of the right shape, so the strict decode and Bolt's parse succeed.
            bolt_request = AsyncBoltRequest(
                body=raw.decode("utf-8"), query=request.query_string, headers=dict(request.headers)
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

    middlewares = [] if read_deadlines is None else [read_deadlines.middleware]
    app = web.Application(client_max_size=MAX_SLACK_BODY_BYTES, middlewares=middlewares)
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if mount is not None:
        mount(app)
    return app


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
