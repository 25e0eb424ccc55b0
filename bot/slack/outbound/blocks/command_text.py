"""How ``/approvals list`` is written: the words the parser reads and the builders print back.

``list_command_text(query)`` parses back to ``query``; keeping the vocabulary here, below both the
parser and the builders, is what makes that true.
"""

from __future__ import annotations

import re

from bot.commerce.models import ApprovalKind, ApprovalQuery, ApprovalState

DEFAULT_PAGE_SIZE = 10
NEWEST_FIRST = "D-submitTime"
OLDEST_FIRST = "A-submitTime"

KIND_WORDS: dict[str, ApprovalKind | None] = {
    "all": None,
    "orders": ApprovalKind.ORDER,
    "order": ApprovalKind.ORDER,
    "buyers": ApprovalKind.BUYER,
    "buyer": ApprovalKind.BUYER,
}
STATE_WORDS: dict[str, ApprovalState | None] = {
    "pending": ApprovalState.PENDING,
    "approved": ApprovalState.APPROVED,
    "rejected": ApprovalState.REJECTED,
    "any": None,
    "all": None,
}
SORT_WORDS = {"newest": NEWEST_FIRST, "oldest": OLDEST_FIRST}

_KIND_WORD = {None: "all", ApprovalKind.ORDER: "orders", ApprovalKind.BUYER: "buyers"}


def _quoted(value: str) -> str:
    return value if value and not re.search(r"[\s\"']", value) else '"' + value.replace('"', "") + '"'


def list_command_text(query: ApprovalQuery) -> str:
    """The ``/approvals list ...`` command that asks for ``query`` (parses back to the same query)."""
    parts = ["/approvals", "list", _KIND_WORD[query.kind]]
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
