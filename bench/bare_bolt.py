"""A bare Bolt app as a process of its own: the start-up and idle-RSS baseline (``bench/startup.py``).

    python bench/bare_bolt.py PORT SLACK_API_URL [--with-dependencies]

Started the way the bot is (a fresh interpreter that serves HTTP): Bolt with
``process_before_response=True`` behind aiohttp, a ``/approvals`` listener that acks with a short text,
and ``/healthz``. It imports only what such an app needs, so its start-up is the least a Bolt app costs.

``--with-dependencies`` first imports the libraries the bot is specified to be built on and does not
use them: the async SQLAlchemy engine with the SQLite driver, pydantic-settings and httpx. That is
the floor under any bot made of them: what it costs before one line of the bot's own code runs.
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-signing-secret"


def build(slack_api_url: str) -> web.Application:
    bolt = AsyncApp(token=TOKEN, signing_secret=SIGNING_SECRET, process_before_response=True)
    bolt.client.base_url = slack_api_url

    async def approvals(ack: Any) -> None:
        await ack(text="How to use /approvals", response_type="ephemeral")

    bolt.command("/approvals")(approvals)

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app


def import_dependencies() -> None:
    import aiosqlite  # noqa: F401
    import httpx  # noqa: F401
    import pydantic_settings  # noqa: F401
    import sqlalchemy.ext.asyncio  # noqa: F401


if __name__ == "__main__":
    if "--with-dependencies" in sys.argv[3:]:
        import_dependencies()
    web.run_app(build(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
