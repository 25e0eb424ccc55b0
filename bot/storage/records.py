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
    submitter_name: str | None = None
    """The name the card showed when it was posted (a later re-read of the approval may lack it)."""
    order_details: str | None = None
    """The order's details the card shows, as ``bot.services.order_details`` encodes them (opaque to
    the store); ``None`` when it shows none."""
    registrant: str | None = None
    """Who registered, as a buyer approval's card shows them (``bot.commerce.persons.encoded``, opaque
    to the store); ``None`` when it shows nobody."""
    organization_id: str | None = None
    """The buyer organization the card shows (its registrant's or its order's): what a decision's
    audit row names."""


class DecisionState(str, Enum):
    IN_PROGRESS = "in_progress"  # claimed; Commerce has not been asked to decide yet, or is being asked
    UNKNOWN = "unknown"  # the decision was sent and no answer came back: Commerce may or may not have it
    DONE = "done"  # Commerce has the decision


@dataclass(frozen=True)
class DecisionClaim:
    approval_id: str
    slack_user_id: str
    action: str  # "approve" | "reject"
    state: DecisionState
    claimed_at: datetime
    owner: str | None = None
    """The bot process (``bot_instances``) that holds the claim; ``None`` on claims from before owners."""


@dataclass(frozen=True)
class RecordedDecision:
    """A decision Commerce has, as the store recorded it: ``first`` is False when another round had
    already recorded it (a click and the close round crediting the same decision): then nothing was
    written, and ``card`` is the card as that round left it."""

    card: CardRecord | None
    first: bool = True


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
    slack_user_name: str | None = None
    commerce_user_id: str | None = None
    """The Commerce user the bot acted as (``forUserId``); ``None``: the bot's service account."""
    commerce_logon_id: str | None = None
    organization_id: str | None = None
    """The buyer organization of the approval, when the bot knew it (decisions only)."""


@dataclass(frozen=True)
class OrganizationHistory:
    """The decisions the bot recorded on one buyer organization's approvals in the last ``days``."""

    days: int
    approved: int = 0
    rejected: int = 0
    last_rejection_at: datetime | None = None
    last_rejection_reason: str | None = None


@dataclass(frozen=True)
class Vote:
    """A two-person-rule vote: the Slack user who cast it and the Commerce user they were linked to
    when they cast it (``None``: unlinked then)."""

    slack_user_id: str
    commerce_user_id: str | None = None


@dataclass(frozen=True)
class IdentityLink:
    """A Slack user linked to a Commerce user: the logon id and the member id Commerce uses as
    ``submitterId``/``approverId``."""

    slack_user_id: str
    commerce_logon_id: str
    commerce_user_id: str
    linked_by: str = "cli"
    """Who made the link: ``cli`` (an operator) or ``email`` (matched by e-mail address)."""
    linked_at: datetime | None = None


@dataclass(frozen=True)
class ClaimedDecision:
    """What taking a decision's claim found, read in the claim's own transaction."""

    in_the_way: DecisionClaim | None
    """``None``: the caller holds the claim now; else the claim that holds it."""
    card: CardRecord | None
    """The approval's card, if it has one."""
    link: IdentityLink | None
    """The claimant's identity link, if they are linked."""


@dataclass(frozen=True)
class Watch:
    process_status_id: str
    channel: str
    slack_user_id: str
    created_at: datetime
    last_state: str | None = None
    message_ts: str | None = None
    finished_at: datetime | None = None
    batch_id: str | None = None
    """The watch's batch of one: what its announcement's metadata names."""


# -- process batches -------------------------------------------------------------------------------


class Notify(str, Enum):
    """Which finished processes of a batch get a reply in the card's thread."""

    FAILURES = "failures"  # FAILURE and TIMEOUT
    ALL = "all"  # every final state, purged included


