"""The ingest API: other systems hand the bot bol.com process ids to watch (``/api/v1/process-status``).

Only bearer tokens from ``API_TOKENS`` open it (compared in constant time); with none configured the
routes do not exist. Its OpenAPI document (``/api/v1/openapi.json``) is public while the API is on: it
holds no data, and callers and their tools read it before they have a token. Bad input is an RFC 9457
``application/problem+json`` answer naming the field, never a 5xx or a traceback, and a rejected
request stores nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.bol.models import PROCESS_ID
from bot.services.process_batches import (
    BatchIngest,
    FieldError,
    InvalidBatchRequest,
    batch_request,
    follow_request,
)
from bot.storage.records import BatchView, FinishedMember
from bot.storage.store import Store
from bot.web.openapi import PROBLEM_JSON, openapi_document

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
WATCHES_PATH = f"{API_PREFIX}/process-status/watches"
BATCHES_PATH = f"{API_PREFIX}/process-status/batches"
FOLLOWS_PATH = f"{API_PREFIX}/process-status/follows"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
MAX_BODY_BYTES = 1024 * 1024
MAX_LISTED_FAILURES = 1000
API_REQUESTER = "api"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> web.Response:
    """An RFC 9457 problem answer."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_JSON)


def invalid(errors: Sequence[FieldError]) -> web.Response:
    first = errors[0]
    return problem(
        400,
        "Invalid request",
        f"{first.pointer or 'body'}: {first.detail}",
        errors=[{"pointer": e.pointer, "detail": e.detail} for e in errors],
    )


class ProcessStatusApi:
    """The routes under ``/api/v1/process-status``; ``register`` adds them to the bot's web app."""

    def __init__(
        self, ingest: BatchIngest, store: Store, *, tokens: Sequence[str], default_channel: str
    ) -> None:
        self._default_channel = default_channel
        self._ingest = ingest
        self._store = store
        self._tokens = [t.encode() for t in tokens if t]

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def register(self, app: web.Application) -> None:
        """Adds the routes, only when at least one token is configured (else they answer 404)."""
        if not self.enabled:
            return
        app.middlewares.append(_problems_for_unrouted)
        document = openapi_document(watches=WATCHES_PATH, batches=BATCHES_PATH, follows=FOLLOWS_PATH)
        app.router.add_get(OPENAPI_PATH, _openapi(document))
        app.router.add_post(WATCHES_PATH, self._guarded(self._create_watches))
        app.router.add_delete(WATCHES_PATH + "/{process_id}", self._guarded(self._delete_watch))
        app.router.add_get(BATCHES_PATH + "/{batch_id}", self._guarded(self._get_batch))
        app.router.add_post(FOLLOWS_PATH, self._guarded(self._create_follow))
        app.router.add_delete(FOLLOWS_PATH + "/{entity_id}/{event_type}", self._guarded(self._delete_follow))

    # -- auth and errors ---------------------------------------------------------------------------
    def _authorized(self, request: web.Request) -> bool:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return False
        given = presented.strip().encode()
        matches = [hmac.compare_digest(given, token) for token in self._tokens]  # no early exit
        return any(matches)

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self._authorized(request):
                response = problem(401, "Unauthorized")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            try:
                return await handler(request)
            except web.HTTPException:
                raise
            except Exception as error:
                log.warning("%s %s failed: %s", request.method, request.path, type(error).__name__)
                return problem(503, "Temporarily unavailable", "try again later")

        return guarded

    # -- routes ------------------------------------------------------------------------------------
    async def _create_watches(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            checked = batch_request(body)
        except InvalidBatchRequest as bad:
            return invalid(bad.errors)
        created = await self._ingest.watch(checked, requested_by=API_REQUESTER)
        location = f"{BATCHES_PATH}/{created.batch_id}"
        answer = {
            "batch_id": created.batch_id,
            "new": created.new,
            "created": created.created,
            "url": location,
        }
        status = 201 if created.created else 200
        return web.json_response(answer, status=status, headers={"Location": location})

    async def _delete_watch(self, request: web.Request) -> web.StreamResponse:
        process_id = request.match_info["process_id"]
        if not PROCESS_ID.fullmatch(process_id):
            return invalid(
                [FieldError("/process_id", "a process status id is 1 to 64 letters, digits, '-' or '_'")]
            )
        if not await self._store.remove_batch_process(process_id):
            return problem(404, "Not watched", f"process {process_id} is not being watched")
        return web.Response(status=204)

    async def _get_batch(self, request: web.Request) -> web.StreamResponse:
        batch_id = request.match_info["batch_id"]
        view = None
        if len(batch_id) <= 32 and batch_id.isalnum():
            view = await self._store.batch_view(batch_id, failures=MAX_LISTED_FAILURES)
        if view is None:
            return problem(404, "Unknown batch", f"there is no batch {batch_id[:40]}")
        return web.json_response(batch_json(view))

    async def _create_follow(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            follow = follow_request(body)
        except InvalidBatchRequest as bad:
            return invalid(bad.errors)
        channel = follow.channel or self._default_channel
        created = await self._store.add_follow(follow.entity_id, follow.event_type, channel, API_REQUESTER)
        answer = {"entity_id": follow.entity_id, "event_type": follow.event_type, "channel": channel}
        return web.json_response({**answer, "created": created}, status=201 if created else 200)

    async def _delete_follow(self, request: web.Request) -> web.StreamResponse:
        body = {
            "entity_id": request.match_info["entity_id"],
            "event_type": request.match_info["event_type"],
            "channel": request.query.get("channel"),
        }
        try:
            follow = follow_request(body)
        except InvalidBatchRequest as bad:
            return invalid(bad.errors)
        channel = follow.channel or self._default_channel
        if not await self._store.remove_follow(follow.entity_id, follow.event_type, channel):
            return problem(404, "Not followed", "that entity and event type are not followed in that channel")
        return web.Response(status=204)


def _openapi(document: dict[str, Any]) -> Handler:
    text = json.dumps(document, indent=2)

    async def openapi(_: web.Request) -> web.StreamResponse:
        return web.Response(text=text, content_type="application/json")

    return openapi


@web.middleware
async def _problems_for_unrouted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own 404 and 405 under ``/api/v1`` as problems too, like every other API answer."""
    if not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return problem(404, "Not found")
    except web.HTTPMethodNotAllowed as error:
        response = problem(405, "Method not allowed")
        response.headers["Allow"] = ", ".join(sorted(error.allowed_methods))
        return response


async def _json_body(request: web.Request) -> Any:
    """The decoded JSON body, or the problem answer to send instead."""
    if request.content_type != "application/json":
        return problem(415, "Unsupported media type", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    if len(raw) > MAX_BODY_BYTES:
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return invalid([FieldError("", "the body is not valid JSON")])


def batch_json(view: BatchView) -> dict[str, Any]:
    batch = view.batch
    return {
        "batch_id": batch.batch_id,
        "label": batch.label,
        "channel": batch.channel,
        "notify": batch.notify.value,
        "single_watch": batch.single_watch,
        "created_at": _iso(batch.created_at),
        "completed_at": _iso(batch.completed_at),
        "total": view.total,
        "finished": view.finished,
        "stuck": view.stuck,
        "counts": {state.value: count for state, count in view.counts.items()},
        "failures": [_failure_json(f) for f in view.failures],
    }


def _failure_json(member: FinishedMember) -> dict[str, Any]:
    return {
        "process_status_id": member.process_status_id,
        "state": member.state.value,
        "entity_id": member.entity_id,
        "event_type": member.event_type,
        "error_message": member.error_message,
        "finished_at": _iso(member.finished_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
