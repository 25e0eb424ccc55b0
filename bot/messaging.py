"""What the core knows of a chat message: where it is, nothing of how it looks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageRef:
    """A posted message: its channel and its timestamp (the message's id within the channel)."""

    channel: str
    ts: str
