"""What a Slack request must be before Bolt sees it: signed, parseable, and of the shape we read.

Everything here works on the raw bytes or on plain parsed values and never raises for client input:
each check returns ``None`` (fine) or a short fixed problem text (never an echo of the input, so it
is safe in a log line). The order is the order of trust: the signature is checked on the raw bytes
before a single byte is decoded, so unsigned junk costs one HMAC and nothing else.

``parse_body`` reads a body exactly as Bolt will (``slack_bolt.request.internals.parse_body``), so a
body it accepts is one Bolt can parse, and ``shape_problem`` checks the fields Bolt and our listeners
index into.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_CLOCK_SKEW_SECONDS = 300
"""Slack's advice: refuse requests signed more than five minutes away from now (replays)."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    """Why a request was turned away: the HTTP status and a short text for the log and the answer."""

    status: int
    problem: str


def signature_problem(
    signing_secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float
) -> str | None:
    """Checks Slack's v0 signature over the raw ``body``; ``None`` when it is good and fresh."""
    if timestamp is None or signature is None:
        return "no Slack signature"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed X-Slack-Request-Timestamp"
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return "stale X-Slack-Request-Timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed X-Slack-Signature"
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
        return "bad Slack signature"
    return None


@dataclass(frozen=True)
class Body:
    """A parsed body: its fields, and whether they came from a plain form (a slash command)."""

    fields: dict[str, Any]
    form: bool


def parse_body(raw: bytes, content_type: str | None) -> Body | str:
    """The body as Bolt will see it, or a problem text when it is not UTF-8, not JSON where JSON is
    due, too deep, or not an object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    if not text:
        return "body is empty"
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "body")
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text:  # Bolt's own test: a form that carries an interactivity payload
        return _json_object(form["payload"], "payload") if "payload" in form else "payload is missing"
    return Body(form, form=True)


def _json_object(text: str, what: str) -> Body | str:
    try:
        value = json.loads(text)
    except RecursionError:
        return f"{what} is nested too deeply"
    except ValueError:
        return f"{what} is not JSON"
    if not isinstance(value, dict):
        return f"{what} is not a JSON object"
    return Body(value, form=False)


# -- shapes --------------------------------------------------------------------------------------------


def shape_problem(parsed: Body) -> str | None:
    """What is wrong with the fields we and Bolt read; ``None`` when the shape is right.

    A plain form is a slash command (or Slack's ``ssl_check``); anything else is a JSON payload.
    """
    body = parsed.fields
    if parsed.form:
        return _command_problem(body)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "payload has no type"
    if kind in {"url_verification", "event_callback", "app_rate_limited"}:
        return _event_problem(body)
    return _interaction_problem(body, kind)


def _command_problem(form: dict[str, Any]) -> str | None:
    if form.get("ssl_check"):
        return None
    if not str(form.get("command", "")).startswith("/"):
        return "form is not a slash command"
    if not form.get("user_id"):
        return "slash command has no user_id"
    if not _is_url(form.get("response_url")):
        return "slash command has no response_url"
    return None


def _event_problem(body: dict[str, Any]) -> str | None:
    if body.get("type") != "event_callback":
        return None
    event = body.get("event")
    if not isinstance(event, dict):
        return "event is not an object"
    if not isinstance(event.get("type"), str):  # Bolt's matchers index event["type"]
        return "event has no type"
    if event["type"] == "workflow_step_execute" and not isinstance(event.get("callback_id"), str):
        return "workflow step event has no callback_id"
    return None


def _interaction_problem(body: dict[str, Any], kind: str) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return "payload has no user"
    for key in ("team", "enterprise", "container", "channel"):
        if body.get(key) is not None and not isinstance(body.get(key), dict):
            return f"{key} is not an object"
    if "response_url" in body and not _is_url(body["response_url"]):
        return "response_url is not a URL"
    if kind == "block_actions":
        return _actions_problem(body)
    if kind in {"view_submission", "view_closed"}:
        return _view_problem(body.get("view"))
    return None


def _actions_problem(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions is not a list of actions"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "an action has no action_id"
        if "value" in action and not isinstance(action["value"], str):
            return "an action's value is not text"
    container = body.get("container") or {}
    if container.get("type") == "message" and "response_url" not in body:
        return "a message action has no response_url"
    return None


def _view_problem(view: object) -> str | None:
    if not isinstance(view, dict):
        return "view is not an object"
    if not isinstance(view.get("type"), str):  # Bolt's matchers index view["type"]
        return "view has no type"
    if not isinstance(view.get("callback_id"), str):
        return "view has no callback_id"
    if "private_metadata" in view and not isinstance(view["private_metadata"], str):
        return "view.private_metadata is not text"
    state = view.get("state", {"values": {}})
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        return "view.state is not an object of values"
    for block in state.get("values", {}).values():
        if not isinstance(block, dict) or not all(isinstance(v, dict) for v in block.values()):
            return "view.state.values is not an object of objects"
    return None


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def needs_background_work(fields: Mapping[str, Any]) -> bool:
    """Whether a checked request is a slash command answered after its ack (any but ``help``): one a
    full bot refuses, so it can be refused before Bolt is asked."""
    command = fields.get("command")
    if not isinstance(command, str) or fields.get("ssl_check"):
        return False
    words = str(fields.get("text") or "").split(maxsplit=1)
    return bool(words) and words[0].lower() != "help"


def check_request(
    signing_secret: str, raw: bytes, headers: Mapping[str, str], *, now: float
) -> dict[str, Any] | Refusal:
    """The parsed body of a signed, well-formed Slack request, or why it was refused (401 or 400)."""
    unsigned = signature_problem(
        signing_secret,
        raw,
        headers.get("X-Slack-Request-Timestamp"),
        headers.get("X-Slack-Signature"),
        now=now,
    )
    if unsigned is not None:
        return Refusal(401, unsigned)
    content_type = (headers.get("Content-Type") or "").split(";")[0] or None  # as Bolt reads it
    parsed = parse_body(raw, content_type)
    if isinstance(parsed, str):
        return Refusal(400, parsed)
    problem = shape_problem(parsed)
    if problem is not None:
        return Refusal(400, problem)
    return parsed.fields
