"""A post whose answer was lost is found again in the channel, never posted twice: approval cards,
single-watch messages, batch cards and their thread replies, after a timeout, a dropped connection, a
5xx or ``kill -9``.

Slack definitely saying no (``ok: false``) releases the claim and the next round posts again; no
answer keeps the claim until ``conversations.history`` (``conversations.replies`` for a thread reply)
shows whether the message is there.
"""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.notifier.failures import NotifierRoundIncomplete
from bot.notifier.reconcile import RECONCILE_AFTER
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator
from bot.settings import Settings
from bot.slack.outbound.poster import PostOutcomeUnknown
from bot.storage.records import CardState, PostState
from tests.bot_runner import RunningBot
from tests.cli_process import free_port
from tests.clock import ManualClock
from tests.conftest import APPROVALS_CHANNEL, APPROVER, PROCESS_CHANNEL, SIGNING_SECRET
from tests.ingest_api import API_CALLERS, API_TOKEN, WATCHES, post_watches
from tests.pg import fresh_postgres_url, postgres_url  # noqa: F401
from tests.replicas import Replica
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.store_helpers import get_watch, post_attempt
from tests.waiting import wait_for

SETTLED = RECONCILE_AFTER + timedelta(seconds=1)
BATCH_CHANNEL = "C_OPS"


def lookups(slack: SlackEmulator) -> list[dict[str, Any]]:
    """The reconciler's look-ups of one post (a window around it), not the first round's search of a
    channel for cards already there."""
    return [c for c in slack.calls("conversations.history") if "oldest" in c]


def top_level(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return [
        c for c in slack.calls("chat.postMessage") if c.get("channel") == channel and not c.get("thread_ts")
    ]


def cards_for(slack: SlackEmulator, approval_id: str) -> list[dict[str, Any]]:
    return [
        c
        for c in top_level(slack, APPROVALS_CHANNEL)
        if f'"value": "{approval_id}"' in json.dumps(c.get("blocks"))
    ]


@pytest.fixture
def clock(slack: SlackEmulator) -> ManualClock:
    """The bot's clock, and Slack's: a message's ``ts`` is the time it was stored, as in Slack."""
    manual = ManualClock()
    slack.clock = lambda: manual().timestamp()
    return manual


# -- approval cards -----------------------------------------------------------------------------------


def test_a_card_whose_answer_timed_out_after_slack_stored_it_is_adopted_not_posted_again(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    clock: ManualClock,
) -> None:
    bot = start_bot(clock=clock)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    slack.lose_answer_next("chat.postMessage", mode="hang")

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()
    [stored] = slack.top_level_messages(APPROVALS_CHANNEL)
    assert stored.metadata == {"event_type": "approval_card", "event_payload": {"approval_id": approval_id}}
    attempt = bot.call(post_attempt(bot.runtime.store, "approval_card", approval_id))
    assert attempt is not None and attempt.state is PostState.UNKNOWN

    assert bot.poll_approvals() == 0  # the claim is kept: no second card
    assert bot.poll("reconcile_posts") == 0  # too soon: Slack may still be storing it
    assert lookups(slack) == []

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 1
    [lookup] = lookups(slack)
    assert (lookup["channel"], lookup["include_all_metadata"]) == (APPROVALS_CHANNEL, "1")
    card = bot.call(bot.runtime.store.get_card(approval_id))
    assert card is not None and (card.state, card.ts) == (CardState.PENDING, stored.ts)
    assert bot.call(post_attempt(bot.runtime.store, "approval_card", approval_id)) is None

    assert bot.poll_approvals() == 0
    assert bot.poll("reconcile_posts") == 0
    assert len(cards_for(slack, approval_id)) == 1
    # The one card is the live one: decided in Commerce, it is the card that loses its buttons.
    commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)
    bot.poll_approvals()
    assert [u["ts"] for u in slack.calls("chat.update")] == [stored.ts]
    assert slack.message(APPROVALS_CHANNEL, stored.ts).blocks == slack.calls("chat.update")[0]["blocks"]


def test_a_card_slack_refused_is_released_and_posted_once_next_round(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    clock: ManualClock,
) -> None:
    bot = start_bot(clock=clock)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()
    assert bot.call(bot.runtime.store.get_card(approval_id)) is None
    assert bot.call(post_attempt(bot.runtime.store, "approval_card", approval_id)) is None

    assert bot.poll_approvals() == 1
    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0
    assert lookups(slack) == []
    assert len(cards_for(slack, approval_id)) == 1


