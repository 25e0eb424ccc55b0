"""Settles announcements whose post got no answer, so none is posted twice or lost.

An announcement (approval card, single watch message, batch card and the replies and summary in its
thread, followed process, digest) is claimed, then posted with a ``MessageKey`` in its metadata. When
``chat.postMessage`` got no answer (a timeout, a dropped connection, a 5xx), or its poster died
mid-post (``kill -9``: its post attempt is still POSTING and its process stopped beating, or its
replica restarted), Slack may have stored the message. Each round this poller takes up to
``RECONCILES_PER_ROUND`` such attempts that are at least ``RECONCILE_AFTER`` old and looks for the key
in the channel's history (``conversations.history``, or ``conversations.replies`` of the thread a reply
went to; Tier 3, at most ``HISTORY_PAGES`` pages of the window around the attempt): found, the message
is recorded as the announcement; not found, the claim is released and the announcement posted again.
A history read that fails leaves the attempt for the next round, unless Slack refuses it for good (the
app lacks the history scope, the bot cannot see the channel): then the announcement is posted again,
for a possible second message is better than one never shown, and the log says what to fix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Protocol

from bot.logging_setup import log_context
from bot.messaging import Announced, MessageKey, MessageRef
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.shielded import shielded
from bot.slack.outbound.poster import HistoryUnreadable, PostOutcomeUnknown, SlackPoster
from bot.storage.records import PostAttempt, PostState

log = logging.getLogger(__name__)


class PostingStore(Protocol):
    """What settling a failed post needs: marking its attempt's outcome unknown."""

    async def post_outcome_unknown(self, kind: str, subject_id: str) -> None: ...


class ReconcileStore(Protocol):
    """The store operations the post reconciler uses."""

    def now(self) -> datetime: ...

    async def post_outcome_unknown(self, kind: str, subject_id: str) -> None: ...

    async def posts_to_reconcile(
        self, *, started_before: datetime, own_started_before: datetime, limit: int
    ) -> list[PostAttempt]: ...

    async def take_post(self, attempt: PostAttempt) -> bool: ...


RECONCILE_INTERVAL_SECONDS = 10.0
RECONCILES_PER_ROUND = 2
"""With ``HISTORY_PAGES``: at most 6 history calls a round, 36 a minute, inside Tier 3 (about 50)."""
HISTORY_PAGES = 3
RECONCILE_AFTER = timedelta(seconds=15)
"""Longer than a post can take (Slack calls time out after 10 s): a message Slack stored is in the
history by then."""
STORED_BEFORE = timedelta(minutes=1)
"""How far before the attempt the history is read: room for clocks that disagree."""
STORED_WITHIN = timedelta(minutes=10)
"""The latest after the attempt started that the message can have been stored: its send may come
after the channel's pacing and rate-limit retries (each after Slack's Retry-After). The window ends
at the look-up itself when that is sooner (usually 15 to 25 s after the attempt), which keeps it to
a page even where Slack allows 15 messages a page."""
OWN_POSTING_STUCK_AFTER = timedelta(minutes=10)
"""An attempt this process left POSTING (a reconcile cut off when it lost the poller role, a store
that failed to record the outcome) is taken up again after this long: longer than any post takes."""


class Announcer(Protocol):
    """A poller whose announcements are reconciled: it records a message found, or releases its claim."""

    @property
    def announces(self) -> Announced: ...

    def message_key(self, subject_id: str) -> MessageKey:
        """The metadata the announcement ``subject_id`` was posted with."""
        ...

    async def adopt(self, subject_id: str, ref: MessageRef) -> None: ...

    async def release(self, subject_id: str) -> None: ...


@asynccontextmanager
async def posting(store: PostingStore, announcer: Announcer, subject_id: str) -> AsyncIterator[None]:
    """Around the post of ``announcer``'s claimed announcement ``subject_id``: a post with no answer
    (or one cut off) leaves its attempt UNKNOWN and the claim held, for the ``PostReconciler``; any
    other failure is a definite "not posted" and releases the claim (``announcer.release``)."""
    try:
        yield
    except (PostOutcomeUnknown, asyncio.CancelledError):
        await store.post_outcome_unknown(announcer.announces.value, subject_id)
        raise
    except BaseException:
        await announcer.release(subject_id)
        raise


