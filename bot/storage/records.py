"""Plain records the store reads and writes. No SQL here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class CardState(str, Enum):
    POSTING = "posting"  # claimed, chat.postMessage not yet confirmed
    PENDING = "pending"  # posted, approval still pending
    APPROVED = "approved"  # decided from Slack
    REJECTED = "rejected"  # decided from Slack
    DECIDED_ELSEWHERE = "decided_elsewhere"  # no longer pending, decided in Commerce


@dataclass(frozen=True)
class CardRecord:
    approval_id: str
    kind: str
    state: CardState
    channel: str | None = None
    ts: str | None = None
    posted_at: datetime | None = None
    updated_at: datetime | None = None


class DecisionState(str, Enum):
    IN_PROGRESS = "in_progress"
    DONE = "done"


@dataclass(frozen=True)
class DecisionClaim:
    approval_id: str
    slack_user_id: str
    action: str  # "approve" | "reject"
    state: DecisionState
    claimed_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    slack_user_id: str
    action: str  # approve | reject | refused | failed | ...
    approval_id: str | None
    outcome: str  # ok | refused | error | not_pending | already_in_progress
    comment: str | None = None
    detail: str | None = None
    at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Watch:
    process_status_id: str
    channel: str
    slack_user_id: str
    created_at: datetime
    last_state: str | None = None
    message_ts: str | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class OpenApproval:
    """A pending approval that was announced (its own card, or a line in a backlog summary), with its
    follow-ups so far. ``card_ts`` is its card; ``summary_ts`` the summary that announced it instead."""

    approval_id: str
    kind: str
    channel: str
    posted_at: datetime
    card_ts: str | None = None
    summary_ts: str | None = None
    reminders_sent: int = 0
    last_reminded_at: datetime | None = None
    escalated_at: datetime | None = None

    @property
    def thread_ts(self) -> str | None:
        """The message whose thread holds this approval's history: its card, else its summary."""
        return self.card_ts or self.summary_ts
