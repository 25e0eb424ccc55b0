"""The sandbox workspace's page: Slack's client and Slack's side of the app, for ``approvals-bot demo``.

The page shows what the Slack emulator holds (channels, threads, the App Home, a user's ephemeral
answers, an open modal) and turns a click (on a message, the App Home or a modal), a modal
submission or a slash command into the request Slack would send: signed with the app's signing
secret and POSTed to the bot's ``/slack/events``, with a ``response_url`` and a ``trigger_id`` of the
emulator's. So what the page shows is what the bot did.
Only the users of ``sample_data.USERS`` can act; anything else is answered 400, never 5xx.

Modals stack as in Slack: ``views.open`` starts a user's stack, ``views.push`` puts a view on top of
it (the reason asked on top of the Details window), and submitting or closing the top view goes back
to the one below, as it is now (``views.update`` keeps a view's id).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from html import escape
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiohttp import web

from bot.sandbox import sample_data
from bot.sandbox.page_html import Ephemeral, PageHtml
from bot.sandbox.signed_requests import SignedRequests
from bot.sandbox.slack import SlackEmulator

PAGE = files("bot.sandbox") / "page"
STATIC_TYPES = {"app.js": "text/javascript", "style.css": "text/css"}
HOME = "home"
MODAL = "modal"
"""The ``place`` of a click on a button inside the user's open modal."""
API_APP_ID = "A0DEMOAPP"


@dataclass
class Origin:
    """What a ``response_url`` answers: a user's action in a channel (on an ephemeral, or not)."""

    user: str
    channel: str
    ephemeral: int | None = None


@dataclass
class Seen:
    """How far the emulator's records have been read into the page's own."""

    ephemerals: int = 0
    views: int = 0
    """``views.open`` and ``views.push`` calls read."""
    responses: dict[int, int] = field(default_factory=dict)


class BadRequest(Exception):
    pass


