"""Slash-command text -> typed commands. Pure, and never raises on user input.

Anything malformed becomes ``ShowHelp(error=...)`` with a precise message; the listeners answer it
with the help text, the error first.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date

from bot.bol.models import EVENT_TYPES
from bot.commerce.models import ApprovalKind, ApprovalQuery, ApprovalState

APPROVAL_ID = re.compile(r"^\d{1,19}$")
PROCESS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENTITY_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_COMMENT_LENGTH = 200  # Commerce keeps 254 bytes, with "Rejected in Slack by @who (U…): " in front
MAX_NAME_LENGTH = 100
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
NEWEST_FIRST = "D-submitTime"
OLDEST_FIRST = "A-submitTime"
_ECHO_LIMIT = 40

_KINDS: dict[str, ApprovalKind | None] = {
    "all": None,
    "orders": ApprovalKind.ORDER,
    "order": ApprovalKind.ORDER,
    "buyers": ApprovalKind.BUYER,
    "buyer": ApprovalKind.BUYER,
}
_STATES: dict[str, ApprovalState | None] = {
    "pending": ApprovalState.PENDING,
    "approved": ApprovalState.APPROVED,
    "rejected": ApprovalState.REJECTED,
    "any": None,
    "all": None,
}
_SORTS = {"newest": NEWEST_FIRST, "oldest": OLDEST_FIRST}
_FILTERS = ("status", "first", "last", "from", "to", "page", "size", "sort")
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_FALLBACK_TOKEN = re.compile(r'(?:[^\s"]|"[^"]*"|")+')


# -- commands --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowHelp:
    error: str | None = None


@dataclass(frozen=True)
class ListApprovals:
    query: ApprovalQuery


@dataclass(frozen=True)
class ShowApproval:
    approval_id: str


@dataclass(frozen=True)
class ApproveApproval:
    approval_id: str
    comment: str | None = None


@dataclass(frozen=True)
class RejectApproval:
    approval_id: str
    reason: str


@dataclass(frozen=True)
class ShowProcess:
    process_status_id: str


@dataclass(frozen=True)
class WatchProcess:
    process_status_id: str


@dataclass(frozen=True)
class UnwatchProcess:
    process_status_id: str


@dataclass(frozen=True)
class ProcessesByEntity:
    entity_id: str
    event_type: str
    page: int = 1


ApprovalsCommand = ListApprovals | ShowApproval | ApproveApproval | RejectApproval | ShowHelp
ProcessStatusCommand = ShowProcess | WatchProcess | UnwatchProcess | ProcessesByEntity | ShowHelp


class _Invalid(Exception):
    """Internal: carries the user-facing message out of nested parsing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- helpers ---------------------------------------------------------------------------------------


def _echo(value: str) -> str:
    """A user value quoted for an error message, shortened so errors stay readable."""
    shown = value if len(value) <= _ECHO_LIMIT else value[: _ECHO_LIMIT - 1] + "…"
    return f"'{shown}'"


def _normalise(text: str) -> str:
    """Slack sends ``&``, ``<``, ``>`` as entities; smart quotes come from phones and Macs."""
    for entity, char in _SLACK_ENTITIES:
        text = text.replace(entity, char)
    return text.translate(_SMART_QUOTES).strip()


def _tokens(text: str) -> list[str]:
    """Shell-like words (``first="Anne Marie"`` is one word); unbalanced quotes don't fail."""
    try:
        return shlex.split(text)
    except ValueError:
        return [token.replace('"', "") for token in _FALLBACK_TOKEN.findall(text)]


def _split_first(text: str) -> tuple[str, str]:
    parts = text.split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def _approval_id(value: str) -> str:
    if not value.isdigit() or not value.isascii():
        raise _Invalid(f"Approval id must be a number, got {_echo(value)}")
    if not APPROVAL_ID.match(value):
        raise _Invalid(f"Approval id is too long (at most 19 digits), got {_echo(value)}")
    return value


def _process_id(value: str) -> str:
    if not PROCESS_ID.match(value):
        raise _Invalid(
            f"Process status id may only use letters, digits, '-' and '_' (at most 64), got {_echo(value)}"
        )
    return value


def _comment(text: str, what: str) -> str:
    text = _unquote(text)
    if len(text) > MAX_COMMENT_LENGTH:
        raise _Invalid(f"The {what} is too long ({len(text)} characters; at most {MAX_COMMENT_LENGTH})")
    return text


