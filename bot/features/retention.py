"""Deletes closed cards, finished watches and done claims after ``RETENTION_DAYS`` (audit rows only
with ``AUDIT_RETENTION_DAYS``)."""

from __future__ import annotations

from datetime import timedelta

from bot.features.parts import Contribution, Parts
from bot.notifier.retention import RetentionPruner


def contribute(parts: Parts) -> Contribution:
    settings = parts.settings
    audit_days = settings.audit_retention_days
    pruner = RetentionPruner(
        parts.store,
        keep_for=timedelta(days=settings.retention_days),
        keep_audit_for=timedelta(days=audit_days) if audit_days else None,
    )
    return Contribution(pollers=(pruner,))
