"""A Slack Web API emulator (the subset the bot uses) plus ``response_url`` endpoints.

Point slack_sdk at ``api_url``; every API call is recorded with its parsed arguments (form-encoded,
JSON or query string, JSON-valued fields such as ``blocks`` and ``view`` decoded), and messages are
kept by ``(channel, ts)`` with their update history. Like Slack, API errors are HTTP 200 with
``{"ok": false, "error": ...}``; only rate limiting answers 429 with ``Retry-After``.

Messages keep the ``metadata`` they were posted with; ``conversations.history`` lists a channel's
top-level messages newest first, with ``oldest``/``latest`` (exclusive unless ``inclusive``), ``limit``
and ``cursor`` pagination and the metadata only with ``include_all_metadata``, as Slack documents;
``conversations.replies`` lists a thread the same way, its parent first, then the replies oldest first
(the parent leads the first page only; a ``ts`` that starts no thread is ``thread_not_found``).
``lose_answer_next`` stores a message and then hangs or drops the connection without answering.

``apps.connections.open`` (Socket Mode) takes an app-level ``xapp-`` token instead of the bot token
and hands out a URL of the ``SocketModeEmulator`` given to ``attach_socket_mode()``.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.base import EmulatorServer, RecordedRequest, Response
from bot.sandbox.block_kit import block_limit_errors
from bot.sandbox.slack_socket_mode import SocketModeEmulator

DEFAULT_BOT_TOKEN = "xoxb-test-bot-token-1234"  # noqa: S105 - the sandbox's own token
APP_TOKEN_PREFIX = "xapp-"  # noqa: S105 - a prefix, not a secret
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
"""Methods that take an app-level token (and only that) instead of the bot token."""
API_PREFIX = "/api/"
RESPONSE_URL_PREFIX = "/hooks/response/"
JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls")
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_TEXT_LENGTH = 40_000
DEFAULT_HISTORY_LIMIT = 100
MAX_HISTORY_LIMIT = 999


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]]
    user: str
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every version, oldest first: ``{"text": ..., "blocks": ...}`` (the current one is last)."""


