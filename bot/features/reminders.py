"""Reminders in a waiting card's thread, the escalation of the oldest, both held in quiet hours."""

from __future__ import annotations

from bot.features.parts import Contribution, Parts
from bot.notifier.reminders import Escalation, ReminderNotifier, ReminderPolicy


def contribute(parts: Parts) -> Contribution:
    settings = parts.settings
    escalation = (
        Escalation(settings.approvals_escalation_channel, tuple(settings.approvals_escalate_to))
        if settings.approvals_escalation_channel
        else None
    )
    policy = ReminderPolicy(
        remind_after=settings.approvals_remind_after,
        remind_every=settings.approvals_remind_every,
        remind_max=settings.approvals_remind_max,
        escalate_after=settings.approvals_escalate_after,
        quiet_hours=settings.reminder_quiet_hours,
        zone=settings.zone,
        escalation=escalation,
        backlog_limit=settings.approvals_backlog_limit,
    )
    reminders = ReminderNotifier(
        parts.store,
        parts.poster,
        parts.metrics,
        policy=policy,
        approvers=settings.approvers,
        routes=parts.approvals.routes,
        clock=parts.clock,
        interval_seconds=settings.approvals_followup_poll_seconds,
    )
    return Contribution(pollers=(reminders,))
