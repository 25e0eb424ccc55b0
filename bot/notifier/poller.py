"""What the server runs in the background: pollers, each one source of notifications.

A poller is anything with a ``name``, an ``interval_seconds`` and ``poll_once()``; the server starts
and stops every poller the runtime lists without knowing what it polls. Adding a source is one
module with such a class and one line in ``bot/runtime.py``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class Poller(Protocol):
    @property
    def name(self) -> str:
        """Short and stable: used in logs and as the ``poller`` metric label."""
        ...

    @property
    def interval_seconds(self) -> float:
        """The pause between the end of one round and the start of the next."""
        ...

    async def poll_once(self) -> int:
        """One round; returns how many messages it posted. Raising marks the round failed (the next
        round still comes); per-item failures are logged and end in ``NotifierRoundIncomplete``."""
        ...


@runtime_checkable
class RetriedByAnother(Protocol):
    """A poller whose failed items are tried again only when another poller offers them again (the
    announcer's cards come back with the next approvals listing), not on its own next round."""

    @property
    def retry_seconds(self) -> float:
        """How long after a failed item its next try comes, at most."""
        ...

    @property
    def idle(self) -> bool:
        """True when the latest round had nothing to try (so it proves nothing about recovery)."""
        ...
