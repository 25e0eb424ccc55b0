"""How long one decision may wait on Commerce, in all, and when the clicker hears that it is slow.

Invariant: a decision never waits on Commerce longer than ``total_seconds``. The read of the
approval (its retries and a login included) gets ``read_seconds`` and no more; the decision itself,
sent once, gets whatever is left of the total. The shutdown drain is derived from the same numbers
(``bot.server.drain_seconds``), so a decision is never cut off between Commerce and the store.
"""

from __future__ import annotations

from dataclasses import dataclass

STILL_WORKING_AFTER_SECONDS = 3.0
"""A decision that takes longer than this tells the clicker it is still working."""


@dataclass(frozen=True)
class DecisionBudget:
    read_seconds: float
    total_seconds: float
    still_working_after_seconds: float = STILL_WORKING_AFTER_SECONDS
    """When the clicker is told that the decision is still under way."""

    def __post_init__(self) -> None:
        if not 0 < self.read_seconds < self.total_seconds:
            raise ValueError("a decision's read must get a positive part of its total budget")

    @classmethod
    def from_timeout(cls, commerce_timeout_seconds: float) -> DecisionBudget:
        """One Commerce timeout for the read (retried only while it lasts), one for the decision."""
        return cls(read_seconds=commerce_timeout_seconds, total_seconds=2 * commerce_timeout_seconds)


def waited(seconds: float) -> str:
    """``seconds`` as the clicker reads it: ``"20 s"``, ``"0.6 s"``."""
    return f"{round(seconds, 1):g} s" if seconds < 10 else f"{round(seconds):d} s"
