"""The daily digest, posted once a day at ``APPROVALS_DIGEST_AT`` (off when that is unset)."""

from __future__ import annotations

from bot.features.parts import Contribution, Parts
from bot.notifier.digest import DigestNotifier, DigestSchedule


def contribute(parts: Parts) -> Contribution:
    settings = parts.settings
    if settings.approvals_digest_at is None:
        return Contribution()
    digests = DigestNotifier(
        parts.store,
        parts.poster,
        parts.approvals.digest,
        parts.metrics,
        schedule=DigestSchedule(
            settings.approvals_channel, settings.approvals_digest_at, settings.digest_zone
        ),
        clock=parts.clock,
        interval_seconds=settings.approvals_followup_poll_seconds,
    )
    return Contribution(pollers=(digests,), announcers=(digests,))
