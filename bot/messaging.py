"""What the core knows of a chat message: where it is, nothing of how it looks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class MessageRef:
    """A posted message: its channel and its timestamp (the message's id within the channel)."""

    channel: str
    ts: str


class Announced(str, Enum):
    """What a claimed message announces (top-level, or a reply in a batch card's thread); its value is
    the message's metadata ``event_type``."""

    APPROVAL_CARD = "approval_card"
    PROCESS_STATUS = "process_status"
    BATCH_CARD = "batch_card"
    FOLLOWED_PROCESS = "followed_process"
    DAILY_DIGEST = "daily_digest"
    BATCH_REPLY = "batch_reply"
    BATCH_SUMMARY = "batch_summary"


_ID_FIELD = {
    Announced.APPROVAL_CARD: "approval_id",
    Announced.PROCESS_STATUS: "batch_id",
    Announced.BATCH_CARD: "batch_id",
    Announced.FOLLOWED_PROCESS: "process_status_id",
    Announced.DAILY_DIGEST: "day",
    # Looked up in the batch card's thread, so the process id alone tells the replies apart.
    Announced.BATCH_REPLY: "process_status_id",
    Announced.BATCH_SUMMARY: "batch_id",
}


@dataclass(frozen=True)
class MessageKey:
    """Which announcement a message is: posted in its metadata, so a message whose answer was lost is
    found again in the channel's history (one announcement, one key)."""

    kind: Announced
    id: str
    extra: tuple[tuple[str, str], ...] = ()
    """More fields for the payload, for people reading it (e.g. the process id); never matched on."""

    def metadata(self) -> dict[str, Any]:
        """Slack message ``metadata``: ``event_type`` is the kind, the payload names the id."""
        return {
            "event_type": self.kind.value,
            "event_payload": {**dict(self.extra), _ID_FIELD[self.kind]: self.id},
        }

    @staticmethod
    def id_in(kind: Announced, metadata: object) -> str | None:
        """The id a message's ``metadata`` names for an announcement of ``kind``; ``None`` when the
        message is no such announcement."""
        if not isinstance(metadata, dict) or metadata.get("event_type") != kind.value:
            return None
        payload = metadata.get("event_payload")
        found = payload.get(_ID_FIELD[kind]) if isinstance(payload, dict) else None
        return found if isinstance(found, str) else None

    def matches(self, metadata: object) -> bool:
        """Whether a message's ``metadata`` (as ``conversations.history`` gives it) is this key's."""
        if not isinstance(metadata, dict) or metadata.get("event_type") != self.kind.value:
            return False
        payload = metadata.get("event_payload")
        return isinstance(payload, dict) and payload.get(_ID_FIELD[self.kind]) == self.id
