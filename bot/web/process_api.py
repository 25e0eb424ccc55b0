"""The ingest API: other systems hand the bot bol.com process ids to watch (``/api/v1/process-status``).

Only bearer tokens of the callers in ``API_TOKENS`` open it (compared in constant time); with none
configured the routes do not exist. Failed authentications are counted, logged and throttled per
client address (``bot/web/auth_throttle.py``). Its OpenAPI document (``/api/v1/openapi.json``) is
public while the API is on: it holds no data, and callers and their tools read it before they have a
token. Bad input is an RFC 9457 ``application/problem+json`` answer naming the field, never a 5xx or
a traceback, and a rejected request stores nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.callers import ApiCaller, Scope
from bot.metrics import Metrics
from bot.services.process_batches import (
    FieldError,
    FollowRequest,
    InvalidRequest,
    Model,
    ProcessIdParameter,
    WatchRequest,
    parsed,
)
from bot.services.process_status import FollowCapReached, Followed, ProcessStatusService
from bot.storage.records import BatchView, FinishedMember
from bot.web.auth_throttle import AuthThrottle
from bot.web.openapi import PROBLEM_JSON, openapi_document

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
WATCHES_PATH = f"{API_PREFIX}/process-status/watches"
BATCHES_PATH = f"{API_PREFIX}/process-status/batches"
FOLLOWS_PATH = f"{API_PREFIX}/process-status/follows"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
MAX_BODY_BYTES = 1024 * 1024
MAX_LISTED_FAILURES = 1000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CallerHandler = Callable[[web.Request, ApiCaller], Awaitable[web.StreamResponse]]


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
    """The routes under ``/api/v1/process-status``; ``register`` adds them to the bot's web app.

    Each caller (``API_TOKENS``) has a name, the channels it may post in and a scope; it sees and
    cancels only what it asked for (its batches, its follows), and holds at most
    ``follows_per_caller`` follows.
    """

    def __init__(
        self,
        core: ProcessStatusService,
        *,
        callers: Sequence[ApiCaller],
        follows_per_caller: int,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._core = core
        self._callers = [c for c in callers if c.token.get_secret_value()]
        self._follows_per_caller = follows_per_caller
        self._metrics = metrics
        self._throttle = AuthThrottle(clock)

    @property
    def enabled(self) -> bool:
        return bool(self._callers)

    def register(self, app: web.Application) -> None:
        """Adds the routes, only when at least one token is configured (else they answer 404)."""
        if not self.enabled:
            return
        app.middlewares.append(_problems_for_unrouted)
        document = openapi_document(watches=WATCHES_PATH, batches=BATCHES_PATH, follows=FOLLOWS_PATH)
        app.router.add_get(OPENAPI_PATH, _openapi(document))
        app.router.add_post(WATCHES_PATH, self._guarded(Scope.WRITE, self._create_watches))
        app.router.add_delete(WATCHES_PATH + "/{process_id}", self._guarded(Scope.WRITE, self._delete_watch))
        app.router.add_get(BATCHES_PATH + "/{batch_id}", self._guarded(Scope.READ, self._get_batch))
        app.router.add_post(FOLLOWS_PATH, self._guarded(Scope.WRITE, self._create_follow))
        app.router.add_delete(
            FOLLOWS_PATH + "/{entity_id}/{event_type}", self._guarded(Scope.WRITE, self._delete_follow)
        )

    # -- auth and errors ---------------------------------------------------------------------------
    def _caller(self, request: web.Request) -> ApiCaller | None:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        given = presented.strip().encode()
        found = None
        for caller in self._callers:  # every token is compared: no early exit
            if hmac.compare_digest(given, caller.token.get_secret_value().encode()):
                found = caller
        return found

    def _guarded(self, scope: Scope, handler: CallerHandler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            address = request.remote or "unknown"
            retry_after = self._throttle.retry_after(address)
            if retry_after is not None:
                self._metrics.api_auth_failures.labels("throttled").inc()
                response = problem(429, "Too many failed authentications", f"try again in {retry_after} s")
                response.headers["Retry-After"] = str(retry_after)
                return response
            caller = self._caller(request)
            if caller is None:
                self._metrics.api_auth_failures.labels("unauthorized").inc()
                self._throttle.failed(address)
                response = problem(401, "Unauthorized")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
            if not caller.can(scope):
                return problem(403, "Forbidden", f"the token of {caller.name} may only {caller.scope.value}")
            try:
                return await handler(request, caller)
            except web.HTTPException:
                raise
            except Exception as error:
                log.warning("%s %s failed: %s", request.method, request.path, type(error).__name__)
                return problem(503, "Temporarily unavailable", "try again later")

        return guarded

    def _channel_refused(self, caller: ApiCaller, channel: str | None) -> web.Response | None:
        default = self._core.default_channel
        if caller.may_post_in(channel or default, default):
            return None
        allowed = ", ".join(caller.channels or (default,))
        return problem(
            403,
            "Channel not allowed",
            f"{caller.name} may post in {allowed} only",
            errors=[{"pointer": "/channel", "detail": f"one of {allowed}"}],
        )

    # -- routes ------------------------------------------------------------------------------------
    async def _create_watches(self, request: web.Request, caller: ApiCaller) -> web.StreamResponse:
        checked = await _checked_body(request, WatchRequest)
        if isinstance(checked, web.Response):
            return checked
        if (refused := self._channel_refused(caller, checked.channel)) is not None:
            return refused
        created = await self._core.ingest(checked, requested_by=caller.requested_by)
        location = f"{BATCHES_PATH}/{created.batch_id}"
        answer = {
            "batch_id": created.batch_id,
            "new": created.new,
            "created": created.created,
            "url": location,
        }
        status = 201 if created.created else 200
        return web.json_response(answer, status=status, headers={"Location": location})

    async def _delete_watch(self, request: web.Request, caller: ApiCaller) -> web.StreamResponse:
        process_id = request.match_info["process_id"]
        try:
            parsed(ProcessIdParameter, {"process_id": process_id})
        except InvalidRequest as bad:
            return invalid(bad.errors)
        if not await self._core.cancel(process_id, requested_by=caller.requested_by):
            return problem(404, "Not watched", f"process {process_id} is not being watched by {caller.name}")
        return web.Response(status=204)

    async def _get_batch(self, request: web.Request, caller: ApiCaller) -> web.StreamResponse:
        batch_id = request.match_info["batch_id"]
        view = None
        if len(batch_id) <= 32 and batch_id.isascii() and batch_id.isalnum():
            view = await self._core.batch(
                batch_id, requested_by=caller.requested_by, failures=MAX_LISTED_FAILURES
            )
        if view is None:
            return problem(404, "Unknown batch", f"{caller.name} has no batch {batch_id[:40]}")
        return web.json_response(batch_json(view))

    async def _create_follow(self, request: web.Request, caller: ApiCaller) -> web.StreamResponse:
        follow = await _checked_body(request, FollowRequest)
        if isinstance(follow, web.Response):
            return follow
        if (refused := self._channel_refused(caller, follow.channel)) is not None:
            return refused
        try:
            followed = await self._core.follow(
                follow, requested_by=caller.requested_by, cap=self._follows_per_caller
            )
        except FollowCapReached as full:
            whose = "in total" if full.total else f"for {caller.name}"
            return problem(409, "Too many follows", f"at most {full.cap} follows {whose}", cap=full.cap)
        return web.json_response(follow_json(followed), status=201 if followed.created else 200)

    async def _delete_follow(self, request: web.Request, caller: ApiCaller) -> web.StreamResponse:
        body = {
            "entity_id": request.match_info["entity_id"],
            "event_type": request.match_info["event_type"],
            "channel": request.query.get("channel"),
        }
        try:
            follow = parsed(FollowRequest, body)
        except InvalidRequest as bad:
            return invalid(bad.errors)
        channel = follow.channel or self._core.default_channel
        if not await self._core.unfollow(follow, [channel], requested_by=caller.requested_by):
            return problem(
                404, "Not followed", f"{caller.name} does not follow that entity and event type there"
            )
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


async def _checked_body(request: web.Request, model: type[Model]) -> Model | web.Response:
    """The body checked as ``model``, or the problem answer to send instead."""
    if request.content_type != "application/json":
        return problem(415, "Unsupported media type", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:  # also a compressed body that unpacks to more
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    except web.RequestPayloadError:  # e.g. Content-Encoding: gzip over bytes that are not gzip
        return invalid([FieldError("", "the body could not be read as its Content-Encoding says")])
    if len(raw) > MAX_BODY_BYTES:
        return problem(413, "Body too large", f"the body is at most {MAX_BODY_BYTES} bytes")
    try:
        return parsed(model, raw)
    except InvalidRequest as bad:
        return invalid(bad.errors)


def follow_json(followed: Followed) -> dict[str, Any]:
    return {
        "entity_id": followed.entity_id,
        "event_type": followed.event_type,
        "channel": followed.channel,
        "created": followed.created,
        "follows": followed.follows,
        "follows_cap": followed.cap,
        "follows_total_cap": followed.total_cap,
    }


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
