"""Post reconciliation: settles every feature's posts whose answer was lost (found in Slack, or
released to be posted again). Built after the other features, from all their announcers."""

from __future__ import annotations

from collections.abc import Iterable

from bot.features.parts import Contribution, Parts
from bot.notifier.reconcile import Announcer, PostReconciler


def contribute(parts: Parts, announcers: Iterable[Announcer]) -> Contribution:
    return Contribution(pollers=(PostReconciler(parts.store, parts.poster, announcers),))
