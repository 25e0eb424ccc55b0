"""Reminds approvers of approvals that wait too long, in the card's thread, and escalates the oldest.

Each reminder is claimed in the store (a compare-and-set on the approval's reminder count) before it
is posted, and the escalation likewise, so restarts and replicas never repeat one; a post Slack
definitely refused puts the claim back for the next round, while one whose answer was lost counts as
sent (Slack may have stored it: a missed reminder comes again at the next, a doubled one is noise).
More reminders due in one channel than the backlog limit become one message instead of a thread
reply each, and all escalations of a round share one message.
In quiet hours nothing is posted: what is due waits for their end.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock, utcnow
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.schedule import QuietHours
from bot.services.routing import Routes
from bot.shielded import shielded
from bot.slack.outbound.blocks.followups import SUMMARY_LINES, Waiting, escalation, reminder, reminder_summary
from bot.slack.outbound.poster import PostOutcomeUnknown, SlackPoster
from bot.storage.records import OpenApproval, Snooze

log = logging.getLogger(__name__)


class ReminderStore(Protocol):
    """The store operations reminders and escalations use."""

    async def claim_escalation(self, approval_id: str) -> bool: ...

    async def claim_reminder(self, approval_id: str, sent: int, to: int) -> bool: ...

    async def decision_under_way(self, approval_id: str) -> bool: ...

    async def open_approvals(self) -> list[OpenApproval]: ...

    async def release_escalation(self, approval_id: str) -> None: ...

    async def release_reminder(
        self, approval_id: str, sent: int, to: int, last_reminded_at: datetime | None
    ) -> None: ...

    async def snoozes(self) -> list[Snooze]: ...

    async def take_snooze(self, snooze: Snooze) -> bool: ...


UTC_ZONE = ZoneInfo("UTC")
SNOOZE_HOUR = "hour"
SNOOZE_MORNING = "morning"
MORNING = time(9, 0)
"""What "tomorrow morning" means for a snoozed reminder, in ``TZ``."""


@dataclass(frozen=True)
class Escalation:
    """Where escalations go and whom they mention (user ids ``U…`` and user-group ids ``S…``)."""

    channel: str
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReminderPolicy:
    """When reminders and the escalation fall due, counted from the moment the card was posted."""

    remind_after: timedelta = timedelta(hours=4)
    remind_every: timedelta = timedelta(hours=24)
    remind_max: int = 3
    escalate_after: timedelta | None = None
    quiet_hours: QuietHours | None = None
    zone: ZoneInfo = UTC_ZONE
    escalation: Escalation | None = None
    """Where escalations go; ``None``: nowhere (none is posted)."""
    backlog_limit: int = 20
    """More reminders due in one channel than this make one message."""

    def reminders_due(self, posted_at: datetime, now: datetime) -> int:
        """How many reminders should have gone out by ``now`` (at most ``remind_max``)."""
        late = now - posted_at - self.remind_after
        if late < timedelta(0) or self.remind_max <= 0:
            return 0
        if self.remind_every <= timedelta(0):
            return 1
        return min(self.remind_max, 1 + int(late / self.remind_every))

    def escalation_due(self, posted_at: datetime, now: datetime) -> bool:
        return self.escalate_after is not None and now >= posted_at + self.escalate_after

    def snoozed_until(self, snooze: Snooze) -> datetime:
        """When a snoozed reminder falls due: an hour after the click, or 09:00 (local) the next day."""
        if snooze.kind == SNOOZE_HOUR:
            return snooze.requested_at + timedelta(hours=1)
        local = snooze.requested_at.astimezone(self.zone)
        morning = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=self.zone)
        return morning.astimezone(UTC)

    def quiet(self, now: datetime) -> bool:
        return self.quiet_hours is not None and self.quiet_hours.holds(now, self.zone)


class ReminderNotifier:
    name = "reminders"

    def __init__(
        self,
        store: ReminderStore,
        poster: SlackPoster,
        metrics: Metrics,
        *,
        policy: ReminderPolicy,
        approvers: Sequence[str],
        routes: Routes | None = None,
        clock: Clock = utcnow,
        interval_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._poster = poster
        self._metrics = metrics
        self._policy = policy
        self._approvers = tuple(approvers)
        self._routes = routes
        self._escalation = policy.escalation
        self._backlog_limit = policy.backlog_limit
        self._clock = clock
        self.interval_seconds = interval_seconds

    async def poll_once(self) -> int:
        """One round: returns how many messages were posted (reminders, summaries, escalations)."""
        now = self._clock()
        if self._policy.quiet(now):
            return 0
        reminders, escalations = await self._due(now)
        posted = failures = 0
        for channel, due_here in reminders.items():
            # Many due at once (a backlog, or the end of quiet hours) make one message, not a flood.
            many = len(due_here) > self._backlog_limit
            for batch in [due_here] if many else [[item] for item in due_here]:
                try:
                    # A shutdown must not cut a post off between Slack and the store (that would repeat it).
                    posted += await shielded(
                        self._remind(channel, batch, now), f"a reminder in {channel}", describe
                    )
                except Exception as error:
                    log.warning("could not post a reminder in %s: %s", channel, describe(error))
                    failures += 1
        try:
            posted += await shielded(self._snoozed(now), "a snoozed reminder", describe)
        except Exception as error:
            log.warning("could not post a snoozed reminder: %s", describe(error))
            failures += 1
        if escalations and self._escalation is not None:
            try:
                posted += await shielded(
                    self._escalate(self._escalation, escalations, now), "the escalation", describe
                )
            except Exception as error:
                log.warning("could not post the escalation: %s", describe(error))
                failures += 1
        if failures:
            raise NotifierRoundIncomplete(f"{failures} reminder message(s) failed; retried next round")
        return posted

    async def _due(
        self, now: datetime
    ) -> tuple[dict[str, list[tuple[OpenApproval, int]]], list[OpenApproval]]:
        """Reminders due by channel (with the count each approval should reach), and escalations due."""
        reminders: dict[str, list[tuple[OpenApproval, int]]] = {}
        escalations: list[OpenApproval] = []
        for approval in await self._store.open_approvals():
            due = self._policy.reminders_due(approval.posted_at, now)
            if due > approval.reminders_sent:
                reminders.setdefault(approval.channel, []).append((approval, due))
            if approval.escalated_at is None and self._policy.escalation_due(approval.posted_at, now):
                escalations.append(approval)
        return reminders, escalations

    async def _remind(self, channel: str, batch: list[tuple[OpenApproval, int]], now: datetime) -> int:
        """Claims the batch's reminders, then posts one reminder: in the thread for one approval, in
        the channel for many. A post Slack refused releases the claims; one with no answer keeps them."""
        claimed: list[tuple[OpenApproval, int]] = []
        for approval, due in batch:
            if await self._store.decision_under_way(approval.approval_id):
                continue
            if await self._store.claim_reminder(approval.approval_id, approval.reminders_sent, due):
                claimed.append((approval, due))
        if not claimed:
            return 0
        try:
            if len(batch) == 1:
                (approval, due), *_ = claimed
                snoozed = {
                    s.slack_user_id
                    for s in await self._store.snoozes()
                    if s.approval_id == approval.approval_id
                }
                text, blocks = reminder(
                    _waiting(approval, now),
                    tuple(a for a in self._approvers_in(channel) if a not in snoozed),
                    number=due,
                    of=self._policy.remind_max,
                )
                await self._poster.post(channel, text, blocks, thread_ts=approval.thread_ts)
                self._metrics.followups.labels("reminder").inc()
            else:
                items = await self._with_links([a for a, _ in claimed], now)
                text, blocks = reminder_summary(items, self._approvers_in(channel))
                await self._poster.post(channel, text, blocks)
                self._metrics.followups.labels("reminder_summary").inc()
        except PostOutcomeUnknown as error:
            # May be in the channel: the claims stand (counted as sent), so it is never posted twice.
            log.warning(
                "a reminder in %s got no answer (%s): counted as sent, not posted again", channel, error
            )
        except BaseException:
            for approval, due in claimed:
                await self._store.release_reminder(
                    approval.approval_id, approval.reminders_sent, due, approval.last_reminded_at
                )
            raise
        return 1

    async def _snoozed(self, now: datetime) -> int:
        """Posts each snoozed reminder that fell due, mentioning only who snoozed it, once (the snooze
        is taken first), as one more reminder of the approval (within ``APPROVALS_REMIND_MAX``)."""
        posted = 0
        snoozes = [s for s in await self._store.snoozes() if self._policy.snoozed_until(s) <= now]
        if not snoozes:
            return 0
        open_by_id = {a.approval_id: a for a in await self._store.open_approvals()}
        for snooze in snoozes:
            approval = open_by_id.get(snooze.approval_id)
            if not await self._store.take_snooze(snooze) or approval is None:
                continue
            sent, due = approval.reminders_sent, approval.reminders_sent + 1
            if due > self._policy.remind_max or not await self._store.claim_reminder(
                approval.approval_id, sent, due
            ):
                continue
            text, blocks = reminder(
                _waiting(approval, now), (snooze.slack_user_id,), number=due, of=self._policy.remind_max
            )
            try:
                await self._poster.post(approval.channel, text, blocks, thread_ts=approval.thread_ts)
            except PostOutcomeUnknown as error:
                log.warning("a snoozed reminder got no answer (%s): counted as sent", error)
            except BaseException:
                await self._store.release_reminder(approval.approval_id, sent, due, approval.last_reminded_at)
                raise
            open_by_id[approval.approval_id] = replace(approval, reminders_sent=due)
            self._metrics.followups.labels("reminder").inc()
            posted += 1
        return posted

    def _approvers_in(self, channel: str) -> tuple[str, ...]:
        """Whom a reminder in ``channel`` mentions: the approvers of the route whose cards go there, else
        ``APPROVERS``."""
        routed = None if self._routes is None else self._routes.approvers_in(channel)
        return self._approvers if routed is None else routed

    async def _escalate(self, target: Escalation, approvals: list[OpenApproval], now: datetime) -> int:
        claimed = [a for a in approvals if await self._store.claim_escalation(a.approval_id)]
        if not claimed:
            return 0
        try:
            text, blocks = escalation(await self._with_links(claimed, now), target.escalate_to)
            await self._poster.post(target.channel, text, blocks)
        except PostOutcomeUnknown as error:
            # May be in the channel: the claims stand (counted as sent), so it is never posted twice.
            log.warning("the escalation got no answer (%s): counted as sent, not posted again", error)
        except BaseException:
            for approval in claimed:
                await self._store.release_escalation(approval.approval_id)
            raise
        self._metrics.followups.labels("escalation").inc()
        log.info("escalated %d approval(s) to %s", len(claimed), target.channel)
        return 1

    async def _with_links(self, approvals: list[OpenApproval], now: datetime) -> list[Waiting]:
        """The approvals as ``Waiting`` items; those a message names get a link to their card."""
        items = []
        for index, approval in enumerate(approvals):
            link = None
            if index < SUMMARY_LINES and approval.thread_ts:
                try:
                    link = await self._poster.permalink(approval.channel, approval.thread_ts)
                except Exception as error:  # a message without a link is still worth sending
                    log.info("no link to the card of approval %s: %s", approval.approval_id, describe(error))
            items.append(_waiting(approval, now, link))
        return items


def _waiting(approval: OpenApproval, now: datetime, link: str | None = None) -> Waiting:
    return Waiting(approval.approval_id, now - approval.posted_at, link)
