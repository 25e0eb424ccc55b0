"""``/approvals`` text -> an ``ApprovalsCommand``. Never raises: bad input is ``ShowHelp(error=...)``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commerce.models import ApprovalKind, ApprovalQuery, ApprovalState, Decision, is_approval_id
from bot.limits import characters_over, too_long_for_commerce
from bot.slack.inbound.parsing.common import (
    HELP_WORDS,
    MAX_PAGE,
    InvalidInput,
    ShowHelp,
    comment,
    echo,
    iso_date,
    normalise,
    split_first,
    tokens,
    whole_number,
)
from bot.slack.outbound.blocks.command_text import (
    DEFAULT_PAGE_SIZE,
    KIND_WORDS,
    NEWEST_FIRST,
    SORT_WORDS,
    STATE_WORDS,
)

MAX_NAME_LENGTH = 100
MAX_PAGE_SIZE = 100
FILTERS = ("status", "first", "last", "from", "to", "page", "size", "sort")
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
class ShowDigest:
    """``/approvals digest``: today's digest, to the asker only."""


@dataclass(frozen=True)
class ShowWhoami:
    """``/approvals whoami``: how the asker is linked to Commerce and what they may decide."""


ApprovalsCommand = (
    ListApprovals | ShowApproval | ApproveApproval | RejectApproval | ShowDigest | ShowWhoami | ShowHelp
)


@dataclass(frozen=True)
class Author:
    """Who typed the command: Commerce's comment names them, so they count against its byte budget."""

    user_id: str = ""
    user_name: str | None = None

    def fitting(self, decision: Decision, note: str, what: str) -> str:
        """``note`` when the Commerce comment holding it fits; ``InvalidInput`` saying how much shorter."""
        cut = characters_over(decision.verb, self.user_id, self.user_name, note)
        if cut:
            raise InvalidInput(too_long_for_commerce(what, cut))
        return note


def parse_approvals_command(
    text: str, *, user_id: str = "", user_name: str | None = None
) -> ApprovalsCommand:
    """Parses the text after ``/approvals`` typed by ``user_id`` (``user_name``). Never raises."""
    try:
        return _parse(normalise(text or ""), Author(user_id, user_name))
    except InvalidInput as invalid:
        return ShowHelp(error=invalid.message)


def _parse(text: str, author: Author) -> ApprovalsCommand:
    word, rest = split_first(text)
    sub = word.lower()
    if sub in ("", *HELP_WORDS):
        return ShowHelp()
    if sub in ("list", "ls"):
        return ListApprovals(_parse_list(rest))
    if sub in ("show", "get"):
        return _parse_show(rest)
    if sub == "approve":
        target, note = split_first(rest)
        if not target:
            raise InvalidInput("approve needs an approval id, e.g. `/approvals approve 12345 looks good`")
        approval_id = _approval_id(target)
        note = author.fitting(Decision.APPROVE, comment(note, "comment"), "comment")
        return ApproveApproval(approval_id, note or None)
    if sub == "reject":
        return _parse_reject(rest, author)
    if sub == "digest":
        if rest:
            raise InvalidInput(f"digest takes nothing more; unexpected {echo(rest)}")
        return ShowDigest()
    if sub == "whoami":
        if rest:
            raise InvalidInput(f"whoami takes nothing more; unexpected {echo(rest)}")
        return ShowWhoami()
    raise InvalidInput(
        f"Unknown subcommand {echo(word)}; use list, show, approve, reject, digest, whoami or help"
    )


def _parse_show(rest: str) -> ShowApproval:
    target, extra = split_first(rest)
    if not target:
        raise InvalidInput("show needs an approval id, e.g. `/approvals show 12345`")
    if extra:
        raise InvalidInput(f"show takes only an approval id; unexpected {echo(extra)}")
    return ShowApproval(_approval_id(target))


def _parse_reject(rest: str, author: Author) -> RejectApproval:
    target, reason = split_first(rest)
    if not target:
        raise InvalidInput(
            "reject needs an approval id and a reason, e.g. `/approvals reject 12345 over budget`"
        )
    approval_id = _approval_id(target)
    reason = comment(reason, "reason")
    if not reason:
        raise InvalidInput(f"reject needs a reason, e.g. `/approvals reject {approval_id} over budget`")
    return RejectApproval(approval_id, author.fitting(Decision.REJECT, reason, "reason"))


def _approval_id(value: str) -> str:
    if not value.isdigit() or not value.isascii():
        raise InvalidInput(f"Approval id must be a number, got {echo(value)}")
    if not is_approval_id(value):
        raise InvalidInput(f"Approval id is too long (at most 19 digits), got {echo(value)}")
    return value


def _filters(text: str) -> tuple[ApprovalKind | None, dict[str, str]]:
    """The kind word (if any) and the ``name=value`` filters, each given at most once."""
    kind: ApprovalKind | None = None
    kind_given = False
    seen: dict[str, str] = {}
    for token in tokens(text):
        if "=" not in token:
            lowered = token.lower()
            if lowered not in KIND_WORDS:
                raise InvalidInput(
                    f"Unknown filter {echo(token)}; use orders|buyers|all "
                    f"or one of {', '.join(FILTERS)} (name=value)"
                )
            if kind_given:
                raise InvalidInput(f"Give only one of orders, buyers or all; got {echo(token)} as well")
            kind, kind_given = KIND_WORDS[lowered], True
            continue
        name, _, value = token.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name not in FILTERS:
            raise InvalidInput(f"Unknown filter {echo(name)}; use one of {', '.join(FILTERS)}")
        if name in seen:
            raise InvalidInput(f"Filter {echo(name)} is given twice")
        if not value:
            raise InvalidInput(f"Filter {echo(name)} needs a value, e.g. {name}={_EXAMPLES[name]}")
        seen[name] = value
    return kind, seen


def _parse_list(text: str) -> ApprovalQuery:
    kind, seen = _filters(text)
    state: ApprovalState | None = ApprovalState.PENDING
    if "status" in seen:
        status = seen["status"].lower()
        if status not in STATE_WORDS:
            raise InvalidInput(
                f"status must be pending, approved, rejected or any, got {echo(seen['status'])}"
            )
        state = STATE_WORDS[status]
    for name in ("first", "last"):
        if name in seen and len(seen[name]) > MAX_NAME_LENGTH:
            raise InvalidInput(f"{name} is too long (at most {MAX_NAME_LENGTH} characters)")
    start = iso_date("from", seen["from"]) if "from" in seen else None
    end = iso_date("to", seen["to"]) if "to" in seen else None
    if start and end and start > end:
        raise InvalidInput(f"from ({start.isoformat()}) must not be after to ({end.isoformat()})")
    order_by = NEWEST_FIRST
    if "sort" in seen:
        sort = seen["sort"].lower()
        if sort not in SORT_WORDS:
            raise InvalidInput(f"sort must be newest or oldest, got {echo(seen['sort'])}")
        order_by = SORT_WORDS[sort]
    return ApprovalQuery(
        kind=kind,
        state=state,
        submitter_first_name=seen.get("first"),
        submitter_last_name=seen.get("last"),
        start_submit_time=start,
        end_submit_time=end,
        page_number=whole_number("page", seen["page"], 1, MAX_PAGE) if "page" in seen else 1,
        page_size=(
            whole_number("size", seen["size"], 1, MAX_PAGE_SIZE) if "size" in seen else DEFAULT_PAGE_SIZE
        ),
        order_by=order_by,
    )