class PostReconciler:
    name = "reconcile_posts"

    def __init__(
        self,
        store: ReconcileStore,
        poster: SlackPoster,
        announcers: Iterable[Announcer],
        *,
        interval_seconds: float = RECONCILE_INTERVAL_SECONDS,
    ) -> None:
        self._store = store
        self._poster = poster
        self._announcers: dict[str, Announcer] = {}
        for announcer in announcers:
            if announcer.announces.value in self._announcers:
                raise ValueError(f"two announcers of {announcer.announces.value}")
            self._announcers[announcer.announces.value] = announcer
        self.interval_seconds = interval_seconds

    @property
    def announcers(self) -> tuple[Announcer, ...]:
        """Every announcer whose lost posts this reconciler settles."""
        return tuple(self._announcers.values())

    async def poll_once(self) -> int:
        """Settles the oldest attempts nobody is working on; returns how many were found in Slack."""
        now = self._store.now()
        attempts = await self._store.posts_to_reconcile(
            started_before=now - RECONCILE_AFTER,
            own_started_before=now - OWN_POSTING_STUCK_AFTER,
            limit=RECONCILES_PER_ROUND,
        )
        found = failures = 0
        for attempt in attempts:
            announcer = self._announcers.get(attempt.kind)
            if announcer is None or not await self._store.take_post(attempt):
                continue
            with log_context(**_context(attempt)):
                try:
                    found += await self._settle(attempt, announcer)
                except HistoryUnreadable as error:
                    log.warning(
                        "cannot read %s's history to look up the unanswered post of %s %s (%s): posting it "
                        "again, so it may show twice. Add the channels:history and groups:history scopes "
                        "and reinstall the app, or invite the bot to the channel",
                        attempt.channel,
                        attempt.kind,
                        attempt.subject_id,
                        error,
                    )
                    await announcer.release(attempt.subject_id)
                except asyncio.CancelledError:
                    # Cut off (the poller role lost, a shutdown): left for whoever reconciles next.
                    await shielded(
                        self._store.post_outcome_unknown(attempt.kind, attempt.subject_id),
                        f"recording the unknown outcome of {attempt.kind} {attempt.subject_id}",
                    )
                    raise
                except Exception as error:
                    await self._store.post_outcome_unknown(attempt.kind, attempt.subject_id)
                    log.warning(
                        "could not look up %s %s: %s", attempt.kind, attempt.subject_id, describe(error)
                    )
                    failures += 1
        if failures:
            raise NotifierRoundIncomplete(
                f"{failures} unanswered post(s) could not be looked up; tried again"
            )
        return found

    async def _settle(self, attempt: PostAttempt, announcer: Announcer) -> int:
        ts = await self._find(attempt, announcer.message_key(attempt.subject_id))
        how = "got no answer" if attempt.state is PostState.UNKNOWN else "was cut off (its process died)"
        what = f"{attempt.kind} {attempt.subject_id}"
        if ts is None:
            log.warning("the post of %s %s and it is not in %s: posting it again", what, how, attempt.channel)
            await announcer.release(attempt.subject_id)
            return 0
        log.warning("the post of %s %s; it is in %s (ts %s): keeping it", what, how, attempt.channel, ts)
        await announcer.adopt(attempt.subject_id, MessageRef(attempt.channel, ts))
        return 1

    async def _find(self, attempt: PostAttempt, key: MessageKey) -> str | None:
        """The ``ts`` of the attempt's message: looked up in its thread when it is a reply (replies are
        not in the channel's history), else in the channel's history."""
        oldest = attempt.started_at - STORED_BEFORE
        latest = min(self._store.now(), attempt.started_at + STORED_WITHIN)
        if attempt.thread_ts is not None:
            return await self._poster.find_reply(
                attempt.channel, attempt.thread_ts, key, oldest=oldest, latest=latest, pages=HISTORY_PAGES
            )
        return await self._poster.find_posted(
            attempt.channel, key, oldest=oldest, latest=latest, pages=HISTORY_PAGES
        )


def _context(attempt: PostAttempt) -> dict[str, str]:
    if attempt.kind == Announced.APPROVAL_CARD.value:
        return {"approval_id": attempt.subject_id}
    return {}
