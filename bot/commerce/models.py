"""Typed view of HCL Commerce approval_status records.

Invariant: an approval id is what :data:`APPROVAL_ID` fully matches; the Slack side and the client
check ids with :func:`is_approval_id` and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, IntEnum

APPROVAL_ID = re.compile(r"[0-9]{1,19}")
"""An approval (or order) id: 1 to 19 ASCII digits, as Commerce's BIGINT keys. Use ``fullmatch``."""


def is_approval_id(value: str) -> bool:
    """Whether ``value`` is an approval id; ``False`` for non-strings and a trailing newline too."""
    return isinstance(value, str) and APPROVAL_ID.fullmatch(value) is not None


class ApprovalState(IntEnum):
    """Commerce ``status`` field: 0 pending, 1 approved, 2 rejected."""

    PENDING = 0
    APPROVED = 1
    REJECTED = 2


class ApprovalKind(str, Enum):
    """What is being approved; maps to the Commerce ``q`` query name."""

    ORDER = "order"
    BUYER = "buyer"

    @property
    def query_name(self) -> str:
        return "orderApprovals" if self is ApprovalKind.ORDER else "buyerApprovals"


class Decision(str, Enum):
    """What an approver decides. The value is the word for doing it (audit rows, metrics, claims)."""

    APPROVE = "approve"
    REJECT = "reject"

    @property
    def action(self) -> str:
        """``approve`` / ``reject``."""
        return self.value

    @property
    def verb(self) -> str:
        """The word for having done it: ``approved`` / ``rejected``."""
        return "approved" if self is Decision.APPROVE else "rejected"

    @property
    def aprv_act(self) -> str:
        """Commerce's code for it in the ``updateApprovalStatus`` POST body: ``1`` / ``2``."""
        return "1" if self is Decision.APPROVE else "2"

    @classmethod
    def from_action(cls, action: str) -> Decision:
        """The decision named by ``action``; ``ValueError`` for any other word."""
        return cls(action)


@dataclass(frozen=True)
class Approval:
    id: str
    state: ApprovalState
    entity_id: str
    submitter_id: str
    flow_type_id: str | None = None
    submitter_name: str | None = None
    submit_time: datetime | None = None
    approve_time: datetime | None = None
    approver_id: str | None = None
    approver_group_id: str | None = None
    comment: str | None = None
    kind: ApprovalKind | None = None
    """Known when the record came from a kind-specific query; otherwise guessed (see ``guessed_kind``)."""

    @property
    def is_pending(self) -> bool:
        return self.state is ApprovalState.PENDING

    @property
    def guessed_kind(self) -> ApprovalKind:
        """Buyer approvals carry the buyer's member id as entity id (entity == submitter)."""
        if self.kind is not None:
            return self.kind
        return ApprovalKind.BUYER if self.entity_id == self.submitter_id else ApprovalKind.ORDER


@dataclass(frozen=True)
class ApprovalPage:
    items: list[Approval]
    total: int
    start: int = 0
    complete: bool = True


@dataclass(frozen=True)
class ApprovalListing:
    """Every approval a listing found; ``complete`` is False when it stopped before the end."""

    items: list[Approval]
    complete: bool


@dataclass(frozen=True)
class ApprovalQuery:
    """Filters for ``GET /store/{storeId}/approval_status?q=...``. ``kind=None`` means ``q=all``."""

    kind: ApprovalKind | None = None
    state: ApprovalState | None = ApprovalState.PENDING
    submitter_first_name: str | None = None
    submitter_last_name: str | None = None
    start_submit_time: date | None = None
    end_submit_time: date | None = None
    entity_id: str | None = None
    page_number: int = 1
    page_size: int = 20
    order_by: str | None = "D-submitTime"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderSummary:
    """What an order approval card shows about the order, from ``GET /store/{storeId}/order/{orderId}``.

    Every detail is optional: Commerce may leave any of them out and the card shows what is known.
    """

    order_id: str
    grand_total: Decimal | None = None
    currency: str | None = None
    """``grandTotalCurrency`` (ISO 4217, e.g. ``USD``)."""
    item_count: int | None = None
    """Number of order items (lines), not the summed quantities."""
    status: str | None = None
    """``orderStatus`` code, e.g. ``W`` (awaiting approval)."""
    organization_id: str | None = None
    """``orgUniqueID``: the buyer organization the order was placed for (routes match on it)."""
