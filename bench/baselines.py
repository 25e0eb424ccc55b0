"""Baseline servers, each a small real aiohttp server on loopback, for ``Remote``.

- ``bolt``: a bare Bolt app (``process_before_response=False``) whose ``/approvals`` listener acks with
  the help text, behind the same aiohttp adapter the bot uses;
- ``bolt_pbr``: the same with ``process_before_response=True``;
- ``aiohttp``: a bare aiohttp handler that checks the Slack signature and returns the same JSON;
- ``DecideHost``: on a signed click, exactly Commerce GET approval + POST decision + ``chat.update``;
  given a database URL, first one claim of the approval in it (one autocommitted INSERT ... ON
  CONFLICT DO NOTHING RETURNING): the one write replicas sharing a database need so that a click
  decided on one is not decided again on another;
- ``IngestHost``: ``POST /api/v1/process-status/watches`` as a bare handler: a bearer token compared,
  the JSON parsed, the ids inserted in one bulk INSERT in one transaction into a table of the same
  kind as ``batch_processes`` (same key, same columns, no other index), answered 201 with JSON. The
  INSERT is each database's quickest: executemany on SQLite, one array unnested on PostgreSQL (a
  multi-row VALUES of 5,000 parameters is parsed by psycopg in Python, about 45 ms a request).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
from typing import Any
from urllib.parse import parse_qs

import httpx
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import (
    Boolean,
    Column,
    MetaData,
    String,
    Table,
    bindparam,
    false,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.emulated import BOT_TOKEN
from bench.remote import LoopThread, ProcessFigures
from bot.slack.outbound.blocks.help import approvals_help
from bot.storage.engine import create_engine

SIGNING_SECRET = "bench-signing-secret"
EVENTS_PATH = "/slack/events"
WATCHES_PATH = "/api/v1/process-status/watches"
API_TOKEN = "bench-ingest-token-0123456789abcdef0123"

_ingest_tables = MetaData()
BARE_CLAIMS = Table(
    "bench_bare_claims",
    _ingest_tables,
    Column("approval_id", String(64), primary_key=True),
    Column("claimed_by", String(64), nullable=False),
)
BARE_WATCHES = Table(
    "bench_bare_watches",
    _ingest_tables,
    Column("batch_id", String(32), primary_key=True),
    Column("process_status_id", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("stuck", Boolean, nullable=False),
)


class ServerHost(ProcessFigures):
    """Serves ``build()``'s aiohttp app on 127.0.0.1 (an ephemeral port) from a loop thread."""

    def __init__(self) -> None:
        self._loop = LoopThread()
        self._runner: web.AppRunner | None = None
        self._port = self._loop.call(self._start())

    async def build(self) -> web.Application:
        raise NotImplementedError

    async def _start(self) -> int:
        self._runner = web.AppRunner(await self.build(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        return int(self._runner.addresses[0][1])

    def port(self) -> int:
        return self._port

    def profiled_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop.loop

    def close(self) -> None:
        if self._runner is not None:
            self._loop.call(self._runner.cleanup())
        self._loop.stop()


def help_body() -> dict[str, Any]:
    text, blocks = approvals_help()
    return {"text": text, "blocks": blocks, "response_type": "ephemeral"}


class BoltHost(ServerHost):
    """A bare Bolt app answering ``/approvals`` with the help text in the ack."""

    def __init__(self, slack_api_url: str, *, process_before_response: bool) -> None:
        self._slack_api_url = slack_api_url
        self._process_before_response = process_before_response
        super().__init__()

    async def build(self) -> web.Application:
        bolt = AsyncApp(
            token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            process_before_response=self._process_before_response,
        )
        bolt.client.base_url = self._slack_api_url
        body = help_body()

        async def approvals(ack: Any) -> None:
            await ack(text=body["text"], blocks=body["blocks"], response_type="ephemeral")

        bolt.command("/approvals")(approvals)

        async def slack_events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        app = web.Application()
        app.router.add_post(EVENTS_PATH, slack_events)
        return app


class AiohttpHost(ServerHost):
    """A bare aiohttp handler: checks the signature, reads the form, returns the help JSON."""

    async def build(self) -> web.Application:
        verifier = SignatureVerifier(SIGNING_SECRET)
        body = help_body()

        async def slack_events(request: web.Request) -> web.Response:
            raw = await request.read()
            if not verifier.is_valid_request(raw, dict(request.headers)):
                return web.Response(status=401)
            form = parse_qs(raw.decode())
            if form.get("command") != ["/approvals"]:
                return web.Response(status=404)
            return web.json_response(body)

        app = web.Application()
        app.router.add_post(EVENTS_PATH, slack_events)
        return app


class DecideHost(ServerHost):
    """The least a click can do: ack, then GET the approval, POST the decision, ``chat.update``; with
    ``claim_database_url``, the claim in that database before them (a click already claimed stops)."""

    def __init__(self, addresses: dict[str, str], claim_database_url: str | None = None) -> None:
        self._addresses = addresses
        self._claim_database_url = claim_database_url
        self._claims: AsyncEngine | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__()

    async def build(self) -> web.Application:
        a = self._addresses
        if self._claim_database_url is not None:
            self._claims = create_engine(self._claim_database_url)
            async with self._claims.begin() as conn:
                await conn.run_sync(_ingest_tables.create_all)
            self._claims = self._claims.execution_options(isolation_level="AUTOCOMMIT")
        self._commerce = httpx.AsyncClient(
            base_url=f"{a['commerce_base_url']}/store/{a['commerce_store_id']}/", timeout=10
        )
        login = await self._commerce.post(
            "loginidentity",
            json={"logonId": a["commerce_logon_id"], "logonPassword": a["commerce_logon_password"]},
        )
        tokens = login.json()
        self._commerce.headers.update(
            {"WCToken": tokens["WCToken"], "WCTrustedToken": tokens["WCTrustedToken"]}
        )
        self._slack = httpx.AsyncClient(
            base_url=a["slack_api_url"], headers={"Authorization": f"Bearer {BOT_TOKEN}"}, timeout=10
        )
        verifier = SignatureVerifier(SIGNING_SECRET)

        async def slack_events(request: web.Request) -> web.Response:
            raw = await request.read()
            if not verifier.is_valid_request(raw, dict(request.headers)):
                return web.Response(status=401)
            payload = json.loads(parse_qs(raw.decode())["payload"][0])
            container = payload["container"]
            task = asyncio.create_task(
                self._decide(payload["actions"][0]["value"], container["channel_id"], container["message_ts"])
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return web.Response()

        app = web.Application()
        app.router.add_post(EVENTS_PATH, slack_events)
        return app

    async def _decide(self, approval_id: str, channel: str, ts: str) -> None:
        if self._claims is not None and not await self._claim(approval_id):
            return
        path = f"approval_status/{approval_id}"
        approval = (await self._commerce.get(path)).json()["resultList"][0]
        if approval["status"] != "0":
            return
        await self._commerce.post(
            path,
            params={"action": "updateApprovalStatus"},
            json={"aprv_act": "1", "comments": "Approved in Slack"},
        )
        text = f"Approval {approval_id} approved."
        await self._slack.post(
            "chat.update",
            json={"channel": channel, "ts": ts, "text": text, "blocks": [_section(text)]},
        )

    async def _claim(self, approval_id: str) -> bool:
        assert self._claims is not None
        claim = (
            postgresql_insert(BARE_CLAIMS)
            .values(approval_id=approval_id, claimed_by="U_BENCH")
            .on_conflict_do_nothing()
            .returning(BARE_CLAIMS.c.approval_id)
        )
        async with self._claims.connect() as conn:
            return (await conn.execute(claim)).first() is not None

    def close(self) -> None:
        async def close_clients() -> None:
            await self._commerce.aclose()
            await self._slack.aclose()
            if self._claims is not None:
                await self._claims.dispose()

        self._loop.call(close_clients())
        super().close()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class IngestHost(ServerHost):
    """The least ``POST /watches`` can do: token, JSON, one bulk INSERT into ``database_url``."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        super().__init__()

    async def build(self) -> web.Application:
        engine = create_engine(self._database_url)
        async with engine.begin() as conn:
            await conn.run_sync(_ingest_tables.create_all)
        expected = f"Bearer {API_TOKEN}".encode()
        on_postgresql = engine.dialect.name == "postgresql"
        c = BARE_WATCHES.c
        unnested = insert(BARE_WATCHES).from_select(
            ["batch_id", "process_status_id", "channel", "state", "stuck"],
            select(
                bindparam("batch_id", type_=c.batch_id.type),
                func.unnest(bindparam("ids", type_=ARRAY(c.process_status_id.type))).column_valued(),
                bindparam("channel", type_=c.channel.type),
                literal("PENDING", type_=c.state.type),
                false(),
            ),
        )

        async def watches(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
                return web.Response(status=401)
            body = json.loads(await request.read())
            ids = body["ids"]
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                return web.Response(status=400)
            channel = body.get("channel") or "C_BENCH"
            batch_id = uuid.uuid4().hex
            rows = [
                {
                    "batch_id": batch_id,
                    "process_status_id": i,
                    "channel": channel,
                    "state": "PENDING",
                    "stuck": False,
                }
                for i in dict.fromkeys(ids)
            ]
            async with engine.begin() as conn:
                if on_postgresql:
                    await conn.execute(
                        unnested, {"batch_id": batch_id, "channel": channel, "ids": list(dict.fromkeys(ids))}
                    )
                else:
                    await conn.execute(insert(BARE_WATCHES), rows)
            return web.json_response({"batch_id": batch_id, "new": len(ids), "created": True}, status=201)

        async def dispose(_: web.Application) -> None:
            await engine.dispose()

        app = web.Application()
        app.router.add_post(WATCHES_PATH, watches)
        app.on_cleanup.append(dispose)
        return app