@pytest.mark.parametrize(
    "lost",
    [
        Response(status=500, body={"ok": False, "error": "internal_error"}),
        Response(withhold="drop"),
    ],
    ids=["5xx", "dropped connection"],
)
def test_a_card_with_no_answer_that_slack_did_not_store_is_looked_up_then_posted_once(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    clock: ManualClock,
    lost: Response,
) -> None:
    bot = start_bot(clock=clock)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    slack.fail_next(1, lost, when=lambda r: r.path.endswith("chat.postMessage"))

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()
    assert bot.poll_approvals() == 0  # unknown: not posted again before it is looked up
    assert slack.top_level_messages(APPROVALS_CHANNEL) == []

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0  # not there: released
    assert len(lookups(slack)) == 1
    assert bot.poll_approvals() == 1
    [card] = slack.top_level_messages(APPROVALS_CHANNEL)
    record = bot.call(bot.runtime.store.get_card(approval_id))
    assert record is not None and record.ts == card.ts


def test_a_card_whose_history_slack_will_never_show_is_posted_again_not_left_unposted(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An app installed before the history scopes (``missing_scope``) can never look a post up: the
    approval is posted again (a possible second card, said in the log) rather than never announced."""
    bot = start_bot(clock=clock)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    slack.fail_next(
        1,
        Response(status=500, body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )
    slack.fail_next(
        2,
        Response(body={"ok": False, "error": "missing_scope", "needed": "channels:history"}),
        when=lambda r: r.path.endswith("conversations.history"),
    )

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_approvals()
    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0
    assert "channels:history" in caplog.text and "reinstall" in caplog.text
    assert bot.poll_approvals() == 1
    [card] = slack.top_level_messages(APPROVALS_CHANNEL)
    record = bot.call(bot.runtime.store.get_card(approval_id))
    assert record is not None and record.ts == card.ts
    assert bot.call(post_attempt(bot.runtime.store, "approval_card", approval_id)) is None


# -- process-status announcements -------------------------------------------------------------------


def test_a_watch_message_whose_connection_dropped_after_slack_stored_it_is_kept_not_repeated(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock)
    process_id = bol.add_process()
    bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    bol.set_status(process_id, "FAILURE", error_message="nope")
    slack.lose_answer_next("chat.postMessage", mode="drop")

    assert bot.poll_processes() == 0
    [stored] = slack.top_level_messages(PROCESS_CHANNEL)
    assert stored.metadata is not None and stored.metadata["event_type"] == "process_status"
    assert stored.metadata["event_payload"]["process_status_id"] == process_id
    assert bot.poll_processes() == 0
    assert len(top_level(slack, PROCESS_CHANNEL)) == 1

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 1
    watch = bot.call(get_watch(bot.runtime.store, process_id, PROCESS_CHANNEL))
    assert watch is not None and watch.message_ts == stored.ts
    assert bot.poll_processes() == 0
    assert bot.poll("reconcile_posts") == 0
    assert len(top_level(slack, PROCESS_CHANNEL)) == 1


def test_a_watch_message_with_no_answer_and_not_in_slack_is_posted_once_after_lookup(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock)
    process_id = bol.add_process()
    bot.call(bot.runtime.store.add_watch(process_id, PROCESS_CHANNEL, APPROVER))
    bol.set_status(process_id, "SUCCESS")
    slack.fail_next(1, Response(withhold="drop"), when=lambda r: r.path.endswith("chat.postMessage"))

    assert bot.poll_processes() == 0
    assert bot.poll_processes() == 0
    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0
    assert bot.poll_processes() == 1
    [message] = slack.top_level_messages(PROCESS_CHANNEL)
    watch = bot.call(get_watch(bot.runtime.store, process_id, PROCESS_CHANNEL))
    assert watch is not None and watch.message_ts == message.ts


def test_a_batch_card_whose_connection_dropped_after_slack_stored_it_is_adopted_and_kept_current(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock, api_tokens=API_CALLERS)
    ids = bol.add_processes(2)
    batch_id = post_watches(bot, {"ids": ids, "channel": BATCH_CHANNEL}).json()["batch_id"]
    slack.lose_answer_next("chat.postMessage", mode="drop")

    assert bot.poll_processes() == 0
    [stored] = slack.top_level_messages(BATCH_CHANNEL)
    assert stored.metadata == {"event_type": "batch_card", "event_payload": {"batch_id": batch_id}}
    assert bot.poll_processes() == 0
    assert bot.poll("batch_cards") == 0

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 1
    bol.finish(ids, "SUCCESS")
    bot.poll_processes()
    assert len(top_level(slack, BATCH_CHANNEL)) == 1
    assert [u["ts"] for u in slack.calls("chat.update")] == [stored.ts]  # the adopted card moves
    assert "2/2" in json.dumps(slack.message(BATCH_CHANNEL, stored.ts).blocks)


def batch_with_a_card(bot: RunningBot, slack: SlackEmulator, ids: list[str]) -> tuple[str, str]:
    """Posts a batch of ``ids`` and its card; returns the batch id and the card's ts."""
    batch_id = post_watches(bot, {"ids": ids, "channel": BATCH_CHANNEL}).json()["batch_id"]
    assert bot.poll_processes() == 1
    [card] = slack.top_level_messages(BATCH_CHANNEL)
    return batch_id, card.ts


def test_a_batch_reply_whose_connection_dropped_after_slack_stored_it_is_found_in_the_thread_not_repeated(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock, api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    batch_id, card_ts = batch_with_a_card(bot, slack, ids)
    bol.finish(ids[:1], "FAILURE", error_message="Price must be at least 1.00")
    slack.lose_answer_next("chat.postMessage", mode="drop")

    assert bot.poll_processes() == 0
    [stored] = slack.thread_replies(BATCH_CHANNEL, card_ts)
    assert stored.metadata == {
        "event_type": "batch_reply",
        "event_payload": {"batch_id": batch_id, "process_status_id": ids[0]},
    }
    attempt = bot.call(post_attempt(bot.runtime.store, "batch_reply", f"{batch_id}/{ids[0]}"))
    assert attempt is not None and attempt.state is PostState.UNKNOWN and attempt.thread_ts == card_ts
    assert bot.poll_processes() == 0  # the claim is kept: no second reply
    clock.advance(timedelta(minutes=11))
    assert bot.poll_processes() == 0  # nor once the claim is old: its attempt is settled first

    assert bot.poll("reconcile_posts") == 1
    [lookup] = slack.calls("conversations.replies")
    assert (lookup["channel"], lookup["ts"], lookup["include_all_metadata"]) == (BATCH_CHANNEL, card_ts, "1")
    assert lookups(slack) == []  # a thread reply is not in the history
    assert bot.call(post_attempt(bot.runtime.store, "batch_reply", f"{batch_id}/{ids[0]}")) is None
    assert bot.poll_processes() == 0
    assert bot.poll("reconcile_posts") == 0

    bol.finish(ids[1:], "SUCCESS")
    assert bot.poll_processes() == 1  # the summary, not the reply again
    first, summary = slack.thread_replies(BATCH_CHANNEL, card_ts)
    assert first.ts == stored.ts and summary.metadata is not None
    assert summary.metadata["event_type"] == "batch_summary"


@pytest.mark.parametrize(
    "lost",
    [Response(status=500, body={"ok": False, "error": "internal_error"}), Response(withhold="drop")],
    ids=["5xx", "dropped connection"],
)
def test_a_batch_reply_with_no_answer_that_slack_did_not_store_is_posted_once_after_the_thread_lookup(
    start_bot: Callable[..., RunningBot],
    slack: SlackEmulator,
    bol: BolEmulator,
    clock: ManualClock,
    lost: Response,
) -> None:
    bot = start_bot(clock=clock, api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    batch_id, card_ts = batch_with_a_card(bot, slack, ids)
    bol.finish(ids[:1], "FAILURE", error_message="Price must be at least 1.00")
    slack.fail_next(1, lost, when=lambda r: r.path.endswith("chat.postMessage"))

    assert bot.poll_processes() == 0
    assert bot.poll_processes() == 0  # unknown: not posted again before it is looked up
    assert slack.thread_replies(BATCH_CHANNEL, card_ts) == []

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0  # not in the thread: released
    assert len(slack.calls("conversations.replies")) == 1
    assert bot.poll_processes() == 1
    assert bot.poll_processes() == 0
    [reply] = slack.thread_replies(BATCH_CHANNEL, card_ts)
    assert reply.metadata is not None and reply.metadata["event_payload"]["process_status_id"] == ids[0]
    assert bot.call(post_attempt(bot.runtime.store, "batch_reply", f"{batch_id}/{ids[0]}")) is None


def test_a_batch_summary_whose_connection_dropped_after_slack_stored_it_is_kept_not_repeated(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock, api_tokens=API_CALLERS)
    ids = bol.add_processes(2)
    batch_id, card_ts = batch_with_a_card(bot, slack, ids)
    bol.finish(ids[:1], "FAILURE", error_message="nope")
    assert bot.poll_processes() == 1  # the failure's reply
    bol.finish(ids[1:], "SUCCESS")
    slack.lose_answer_next("chat.postMessage", mode="drop")

    assert bot.poll_processes() == 0
    summary = slack.thread_replies(BATCH_CHANNEL, card_ts)[-1]
    assert summary.metadata == {"event_type": "batch_summary", "event_payload": {"batch_id": batch_id}}
    clock.advance(timedelta(minutes=11))
    assert bot.poll_processes() == 0  # the claim is kept while its attempt is unsettled

    assert bot.poll("reconcile_posts") == 1
    assert bot.poll_processes() == 0
    assert bot.poll("reconcile_posts") == 0
    assert len(slack.thread_replies(BATCH_CHANNEL, card_ts)) == 2


def test_a_followed_process_whose_connection_dropped_after_slack_stored_it_is_kept_not_repeated(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock)
    running = bol.add_process("CREATE_SHIPMENT", "order-77")
    assert bot.call(bot.runtime.store.add_follow("order-77", "CREATE_SHIPMENT", BATCH_CHANNEL, APPROVER))
    assert bot.poll_follows() == 0  # the baseline
    bol.set_status(running, "FAILURE", error_message="Transporter unknown")
    slack.lose_answer_next("chat.postMessage", mode="drop")

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_follows()
    [stored] = slack.top_level_messages(BATCH_CHANNEL)
    assert stored.metadata == {
        "event_type": "followed_process",
        "event_payload": {"process_status_id": running},
    }
    assert bot.poll_follows() == 0  # claimed, not posted again

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 1
    assert bot.poll_follows() == 0
    assert bot.poll("reconcile_posts") == 0
    assert len(top_level(slack, BATCH_CHANNEL)) == 1


def test_a_followed_process_slack_refused_is_posted_once_next_round(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    bot = start_bot(clock=clock)
    running = bol.add_process("CREATE_SHIPMENT", "order-77")
    assert bot.call(bot.runtime.store.add_follow("order-77", "CREATE_SHIPMENT", BATCH_CHANNEL, APPROVER))
    assert bot.poll_follows() == 0
    bol.set_status(running, "SUCCESS")
    slack.fail_next(
        1,
        Response(body={"ok": False, "error": "internal_error"}),
        when=lambda r: r.path.endswith("chat.postMessage"),
    )

    with pytest.raises(NotifierRoundIncomplete):
        bot.poll_follows()
    assert bot.poll_follows() == 1
    assert len(top_level(slack, BATCH_CHANNEL)) == 1


def test_a_digest_whose_connection_dropped_after_slack_stored_it_is_kept_not_repeated(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 1, 12, 11, 0, tzinfo=UTC))  # noon in Amsterdam, past the digest's 09:00
    bot = start_bot(clock=clock, approvals_digest_at="09:00", approvals_digest_tz="Europe/Amsterdam")
    slack.lose_answer_next("chat.postMessage", mode="drop")

    with pytest.raises(PostOutcomeUnknown):
        bot.poll("digest")
    [stored] = slack.top_level_messages(APPROVALS_CHANNEL)
    assert stored.metadata == {"event_type": "daily_digest", "event_payload": {"day": "2026-01-12"}}
    assert bot.poll("digest") == 0

    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 1
    assert bot.poll("digest") == 0
    assert len(top_level(slack, APPROVALS_CHANNEL)) == 1


# -- kill -9 in the middle of a post --------------------------------------------------------------------


class KilledMidPost:
    """A bot process (replica-a on a SQLite file, notifier on, real time) to be killed with -9 while
    Slack holds one of its posts, then started again as the same replica. Entering starts it; every
    process it started is stopped on the way out."""

    def __init__(
        self, make_settings: Callable[..., Settings], slack: SlackEmulator, workdir: Path, **settings: Any
    ) -> None:
        slack.clock = time.time  # real processes: real time
        self.database = workdir / "bot.db"
        self.settings = make_settings(
            port=free_port(),
            replica_id="replica-a",
            notifier_enabled=True,
            database_url=f"sqlite:///{self.database}",
            **settings,
        )
        self._slack = slack
        self._workdir = workdir
        self.replicas: list[Replica] = []

    def __enter__(self) -> KilledMidPost:
        self.replicas.append(Replica(self.settings, self._workdir / "first"))
        return self

    def __exit__(self, *_: object) -> None:
        for replica in self.replicas:
            replica.stop()

    def kill_once_held(self, what: str) -> None:
        wait_for(lambda: self._slack.held == 1, timeout=60, what=what)
        self.replicas[0].kill()

    def restart(self) -> None:
        self.replicas.append(Replica(self.settings, self._workdir / "second"))

    def row(self, sql: str, *params: str) -> tuple[Any, ...] | None:
        """The first row ``sql`` reads from the bot's database file."""
        with closing(sqlite3.connect(self.database)) as conn:
            row: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
        return row


def test_a_card_cut_off_by_kill_9_mid_post_is_found_after_the_restart_and_never_posted_twice(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    commerce: CommerceEmulator,
    tmp_path: Path,
) -> None:
    bot = KilledMidPost(make_settings, slack, tmp_path, approvals_poll_seconds=1)
    approval_id = commerce.add_approval(ApprovalKind.ORDER)
    slack.lose_answer_next("chat.postMessage", mode="hang")

    def card_row() -> tuple[Any, ...] | None:
        return bot.row("SELECT state, ts FROM approval_cards WHERE approval_id = ?", approval_id)

    with bot:
        bot.kill_once_held("the card's post to be held by Slack")
        [stored] = slack.top_level_messages(APPROVALS_CHANNEL)
        assert card_row() == ("posting", None)

        bot.restart()  # the same replica, restarted
        # Found within RECONCILE_AFTER of the post plus a round (the restart made the old owner dead).
        wait_for(
            lambda: card_row() == ("pending", stored.ts),
            timeout=60,
            what="the restarted bot to find the card",
        )
        assert [c["channel"] for c in lookups(slack)] == [APPROVALS_CHANNEL]
        commerce.decide_elsewhere(approval_id, ApprovalState.APPROVED)
        wait_for(
            lambda: [u["ts"] for u in slack.calls("chat.update")] == [stored.ts],
            timeout=30,
            what="the one card to be closed",
        )
        assert len(cards_for(slack, approval_id)) == 1


def test_a_batch_card_cut_off_by_kill_9_mid_post_is_found_after_the_restart_and_never_posted_twice(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    bol: BolEmulator,
    tmp_path: Path,
) -> None:
    bot = KilledMidPost(make_settings, slack, tmp_path, api_tokens=API_CALLERS)
    ids = bol.add_processes(3)
    slack.lose_answer_next("chat.postMessage", mode="hang")
    with bot:
        bot.replicas[0].wait_until_listening()
        answer = httpx.post(
            bot.replicas[0].url + WATCHES,
            json={"ids": ids, "channel": BATCH_CHANNEL},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        batch_id = answer.json()["batch_id"]
        bot.kill_once_held("the batch card's post to be held by Slack")
        [stored] = slack.top_level_messages(BATCH_CHANNEL)

        bot.restart()
        wait_for(
            lambda: (
                bot.row("SELECT card_ts FROM process_batches WHERE batch_id = ?", batch_id) == (stored.ts,)
            ),
            timeout=60,
            what="the restarted bot to find the batch card",
        )
        assert len(top_level(slack, BATCH_CHANNEL)) == 1


def test_a_watch_message_cut_off_by_kill_9_mid_post_is_found_after_the_restart_and_never_repeated(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    bol: BolEmulator,
    tmp_path: Path,
) -> None:
    bot = KilledMidPost(make_settings, slack, tmp_path, process_status_poll_seconds=1)
    process_id = bol.add_process()
    with bot:
        bot.replicas[0].wait_until_listening()
        sender = SlackRequestSender(bot.replicas[0].url, SIGNING_SECRET)
        run_command(
            sender, slack, "/process-status", f"watch {process_id}", user=APPROVER, channel=BATCH_CHANNEL
        )
        slack.lose_answer_next("chat.postMessage", mode="hang")
        bol.set_status(process_id, "FAILURE", error_message="nope")
        bot.kill_once_held("the watch message's post to be held by Slack")
        [stored] = slack.top_level_messages(BATCH_CHANNEL)

        bot.restart()
        wait_for(
            lambda: (
                bot.row("SELECT reply_ts FROM batch_processes WHERE process_status_id = ?", process_id)
                == (stored.ts,)
            ),
            timeout=60,
            what="the restarted bot to find the watch message",
        )
        assert len(top_level(slack, BATCH_CHANNEL)) == 1


def test_a_watch_finished_by_a_replica_killed_before_its_post_is_still_announced_once(
    make_settings: Callable[..., Settings],
    slack: SlackEmulator,
    bol: BolEmulator,
    tmp_path: Path,
    fresh_postgres_url: str,
) -> None:
    """The replica dies after its round found the process finished and before anything was posted,
    while the database is slow (here: a lock on the post attempts). What it finished is announced after
    the restart, once: finishing a watch and recording its post attempt are one transaction."""
    settings = make_settings(
        port=free_port(),
        notifier_enabled=True,
        process_status_poll_seconds=0.5,
        database_url=fresh_postgres_url,
    )
    process_id = bol.add_process()
    plain_url = fresh_postgres_url.replace("postgresql+psycopg", "postgresql")
    replicas = [Replica(settings, tmp_path / "first")]
    try:
        replicas[0].wait_until_listening()
        sender = SlackRequestSender(replicas[0].url, SIGNING_SECRET)
        run_command(
            sender, slack, "/process-status", f"watch {process_id}", user=APPROVER, channel=BATCH_CHANNEL
        )
        with psycopg.connect(plain_url) as lock, psycopg.connect(plain_url, autocommit=True) as watcher:
            lock.execute("LOCK TABLE post_attempts IN ACCESS EXCLUSIVE MODE")
            bol.set_status(process_id, "FAILURE", error_message="nope")
            waiting_write = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query NOT ILIKE 'SELECT%%'"
            )
            wait_for(
                lambda: watcher.execute(waiting_write).fetchone() == (1,),
                what="the round's write to wait for the post attempts",
            )
            replicas[0].kill()
            lock.rollback()
        replicas.append(Replica(settings, tmp_path / "second"))
        wait_for(lambda: top_level(slack, BATCH_CHANNEL), timeout=60, what="the announcement, restarted")
        rounds = replicas[1].polls("process_status")
        wait_for(lambda: replicas[1].polls("process_status") >= rounds + 2, what="two more rounds")
        assert len(top_level(slack, BATCH_CHANNEL)) == 1
    finally:
        for replica in replicas:
            replica.stop()


def test_watches_ending_together_are_each_posted_released_or_left_to_the_reconciler_on_their_own(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, bol: BolEmulator, clock: ManualClock
) -> None:
    """Ended watches of a round are finished in one transaction and recorded in one: a post Slack
    refuses and one with no answer in the same group change nothing for the others."""
    bot = start_bot(clock=clock)
    channels = {"posted": "C_POSTED", "refused": "C_REFUSED", "unanswered": "C_UNANSWERED"}
    ids = {case: bol.add_process() for case in channels}
    for case, channel in channels.items():
        bot.call(bot.runtime.store.add_watch(ids[case], channel, APPROVER))
        bol.set_status(ids[case], "SUCCESS")

    def posting_in(channel: str) -> Callable[[RecordedRequest], bool]:
        return lambda r: r.path.endswith("chat.postMessage") and r.json().get("channel") == channel

    slack.fail_next(
        1, Response(body={"ok": False, "error": "invalid_blocks"}), when=posting_in(channels["refused"])
    )
    slack.fail_next(1, Response(withhold="drop"), when=posting_in(channels["unanswered"]))

    assert bot.poll_processes() == 1
    [posted] = slack.top_level_messages(channels["posted"])
    watch = bot.call(get_watch(bot.runtime.store, ids["posted"], channels["posted"]))
    assert watch is not None and watch.message_ts == posted.ts
    kind = "process_status"
    assert bot.call(post_attempt(bot.runtime.store, kind, watch.batch_id or "")) is None
    refused = bot.call(get_watch(bot.runtime.store, ids["refused"], channels["refused"]))
    assert refused is not None and refused.finished_at is None  # released: active again
    unanswered = bot.call(get_watch(bot.runtime.store, ids["unanswered"], channels["unanswered"]))
    assert unanswered is not None and unanswered.finished_at is not None
    attempt = bot.call(post_attempt(bot.runtime.store, kind, unanswered.batch_id or ""))
    assert attempt is not None and attempt.state is PostState.UNKNOWN

    assert bot.poll_processes() == 1  # the refused one, once
    assert len(slack.top_level_messages(channels["refused"])) == 1
    clock.advance(SETTLED)
    assert bot.poll("reconcile_posts") == 0  # not in Slack: released
    assert bot.poll_processes() == 1
    assert [len(slack.top_level_messages(c)) for c in channels.values()] == [1, 1, 1]