class Workspace:
    """``start(host, port)`` serves the page; ``stop()`` ends it."""

    def __init__(self, slack: SlackEmulator, bot_url: str, signing_secret: str) -> None:
        self._slack = slack
        self._to_bot = SignedRequests(
            bot_url, signing_secret, team_id=slack.team_id, bot_user_id=slack.bot_user_id
        )
        self._names = {user.user_id: user.name for user in sample_data.USERS} | {
            slack.bot_user_id: "Approvals bot",
            **{channel: name for channel, name in sample_data.CHANNEL_NAMES.items()},
        }
        self._html = PageHtml(slack, self._names)
        self._ephemerals: list[Ephemeral] = []
        self._origins: dict[int, Origin] = {}
        self._triggers: dict[str, str] = {}
        self._modals: dict[str, list[dict[str, Any]]] = {}
        """Each user's stack of open modals, the one shown last."""
        self._seen = Seen()
        self._numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        """Serves the page; returns the bound port."""
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/healthz", self._healthz)  # the image's HEALTHCHECK asks $PORT
        app.router.add_get("/state", self._state)
        app.router.add_post("/act/click", self._click)
        app.router.add_post("/act/command", self._command)
        app.router.add_post("/act/submit", self._submit)
        app.router.add_post("/act/close", self._close)
        app.router.add_post("/act/home", self._home_opened)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self._to_bot.close()

    # -- the page ------------------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.Response:
        users = "".join(
            f'<option value="{escape(u.user_id)}">{escape(u.name)} ({escape(u.role)})</option>'
            for u in sample_data.USERS
        )
        channels = "".join(
            f'<li><a href="#" data-place="{escape(channel)}"># {escape(name)}</a></li>'
            for channel, name in sample_data.CHANNEL_NAMES.items()
        )
        template = (PAGE / "index.html").read_text(encoding="utf-8")
        body = template.replace("{{users}}", users).replace("{{channels}}", channels)
        return web.Response(text=body, content_type="text/html")

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_TYPES:
            raise web.HTTPNotFound()
        return web.Response(text=(PAGE / name).read_text(encoding="utf-8"), content_type=STATIC_TYPES[name])

    async def _state(self, request: web.Request) -> web.Response:
        try:
            user = self._user(request.query.get("user"))
            place = request.query.get("place") or sample_data.APPROVALS_CHANNEL
            if place != HOME:
                self._channel(place)
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        self._sync()
        mine = [e for e in self._ephemerals if e.user == user]
        main = self._html.home(user) if place == HOME else self._html.channel(place, mine)
        modal = self._top_modal(user)
        return web.json_response(
            {
                "main": main,
                "modal": self._html.modal(modal) if modal else "",
                "modal_id": modal["id"] if modal else "",
            }
        )

    # -- reading the emulator ------------------------------------------------------------------------
    def _sync(self) -> None:
        """Reads new ephemerals, ``response_url`` answers and opened modals from the emulator."""
        with self._slack.lock:
            posted = self._slack.ephemerals[self._seen.ephemerals :]
            self._seen.ephemerals += len(posted)
            opened = [c for c in self._slack.call_log() if c.method in ("views.open", "views.push")]
            opened = opened[self._seen.views :]
            self._seen.views += len(opened)
        for item in posted:
            self._add_ephemeral(str(item["user"]), str(item["channel"]), item)
        for number, origin in self._origins.items():
            answers = self._slack.responses(number)
            for answer in answers[self._seen.responses.get(number, 0) :]:
                self._answer(origin, answer)
            self._seen.responses[number] = len(answers)
        for call in opened:
            user = self._triggers.get(str(call.args.get("trigger_id") or ""))
            if user is not None and call.response.get("ok"):
                below = self._modals.get(user, []) if call.method == "views.push" else []
                self._modals[user] = [*below, call.response["view"]]
        with self._slack.lock:  # views.update keeps a modal's id: show each as it is now
            for user, stack in list(self._modals.items()):
                self._modals[user] = [self._slack.modals.get(str(v.get("id")), v) for v in stack]

    def _add_ephemeral(self, user: str, channel: str, message: dict[str, Any]) -> Ephemeral:
        blocks = message.get("blocks")
        ephemeral = Ephemeral(
            next(self._numbers),
            user,
            channel,
            str(message.get("text") or ""),
            blocks if isinstance(blocks, list) else [],
        )
        self._ephemerals.append(ephemeral)
        return ephemeral

    def _answer(self, origin: Origin, answer: dict[str, Any]) -> None:
        """A ``response_url`` answer: replaces or deletes the ephemeral it answers, else a new one."""
        target = next((e for e in self._ephemerals if e.number == origin.ephemeral), None)
        if target is not None and answer.get("delete_original"):
            target.deleted = True
        elif target is not None and answer.get("replace_original"):
            target.text = str(answer.get("text") or "")
            target.blocks = answer.get("blocks") or []
        elif answer.get("response_type") != "in_channel":
            self._add_ephemeral(origin.user, origin.channel, answer)

    # -- acting as Slack -----------------------------------------------------------------------------
    async def _click(self, request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            user = self._user(body.get("user"))
            action = {
                "type": "button",
                "action_id": _text(body, "action_id"),
                "block_id": _text(body, "block_id"),
                "value": _text(body, "value"),
                "text": {"type": "plain_text", "text": _text(body, "action_id"), "emoji": True},
                "action_ts": f"{time.time():.6f}",
            }
            payload = self._click_payload(user, body, action)
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        answer = await self._to_bot.payload(payload)
        return web.json_response({"status": answer.status_code})

    def _click_payload(self, user: str, body: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        base = self._interaction(user, "block_actions") | {"actions": [action]}
        if body.get("place") == MODAL:  # as Slack: the whole view, no channel, message or response_url
            shown = self._open_modal(user, body.get("view_id")) | {"state": {"values": {}}}
            return base | {"container": {"type": "view", "view_id": shown["id"]}, "view": shown}
        if body.get("place") == HOME:
            view = self._slack.home_view(user)
            if view is None:
                raise BadRequest("no App Home shown")
            state = body.get("state") or {}
            if not isinstance(state, dict):
                raise BadRequest("state must be an object")
            view = view | {"state": {"values": state}}
            return base | {"container": {"type": "view", "view_id": view["id"]}, "view": view}
        channel = self._channel(body.get("channel"))
        ephemeral_number = body.get("ephemeral")
        if ephemeral_number is not None:
            ephemeral = next(
                (e for e in self._ephemerals if e.number == ephemeral_number and e.user == user), None
            )
            if ephemeral is None:
                raise BadRequest("no such ephemeral message")
            container = {
                "type": "message",
                "message_ts": f"{time.time():.6f}",
                "channel_id": channel,
                "is_ephemeral": True,
            }
            return base | {
                "container": container,
                "channel": {"id": channel, "name": sample_data.CHANNEL_NAMES[channel]},
                "response_url": self._response_url(Origin(user, channel, ephemeral.number)),
            }
        ts = _text(body, "ts")
        try:
            message = self._slack.message(channel, ts)
        except KeyError:
            raise BadRequest("no such message") from None
        return base | {
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": sample_data.CHANNEL_NAMES[channel]},
            "message": {
                "type": "message",
                "ts": ts,
                "user": message.user,
                "bot_id": self._slack.bot_id,
                "text": message.text or "",
                "blocks": message.blocks,
                **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
            },
            "response_url": self._response_url(Origin(user, channel)),
        }

    async def _submit(self, request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            user = self._user(body.get("user"))
            view = self._open_modal(user, body.get("view_id"))
            values = body.get("values")
            if not isinstance(values, dict):
                raise BadRequest("values must be an object")
            state = {
                str(block_id): {
                    _text(entry, "action_id"): {"type": _text(entry, "type"), "value": _text(entry, "value")}
                }
                for block_id, entry in values.items()
                if isinstance(entry, dict)
            }
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        payload = self._interaction(user, "view_submission") | {
            "view": view | {"state": {"values": state}},
            "response_urls": [],
        }
        answer = await self._to_bot.payload(payload)
        errors = _view_errors(answer)
        if errors is None and answer.status_code == 200:
            self._close_top(user)
        return web.json_response({"errors": errors or {}, "status": answer.status_code})

    async def _close(self, request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            user = self._user(body.get("user"))
            self._open_modal(user, body.get("view_id"))
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        self._close_top(user)
        return web.json_response({"ok": True})

    async def _command(self, request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            user = self._user(body.get("user"))
            channel = self._channel(body.get("channel"))
            command, _, text = _text(body, "text").strip().partition(" ")
            if command not in ("/approvals", "/process-status"):
                raise BadRequest("the app has two commands: /approvals and /process-status")
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        fields = {
            "token": "legacy-verification-token",
            "team_id": self._slack.team_id,
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": sample_data.CHANNEL_NAMES[channel],
            "user_id": user,
            "user_name": self._names[user].split()[0].lower(),
            "command": command,
            "text": text.strip(),
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(Origin(user, channel)),
            "trigger_id": self._trigger(user),
        }
        answer = await self._to_bot.form(fields)
        acked = _json_answer(answer)
        if acked and (acked.get("text") or acked.get("blocks")):
            self._add_ephemeral(user, channel, acked)
        return web.json_response({"status": answer.status_code})

    async def _home_opened(self, request: web.Request) -> web.Response:
        try:
            body = await _json(request)
            user = self._user(body.get("user"))
        except BadRequest as bad:
            return web.json_response({"error": str(bad)}, status=400)
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user}",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        answer = await self._to_bot.event(event, API_APP_ID)
        return web.json_response({"status": answer.status_code})

    # -- helpers -------------------------------------------------------------------------------------
    def _interaction(self, user: str, kind: str) -> dict[str, Any]:
        name = self._names[user].split()[0].lower()
        return {
            "type": kind,
            "user": {"id": user, "username": name, "name": name, "team_id": self._slack.team_id},
            "api_app_id": API_APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self._trigger(user),
            "team": {"id": self._slack.team_id, "domain": "sandbox"},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
        }

    def _trigger(self, user: str) -> str:
        trigger = f"{int(time.time())}.{next(self._numbers)}.sandboxtrigger"
        self._triggers[trigger] = user
        return trigger

    def _response_url(self, origin: Origin) -> str:
        url = self._slack.new_response_url()
        self._origins[int(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])] = origin
        return url

    def _top_modal(self, user: str) -> dict[str, Any] | None:
        stack = self._modals.get(user)
        return stack[-1] if stack else None

    def _open_modal(self, user: str, view_id: object) -> dict[str, Any]:
        """The modal ``user`` sees, when it is ``view_id`` (a view below it takes no clicks)."""
        view = self._top_modal(user)
        if view is None or view.get("id") != view_id:
            raise BadRequest("that modal is not open")
        return view

    def _close_top(self, user: str) -> None:
        """The top modal is gone (submitted or closed): the one below it shows again, if any."""
        stack = self._modals.get(user)
        if stack:
            stack.pop()
        if not stack:
            self._modals.pop(user, None)

    @staticmethod
    def _user(value: object) -> str:
        if not any(user.user_id == value for user in sample_data.USERS):
            raise BadRequest("unknown user")
        return str(value)

    @staticmethod
    def _channel(value: object) -> str:
        if value not in sample_data.CHANNEL_NAMES:
            raise BadRequest("unknown channel")
        return str(value)


async def _json(request: web.Request) -> dict[str, Any]:
    # Only JSON: another site's page can send a form or text/plain here, but not application/json
    # without the browser asking this server first (CORS), which it never allows.
    if request.content_type != "application/json":
        raise BadRequest("the body must be JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


def _json_answer(answer: httpx.Response) -> dict[str, Any] | None:
    if "json" not in answer.headers.get("content-type", "") or not answer.content:
        return None
    try:
        decoded = answer.json()
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _view_errors(answer: httpx.Response) -> dict[str, str] | None:
    decoded = _json_answer(answer)
    if decoded and decoded.get("response_action") == "errors" and isinstance(decoded.get("errors"), dict):
        return {str(k): str(v) for k, v in decoded["errors"].items()}
    return None