class MemberState(str, Enum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"
    PURGED = "PURGED"  # bol.com no longer knows the id

    @property
    def failed(self) -> bool:
        return self in (MemberState.FAILURE, MemberState.TIMEOUT)


@dataclass(frozen=True)
class BatchCreated:
    """``created`` is False for a repeated request (same ids, same channel) or when nothing was new."""

    batch_id: str
    new: int
    created: bool


@dataclass(frozen=True)
class BatchMember:
    """An active (unfinished) process of a batch."""

    batch_id: str
    process_status_id: str
    channel: str
    stuck: bool


@dataclass(frozen=True, slots=True)
class ActiveProcess:
    """An unfinished process a process-status poll asks about: of a single watch (``watch``) or of a
    batch (``member``), exactly one of them; ``key`` orders them (process id, then batch).

    A round reads one for every watched process, and makes a ``Watch`` only for those that ended: so
    this holds its row's values, and ``watch`` and ``member`` are made when asked for."""

    batch_id: str
    process_status_id: str
    channel: str
    single_watch: bool
    stuck: bool
    requested_by: str
    created_at: datetime
    message_ts: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.process_status_id, self.batch_id

    @property
    def watch(self) -> Watch | None:
        if not self.single_watch:
            return None
        return Watch(
            process_status_id=self.process_status_id,
            channel=self.channel,
            slack_user_id=self.requested_by,
            created_at=self.created_at,
            message_ts=self.message_ts,
            batch_id=self.batch_id,
        )

    @property
    def member(self) -> BatchMember | None:
        if self.single_watch:
            return None
        return BatchMember(self.batch_id, self.process_status_id, self.channel, self.stuck)


@dataclass(frozen=True)
class WatchEnding:
    """A single watch whose process bol.com reports ended, as a round finishes it (``state``: a
    ``MemberState`` value, or ``PURGED``)."""

    batch_id: str
    process_status_id: str
    channel: str
    state: str
    entity_id: str | None = None
    event_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class MemberOutcome:
    """A final state bol.com reported for a process."""

    process_status_id: str
    state: MemberState
    entity_id: str | None = None
    event_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class FinishedMember:
    process_status_id: str
    state: MemberState
    entity_id: str | None
    event_type: str | None
    error_message: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class Batch:
    batch_id: str
    channel: str
    label: str | None
    notify: Notify
    requested_by: str
    created_at: datetime
    card_ts: str | None
    changes: int
    shown_changes: int
    completed_at: datetime | None
    single_watch: bool = False
    """A batch of one from ``/process-status watch``: one message when it finishes, no card."""


@dataclass(frozen=True)
class BatchView:
    """A batch with its counts per state and its first failures: what its card shows."""

    batch: Batch
    counts: dict[MemberState, int]
    stuck: int
    failures: list[FinishedMember]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def finished(self) -> int:
        return self.total - self.counts.get(MemberState.PENDING, 0)

    @property
    def failed(self) -> int:
        return self.counts.get(MemberState.FAILURE, 0) + self.counts.get(MemberState.TIMEOUT, 0)


@dataclass(frozen=True)
class Follow:
    """Processes of one entity and event type, announced in ``channel`` as they reach a final state."""

    entity_id: str
    event_type: str
    channel: str
    requested_by: str
    created_at: datetime
    baselined: bool = False
    """False until the first listing: what had already finished before the follow is not announced."""


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


# -- announcements being posted --------------------------------------------------------------------


class PostState(str, Enum):
    POSTING = "posting"  # chat.postMessage sent or about to be, by ``owner``
    UNKNOWN = "unknown"  # sent, no answer: maybe posted; looked up in the channel before posting again


@dataclass(frozen=True)
class PostAttempt:
    """One announcement on its way to Slack (``kind`` is an ``Announced`` value)."""

    kind: str
    subject_id: str
    channel: str
    owner: str
    state: PostState
    started_at: datetime
    thread_ts: str | None = None
    """The thread the announcement is a reply in (a batch card's ``ts``); ``None`` for a top-level one."""


@dataclass(frozen=True)
class Snooze:
    """An approver's request to be reminded of an approval later: ``kind`` ``hour`` or ``morning``."""

    approval_id: str
    slack_user_id: str
    kind: str
    requested_at: datetime