class SlackApiFailure(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SlackEmulator(EmulatorServer):
    def __init__(
        self,
        token: str = DEFAULT_BOT_TOKEN,
        *,
        team: str = "Emulated Team",
        team_id: str = "T_EMU",
        bot_user_id: str = "UBOT",
        bot_id: str = "B_EMU",
    ) -> None:
        super().__init__()
        self.token = token
        self.team = team
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.usergroups: dict[str, list[str]] = {}
        """User-group id -> member ids, for ``usergroups.users.list``."""
        self.users: dict[str, dict[str, Any]] = {}
        """Optional ``users.info`` answers by user id; unknown ids get a synthesised user."""
        self.missing_channels: set[str] = {"C_MISSING"}
        """Channels that answer ``channel_not_found``."""
        self.non_member_channels: set[str] = set()
        """Channels the bot is not a member of: ``conversations.info`` says ``is_member: false``,
        posting and reading history there answer ``not_in_channel``."""
        self.channel_names: dict[str, str] = {}
        """Channel id -> name for ``conversations.info``; by default the id in lower case."""
        self.messages: dict[tuple[str, str], StoredMessage] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.opened_views: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.modals: dict[str, dict[str, Any]] = {}
        """Every modal opened or pushed, as it is now (by view id)."""
        self.updated_views: list[dict[str, Any]] = []
        """The App Home view last published for each user id."""
        self.app_token: str | None = None
        """If set, the only app-level token ``apps.connections.open`` accepts (else any ``xapp-``)."""
        self.socket_mode: SocketModeEmulator | None = None
        self.clock: Callable[[], float] | None = None
        """When set (seconds since the epoch), a message's ``ts`` is that time, as Slack's is (kept
        increasing); by default ``ts`` counts up from ``1700000000.000100``."""
        self._last_ts_micro = 0
        self._calls: list[SlackCall] = []
        self._lost_answers: list[tuple[str, str, list[int]]] = []
        self._responses: dict[int, list[dict[str, Any]]] = {}
        self._response_numbers = itertools.count(1)
        self._ts_numbers = itertools.count(1)
        self._view_numbers = itertools.count(1)
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "usergroups.users.list": self._usergroup_members,
            "users.info": self._users_info,
            "apps.connections.open": self._apps_connections_open,
            "chat.getPermalink": self._get_permalink,
            "views.publish": self._views_publish,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.info": self._conversation_info,
        }

    # -- addresses -------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Base URL for slack_sdk clients (``WebClient(base_url=...)``)."""
        return f"{self.url}{API_PREFIX}"

    def new_response_url(self) -> str:
        """A fresh ``response_url`` under this emulator; what is POSTed there shows in ``responses()``."""
        with self.lock:
            number = next(self._response_numbers)
            self._responses[number] = []
        return f"{self.url}{RESPONSE_URL_PREFIX}{number}"

    def attach_socket_mode(self, server: SocketModeEmulator, app_token: str | None = None) -> None:
        """Makes ``apps.connections.open`` hand out URLs of ``server`` (restricted to ``app_token``
        when given)."""
        with self.lock:
            self.socket_mode = server
            if app_token is not None:
                self.app_token = app_token

    # -- assertions ------------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Parsed arguments of every successful-or-not API call to ``method`` (rate-limited/injected
        failures never reach here), oldest first."""
        with self.lock:
            return [c.args for c in self._calls if method is None or c.method == method]

    def call_log(self, method: str | None = None) -> list[SlackCall]:
        with self.lock:
            return [c for c in self._calls if method is None or c.method == method]

    def message_ts(self, call: dict[str, Any]) -> str:
        """The ``ts`` the emulator gave the message posted by ``call`` (an item of ``calls()``)."""
        with self.lock:
            for recorded in self._calls:
                if recorded.args is call:
                    return str(recorded.response.get("ts") or recorded.response["message_ts"])
            for recorded in self._calls:
                if recorded.args == call and ("ts" in recorded.response or "message_ts" in recorded.response):
                    return str(recorded.response.get("ts") or recorded.response["message_ts"])
        raise KeyError("no such posted message")

    def message(self, channel: str, ts: str) -> StoredMessage:
        with self.lock:
            return self.messages[(channel, ts)]

    def channel_messages(self, channel: str) -> list[StoredMessage]:
        with self.lock:
            return [m for (c, _), m in sorted(self.messages.items(), key=lambda i: i[0][1]) if c == channel]

    def thread_replies(self, channel: str, thread_ts: str) -> list[StoredMessage]:
        """Messages posted in the thread of ``(channel, thread_ts)``, oldest first."""
        return [m for m in self.channel_messages(channel) if m.thread_ts == thread_ts]

    def top_level_messages(self, channel: str) -> list[StoredMessage]:
        return [m for m in self.channel_messages(channel) if m.thread_ts is None]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.home_views.get(user_id)

    def responses(self, url_or_number: str | int) -> list[dict[str, Any]]:
        """JSON bodies POSTed to a ``response_url`` (by URL, path or number)."""
        number = (
            url_or_number
            if isinstance(url_or_number, int)
            else int(urlsplit(str(url_or_number)).path.rstrip("/").rsplit("/", 1)[-1])
        )
        with self.lock:
            return list(self._responses.get(number, []))

    # -- fault injection -------------------------------------------------------------------------
    def rate_limit_next(self, method: str, count: int, retry_after: int = 1) -> None:
        """Answer the next ``count`` calls to ``method`` with HTTP 429 and ``Retry-After``."""
        self.fail_next(
            count,
            Response(
                status=429,
                body={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(retry_after)},
            ),
            when=lambda request: request.path == f"{API_PREFIX}{method}",
        )

    def lose_answer_next(self, method: str, count: int = 1, *, mode: str = "hang") -> None:
        """Carry out the next ``count`` calls to ``method`` (a message is stored), then answer nothing:
        ``mode="hang"`` holds the connection open until ``release_held()`` or ``stop()`` (the client
        times out), ``"drop"`` closes it at once (the client sees the connection go)."""
        assert mode in ("hang", "drop")
        with self.lock:
            self._lost_answers.append((method, mode, [count]))

    def _answer_lost(self, method: str) -> str | None:
        with self.lock:
            for lost_method, mode, remaining in self._lost_answers:
                if lost_method == method and remaining[0] > 0:
                    remaining[0] -= 1
                    return mode
        return None

    # -- HTTP --------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        if request.path.startswith(RESPONSE_URL_PREFIX):
            return self._response_url(request)
        if not request.path.startswith(API_PREFIX):
            return Response(status=404, body="not found", content_type="text/plain")
        method = request.path[len(API_PREFIX) :]
        try:
            args = self._parse_args(request)
        except ValueError:
            return Response(body={"ok": False, "error": "invalid_json"})
        token = self._token(request, args)
        if method not in self._methods:
            return Response(body={"ok": False, "error": "unknown_method"})
        if not token:
            return Response(body={"ok": False, "error": "not_authed"})
        if method in APP_TOKEN_METHODS:
            authorization = request.headers.get("authorization", "")
            if not authorization.lower().startswith("bearer "):
                # Slack only takes an app-level token from the Authorization header here.
                return Response(body={"ok": False, "error": "not_authed"})
            if not token.startswith(APP_TOKEN_PREFIX):
                return Response(body={"ok": False, "error": "not_allowed_token_type"})
            if self.app_token is not None and token != self.app_token:
                return Response(body={"ok": False, "error": "invalid_auth"})
        elif token != self.token:
            return Response(body={"ok": False, "error": "invalid_auth"})
        try:
            with self.lock:
                result = self._methods[method](args)
        except SlackApiFailure as failure:
            result = {"ok": False, "error": failure.error}
        with self.lock:
            self._calls.append(SlackCall(method, args, result))
        return Response(body=result, withhold=self._answer_lost(method))

    @staticmethod
    def _parse_args(request: RecordedRequest) -> dict[str, Any]:
        args: dict[str, Any] = {k: v[0] for k, v in request.query.items() if v}
        content_type = request.headers.get("content-type", "")
        if request.body:
            if "application/json" in content_type:
                body = json.loads(request.body)
                if not isinstance(body, dict):
                    raise ValueError("JSON body must be an object")
                args.update(body)
            else:
                args.update(
                    {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
                )
        for name in JSON_FIELDS:
            value = args.get(name)
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                args[name] = json.loads(value)
        args.pop("token", None)
        return args

    @staticmethod
    def _token(request: RecordedRequest, args: dict[str, Any]) -> str | None:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return authorization[len("bearer ") :].strip()
        token = request.q("token")
        if token:
            return token
        if request.body and "application/json" not in request.headers.get("content-type", ""):
            form = request.form()
            return form.get("token")
        return None

    def _response_url(self, request: RecordedRequest) -> Response:
        try:
            number = int(request.path[len(RESPONSE_URL_PREFIX) :].strip("/"))
        except ValueError:
            return Response(status=404, body="no_service", content_type="text/plain")
        if request.method != "POST":
            return Response(status=405, body="method_not_allowed", content_type="text/plain")
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return Response(status=400, body="invalid_payload", content_type="text/plain")
        with self.lock:
            if number not in self._responses:
                return Response(status=404, body="no_service", content_type="text/plain")
            self._responses[number].append(payload)
        return Response(body="ok", content_type="text/plain")

    # -- methods -----------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        micro = 1_700_000_000_000_000 + next(self._ts_numbers) * 100
        if self.clock is not None:
            micro = max(int(self.clock() * 1_000_000), self._last_ts_micro + 100)
        self._last_ts_micro = micro
        return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"

    def _channel(self, args: dict[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if not channel or channel in self.missing_channels:
            raise SlackApiFailure("channel_not_found")
        return channel

    @staticmethod
    def _content(args: dict[str, Any], *, required: bool) -> tuple[str | None, list[dict[str, Any]] | None]:
        text = args.get("text")
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(
                isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
            ):
                raise SlackApiFailure("invalid_blocks")
            if len(blocks) > MAX_MESSAGE_BLOCKS:
                raise SlackApiFailure("invalid_blocks")
            block_ids = [b["block_id"] for b in blocks if "block_id" in b]
            if len(block_ids) != len(set(block_ids)):
                raise SlackApiFailure("invalid_blocks")
        if text is not None and len(str(text)) > MAX_TEXT_LENGTH:
            raise SlackApiFailure("msg_too_long")
        if required and not text and not blocks and not args.get("attachments"):
            raise SlackApiFailure("no_text")
        return (None if text is None else str(text)), blocks

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://emulated.slack.com/",
            "team": self.team,
            "user": "approvals-bot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _message_json(self, message: StoredMessage) -> dict[str, Any]:
        return {
            "type": "message",
            "user": message.user,
            "bot_id": self.bot_id,
            "text": message.text or "",
            "blocks": message.blocks,
            "ts": message.ts,
        }

    @staticmethod
    def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
        metadata = args.get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise SlackApiFailure("invalid_metadata_format")
        if not isinstance(metadata.get("event_type"), str) or not isinstance(
            metadata.get("event_payload"), dict
        ):
            raise SlackApiFailure("invalid_metadata_schema")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _member_channel(self, args: dict[str, Any]) -> str:
        channel = self._channel(args)
        if channel in self.non_member_channels:
            raise SlackApiFailure("not_in_channel")
        return channel

    def _conversation_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.info``: the fields the bot reads (a private channel the bot is not in is
        ``channel_not_found`` to it, as in Slack)."""
        channel = self._channel(args)
        private = channel.startswith("G")
        if private and channel in self.non_member_channels:
            raise SlackApiFailure("channel_not_found")
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": self.channel_names.get(channel, channel.lower()),
                "is_channel": not private,
                "is_group": private,
                "is_private": private,
                "is_archived": False,
                "is_member": channel not in self.non_member_channels,
            },
        }

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        if channel.startswith(("U", "W")):  # a user id: Slack posts in the bot's DM with them
            channel = dm_channel(channel)
        text, blocks = self._content(args, required=True)
        metadata = self._metadata(args)
        ts = self._next_ts()
        message = StoredMessage(
            channel=channel,
            ts=ts,
            text=text,
            blocks=blocks or [],
            user=self.bot_user_id,
            thread_ts=args.get("thread_ts"),
            metadata=metadata,
        )
        message.history.append({"text": text, "blocks": blocks or []})
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": self._message_json(message)}

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args)
        inclusive = _flag(args.get("inclusive"))
        oldest = _ts_value(args.get("oldest"), default=0.0)
        latest = _ts_value(args.get("latest"), default=float("inf"))
        limit = _limit(args)
        cursor = str(args.get("cursor") or "")
        if cursor:
            latest = min(latest, _cursor_ts(cursor, "before:"))
            inclusive_latest = False
        else:
            inclusive_latest = inclusive
        top_level = [
            m
            for (c, _), m in self.messages.items()
            if c == channel and (m.thread_ts is None or m.thread_ts == m.ts)
        ]
        found = sorted(
            (
                m
                for m in top_level
                if (float(m.ts) > oldest or (inclusive and float(m.ts) == oldest))
                and (float(m.ts) < latest or (inclusive_latest and float(m.ts) == latest))
            ),
            key=lambda m: float(m.ts),
            reverse=True,
        )
        page, rest = found[:limit], found[limit:]
        with_metadata = _flag(args.get("include_all_metadata"))
        messages = [self._listed_json(message, with_metadata) for message in page]
        next_cursor = base64.b64encode(f"before:{page[-1].ts}".encode()).decode() if rest else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(rest),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.replies``: the parent first (on the first page), then the replies in the
        ``oldest``/``latest`` window oldest first; the parent counts toward ``limit``."""
        channel = self._channel(args)
        parent = self.messages.get((channel, str(args.get("ts") or "")))
        if parent is None or parent.thread_ts not in (None, parent.ts):
            raise SlackApiFailure("thread_not_found")
        inclusive = _flag(args.get("inclusive"))
        oldest = _ts_value(args.get("oldest"), default=0.0)
        latest = _ts_value(args.get("latest"), default=float("inf"))
        limit = _limit(args)
        cursor = str(args.get("cursor") or "")
        inclusive_oldest = inclusive
        if cursor:
            oldest = max(oldest, _cursor_ts(cursor, "after:"))
            inclusive_oldest = False
        found = sorted(
            (
                m
                for (c, _), m in self.messages.items()
                if c == channel
                and m.thread_ts == parent.ts
                and m.ts != parent.ts
                and (float(m.ts) > oldest or (inclusive_oldest and float(m.ts) == oldest))
                and (float(m.ts) < latest or (inclusive and float(m.ts) == latest))
            ),
            key=lambda m: float(m.ts),
        )
        listed = found if cursor else [parent, *found]
        page, rest = listed[:limit], listed[limit:]
        with_metadata = _flag(args.get("include_all_metadata"))
        messages = [{**self._listed_json(m, with_metadata), "thread_ts": parent.ts} for m in page]
        next_cursor = base64.b64encode(f"after:{page[-1].ts}".encode()).decode() if rest else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _listed_json(self, message: StoredMessage, with_metadata: bool) -> dict[str, Any]:
        """A message as the conversations methods list it: its metadata only when asked for."""
        item = self._message_json(message)
        if with_metadata and message.metadata is not None:
            item["metadata"] = message.metadata
        return item

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        message = self.messages.get((channel, ts))
        if message is None:
            raise SlackApiFailure("message_not_found")
        text, blocks = self._content(args, required=False)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        message.history.append({"text": message.text, "blocks": message.blocks})
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.text or "",
            "message": self._message_json(message),
        }

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        user = str(args.get("user") or "")
        if not user:
            raise SlackApiFailure("user_not_found")
        text, blocks = self._content(args, required=True)
        message_ts = self._next_ts()
        self.ephemerals.append(
            {"channel": channel, "user": user, "text": text, "blocks": blocks or [], "message_ts": message_ts}
        )
        return {"ok": True, "message_ts": message_ts}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._check_trigger(args)
        view = self._checked_modal(args)
        opened = {
            **view,
            "id": f"V{next(self._view_numbers):08d}",
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": "1700000000.emulated",
            "bot_id": self.bot_id,
        }
        self.opened_views.append(opened)
        self.modals[opened["id"]] = opened
        return {"ok": True, "view": opened}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """Like ``views.open``, on top of the modal the trigger came from."""
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """Replaces an open modal (by ``view_id``); a stale ``hash`` is refused like Slack's."""
        view_id = str(args.get("view_id") or "")
        if view_id not in self.modals:
            raise SlackApiFailure("not_found")
        view = self._checked_modal(args)
        current = self.modals[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackApiFailure("hash_conflict")
        updated = {**view, "id": view_id, "team_id": self.team_id, "state": {"values": {}}}
        updated["hash"] = f"1700000000.{next(self._view_numbers)}"
        updated["bot_id"] = self.bot_id
        self.modals[view_id] = updated
        self.updated_views.append(updated)
        return {"ok": True, "view": updated}

    @staticmethod
    def _check_trigger(args: dict[str, Any]) -> None:
        trigger_id = str(args.get("trigger_id") or "")
        if not trigger_id:
            raise SlackApiFailure("invalid_arguments")
        if trigger_id.startswith("expired"):
            raise SlackApiFailure("expired_trigger_id")

    @staticmethod
    def _checked_modal(args: dict[str, Any]) -> dict[str, Any]:
        """The modal ``args`` carry, within Block Kit's limits; ``invalid_arguments`` otherwise."""
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise SlackApiFailure("invalid_arguments")
        title = (view.get("title") or {}).get("text", "")
        blocks = view.get("blocks")
        if (
            not title
            or len(title) > 24
            or not isinstance(blocks, list)
            or len(blocks) > MAX_MODAL_BLOCKS
            or len(str(view.get("private_metadata") or "")) > 3000
            or len(str(view.get("callback_id") or "")) > 255
            or block_limit_errors(blocks)
        ):
            raise SlackApiFailure("invalid_arguments")
        return view

    def _get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("message_ts") or "")
        if (channel, ts) not in self.messages:
            raise SlackApiFailure("message_not_found")
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://emulated.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if not user_id:
            raise SlackApiFailure("invalid_arguments")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackApiFailure("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > MAX_MODAL_BLOCKS or block_limit_errors(blocks):
            raise SlackApiFailure("invalid_arguments")
        block_ids = [b["block_id"] for b in blocks if isinstance(b, dict) and "block_id" in b]
        if len(block_ids) != len(set(block_ids)) or len(json.dumps(view)) > 250_000:
            raise SlackApiFailure("invalid_arguments")
        published = {**view, "id": f"V{next(self._view_numbers):08d}", "team_id": self.team_id}
        self.home_views[user_id] = published
        return {"ok": True, "view": published}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode is None:
            # No Socket Mode server attached: like an app whose Socket Mode is turned off.
            raise SlackApiFailure("socket_mode_disabled")
        return {"ok": True, "url": self.socket_mode.new_url()}

    def _usergroup_members(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise SlackApiFailure("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            raise SlackApiFailure("user_not_found")
        user = self.users.get(user_id) or {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "real_name": f"User {user_id}",
            "is_bot": False,
            "deleted": False,
            "profile": {"display_name": user_id.lower(), "real_name": f"User {user_id}"},
        }
        return {"ok": True, "user": user}


def dm_channel(user_id: str) -> str:
    """The emulated id of the bot's direct-message channel with ``user_id`` (``U_X`` -> ``D_X``)."""
    return f"D{user_id[1:]}"


def _flag(value: Any) -> bool:
    """A boolean argument as Slack reads it (``true``/``1``; slack_sdk sends ``1``)."""
    return value is True or str(value).lower() in ("1", "true")


def _limit(args: dict[str, Any]) -> int:
    try:
        return min(int(args.get("limit") or DEFAULT_HISTORY_LIMIT), MAX_HISTORY_LIMIT)
    except ValueError:
        raise SlackApiFailure("invalid_limit") from None


def _cursor_ts(cursor: str, prefix: str) -> float:
    """The ``ts`` a page cursor of ours (``before:``/``after:`` a ts, base64) continues from."""
    try:
        decoded = base64.b64decode(cursor).decode()
        if not decoded.startswith(prefix):
            raise ValueError(decoded)
        return float(decoded.removeprefix(prefix))
    except ValueError:
        raise SlackApiFailure("invalid_cursor") from None


def _ts_value(value: Any, *, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        return float(str(value))
    except ValueError:
        raise SlackApiFailure("invalid_ts_oldest") from None
