"""HTTP surface: Slack's request URL plus health, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.web.process_api import ProcessStatusApi

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
MAX_SLACK_BODY_BYTES = 1024 * 1024


def build_web_app(
    bolt_app: AsyncApp,
    *,
    database_ready: Callable[[], Awaitable[bool]],
    metrics: Metrics,
    process_api: ProcessStatusApi | None = None,
) -> web.Application:
    """``database_ready`` answers ``/readyz``; ``metrics`` is rendered at ``/metrics``.

    ``process_api`` adds the ingest API under ``/api/v1`` (bearer tokens, not Slack signatures).
    """

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await bolt_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        database_ok = await database_ready()
        status = 200 if database_ok else 503
        return web.json_response({"database": "ok" if database_ok else "unavailable"}, status=status)

    async def render_metrics(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application(client_max_size=MAX_SLACK_BODY_BYTES)
    app.router.add_post(SLACK_EVENTS_PATH, slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", render_metrics)
    if process_api is not None:
        process_api.register(app)
    return app