def _int(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not value.isascii() or not low <= int(value) <= high:
        raise _Invalid(f"{name} must be a whole number from {low} to {high}, got {_echo(value)}")
    return int(value)


def _date(name: str, value: str) -> date:
    if ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _Invalid(f"{name} must be a date like 2026-01-31, got {_echo(value)}")


# -- /approvals ------------------------------------------------------------------------------------


def parse_approvals_command(text: str) -> ApprovalsCommand:
    """Parses the text after ``/approvals``. Never raises."""
    try:
        return _parse_approvals(_normalise(text or ""))
    except _Invalid as invalid:
        return ShowHelp(error=invalid.message)


def _parse_approvals(text: str) -> ApprovalsCommand:
    word, rest = _split_first(text)
    sub = word.lower()
    if sub in ("", "help", "-h", "--help", "?"):
        return ShowHelp()
    if sub in ("list", "ls"):
        return ListApprovals(_parse_list(rest))
    if sub in ("show", "get"):
        target, extra = _split_first(rest)
        if not target:
            raise _Invalid("show needs an approval id, e.g. `/approvals show 12345`")
        if extra:
            raise _Invalid(f"show takes only an approval id; unexpected {_echo(extra)}")
        return ShowApproval(_approval_id(target))
    if sub == "approve":
        target, comment = _split_first(rest)
        if not target:
            raise _Invalid("approve needs an approval id, e.g. `/approvals approve 12345 looks good`")
        approval_id = _approval_id(target)
        return ApproveApproval(approval_id, _comment(comment, "comment") or None)
    if sub == "reject":
        target, reason = _split_first(rest)
        if not target:
            raise _Invalid(
                "reject needs an approval id and a reason, e.g. `/approvals reject 12345 over budget`"
            )
        approval_id = _approval_id(target)
        reason = _comment(reason, "reason")
        if not reason:
            raise _Invalid(f"reject needs a reason, e.g. `/approvals reject {approval_id} over budget`")
        return RejectApproval(approval_id, reason)
    raise _Invalid(f"Unknown subcommand {_echo(word)}; use list, show, approve, reject or help")


def _parse_list(text: str) -> ApprovalQuery:
    kind: ApprovalKind | None = None
    kind_given = False
    seen: dict[str, str] = {}
    for token in _tokens(text):
        if "=" not in token:
            lowered = token.lower()
            if lowered in _KINDS:
                if kind_given:
                    raise _Invalid(f"Give only one of orders, buyers or all; got {_echo(token)} as well")
                kind, kind_given = _KINDS[lowered], True
                continue
            raise _Invalid(
                f"Unknown filter {_echo(token)}; use orders|buyers|all "
                f"or one of {', '.join(_FILTERS)} (name=value)"
            )
        name, _, value = token.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name not in _FILTERS:
            raise _Invalid(f"Unknown filter {_echo(name)}; use one of {', '.join(_FILTERS)}")
        if name in seen:
            raise _Invalid(f"Filter {_echo(name)} is given twice")
        if not value:
            raise _Invalid(f"Filter {_echo(name)} needs a value, e.g. {name}={_EXAMPLES[name]}")
        seen[name] = value

    state: ApprovalState | None = ApprovalState.PENDING
    if "status" in seen:
        status = seen["status"].lower()
        if status not in _STATES:
            raise _Invalid(f"status must be pending, approved, rejected or any, got {_echo(seen['status'])}")
        state = _STATES[status]
    for name in ("first", "last"):
        if name in seen and len(seen[name]) > MAX_NAME_LENGTH:
            raise _Invalid(f"{name} is too long (at most {MAX_NAME_LENGTH} characters)")
    start = _date("from", seen["from"]) if "from" in seen else None
    end = _date("to", seen["to"]) if "to" in seen else None
    if start and end and start > end:
        raise _Invalid(f"from ({start.isoformat()}) must not be after to ({end.isoformat()})")
    page = _int("page", seen["page"], 1, MAX_PAGE) if "page" in seen else 1
    size = _int("size", seen["size"], 1, MAX_PAGE_SIZE) if "size" in seen else DEFAULT_PAGE_SIZE
    order_by = NEWEST_FIRST
    if "sort" in seen:
        sort = seen["sort"].lower()
        if sort not in _SORTS:
            raise _Invalid(f"sort must be newest or oldest, got {_echo(seen['sort'])}")
        order_by = _SORTS[sort]
    return ApprovalQuery(
        kind=kind,
        state=state,
        submitter_first_name=seen.get("first"),
        submitter_last_name=seen.get("last"),
        start_submit_time=start,
        end_submit_time=end,
        page_number=page,
        page_size=size,
        order_by=order_by,
    )


_EXAMPLES = {
    "status": "approved",
    "first": "Jane",
    "last": "Smith",
    "from": "2026-01-01",
    "to": "2026-01-31",
    "page": "2",
    "size": "25",
    "sort": "oldest",
}


def _quoted(value: str) -> str:
    return value if value and not re.search(r"[\s\"']", value) else '"' + value.replace('"', "") + '"'


def list_command_text(query: ApprovalQuery) -> str:
    """The ``/approvals list ...`` command that asks for ``query`` (parses back to the same query)."""
    parts = ["/approvals", "list"]
    parts.append({None: "all", ApprovalKind.ORDER: "orders", ApprovalKind.BUYER: "buyers"}[query.kind])
    if query.state is not ApprovalState.PENDING:
        parts.append(f"status={'any' if query.state is None else query.state.name.lower()}")
    if query.submitter_first_name:
        parts.append(f"first={_quoted(query.submitter_first_name)}")
    if query.submitter_last_name:
        parts.append(f"last={_quoted(query.submitter_last_name)}")
    if query.start_submit_time:
        parts.append(f"from={query.start_submit_time.isoformat()}")
    if query.end_submit_time:
        parts.append(f"to={query.end_submit_time.isoformat()}")
    if query.page_size != DEFAULT_PAGE_SIZE:
        parts.append(f"size={query.page_size}")
    if query.order_by == OLDEST_FIRST:
        parts.append("sort=oldest")
    if query.page_number != 1:
        parts.append(f"page={query.page_number}")
    return " ".join(parts)


# -- /process-status -------------------------------------------------------------------------------


def parse_process_status_command(text: str) -> ProcessStatusCommand:
    """Parses the text after ``/process-status``. Never raises."""
    try:
        return _parse_process_status(_normalise(text or ""))
    except _Invalid as invalid:
        return ShowHelp(error=invalid.message)


def _parse_process_status(text: str) -> ProcessStatusCommand:
    words = _tokens(text)
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        if len(words) > 1:
            raise _Invalid(f"help takes no arguments; unexpected {_echo(' '.join(words[1:]))}")
        return ShowHelp()
    sub = words[0].lower()
    if sub in ("watch", "unwatch", "show"):
        if len(words) < 2:
            raise _Invalid(f"{sub} needs a process status id, e.g. `/process-status {sub} 1234567`")
        if len(words) > 2:
            raise _Invalid(f"{sub} takes one process status id; unexpected {_echo(' '.join(words[2:]))}")
        process_id = _process_id(words[1])
        if sub == "watch":
            return WatchProcess(process_id)
        if sub == "unwatch":
            return UnwatchProcess(process_id)
        return ShowProcess(process_id)
    if sub == "entity":
        return _parse_entity(words[1:])
    if len(words) > 1:
        raise _Invalid(
            f"Unknown subcommand {_echo(words[0])}; use <id>, watch <id>, unwatch <id>, entity or help"
        )
    return ShowProcess(_process_id(words[0]))


def _parse_entity(args: list[str]) -> ProcessesByEntity:
    usage = (
        "entity needs an entity id and an event type, e.g. `/process-status entity 1234567 CREATE_SHIPMENT`"
    )
    if len(args) < 2:
        raise _Invalid(usage)
    if len(args) > 3:
        raise _Invalid(f"entity takes an entity id, an event type and a page; unexpected {_echo(args[3])}")
    entity_id, event_type = args[0], args[1]
    if not ENTITY_ID.match(entity_id):
        raise _Invalid(
            "Entity id may only use letters, digits, '.', ':', '-' and '_' (at most 100), "
            f"got {_echo(entity_id)}"
        )
    normalised = event_type.upper()
    if normalised not in EVENT_TYPES:
        examples = ", ".join(EVENT_TYPES[:5])
        raise _Invalid(
            f"Unknown event type {_echo(event_type)}; use one of {examples}, … "
            f"({len(EVENT_TYPES)} types, see `/process-status help`)"
        )
    page = _int("page", args[2], 1, MAX_PAGE) if len(args) == 3 else 1
    return ProcessesByEntity(entity_id, normalised, page)
