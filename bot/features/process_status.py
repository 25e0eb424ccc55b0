"""bol.com process status: single watches, batches with live cards (their thread replies and
summaries), followed entities, and ``/process-status``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.features.parts import Contribution, Parts
from bot.notifier.batch_cards import BatchCards
from bot.notifier.entity_follows import EntityFollowNotifier
from bot.notifier.process_batches import BatchProgress
from bot.notifier.process_status import ProcessStatusNotifier
from bot.slack.inbound.listeners.commands.process_status import ProcessStatusCommandListener


def contribute(parts: Parts) -> Contribution:
    settings = parts.settings
    batches = BatchProgress(
        parts.store,
        parts.poster,
        parts.metrics,
        clock=parts.clock,
        fallback_channel=settings.process_status_channel,
        failure_mention=settings.process_failure_mention,
        stuck_after=settings.process_stuck_after,
    )
    watches = ProcessStatusNotifier(
        parts.bol,
        parts.store,
        parts.poster,
        parts.metrics,
        fallback_channel=settings.process_status_channel,
        interval_seconds=settings.process_status_poll_seconds,
        batches=batches,
    )
    follows = EntityFollowNotifier(
        parts.bol,
        parts.store,
        parts.poster,
        parts.metrics,
        interval_seconds=settings.process_status_poll_seconds,
    )

    def listen(app: AsyncApp) -> None:
        command = ProcessStatusCommandListener(
            parts.bol,
            parts.store,
            parts.metrics,
            default_channel=settings.process_status_channel,
            work=parts.work,
            responses=parts.responses,
        )
        app.command("/process-status")(command.handle)

    return Contribution(
        pollers=(watches, BatchCards(batches), follows),
        announcers=(watches, batches, batches.replies, batches.summaries, follows),
        listeners=(listen,),
    )
