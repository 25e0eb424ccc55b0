"""``/process-status <id>|watch|unwatch|entity|follow|unfollow|batches|help``."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.background import BackgroundWork
from bot.bol.client import BolClient
from bot.bol.errors import BolError, BolUnavailable
from bot.clock import utcnow
from bot.metrics import Metrics
from bot.slack.inbound.listeners.replies import ack_command_then, ack_with, reply, reply_unexpected
from bot.slack.inbound.parsing.common import ShowHelp
from bot.slack.inbound.parsing.process_status import (
    FollowEntity,
    ListBatches,
    ProcessesByEntity,
    ProcessStatusCommand,
    ShowProcess,
    UnfollowEntity,
    UnwatchProcess,
    WatchProcess,
    parse_process_status_command,
)
from bot.slack.outbound.blocks.batch_card import batch_list
from bot.slack.outbound.blocks.help import error_message, process_status_help
from bot.slack.outbound.blocks.process_status import (
    follow_confirmation,
    process_status_list,
    process_status_message,
    watch_confirmation,
)
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.responses import Respond, ResponseUrls
from bot.slack_ids import CHANNEL_ID
from bot.storage.store import Store


def unknown_process(process_status_id: str) -> Message:
    return error_message(
        f"bol.com has no process status `{process_status_id}` (it never existed or has been purged)."
    )


class ProcessStatusCommandListener:
    def __init__(
        self,
        bol: BolClient,
        store: Store,
        metrics: Metrics,
        *,
        default_channel: str,
        work: BackgroundWork,
        responses: ResponseUrls,
    ) -> None:
        self._bol = bol
        self._store = store
        self._metrics = metrics
        self._default_channel = default_channel
        self._work = work
        self._responses = responses

    async def handle(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        """Help and input errors are answered in the ack; everything else after it, in the background."""
        parsed = parse_process_status_command(command.get("text") or "")
        self._metrics.commands.labels("/process-status", type(parsed).__name__).inc()
        if isinstance(parsed, ShowHelp):
            await ack_with(ack, process_status_help(parsed.error))
            return
        respond = self._responses.to(command.get("response_url"))
        job = self._answer_and_reply(parsed, command, respond)
        await ack_command_then(ack, self._work, job, "/process-status")

    async def _answer_and_reply(
        self, parsed: ProcessStatusCommand, command: dict[str, Any], respond: Respond
    ) -> None:
        try:
            message = await self._answer(parsed, command)
        except BolUnavailable as error:  # its message names bol.com and what went wrong
            message = error_message(f"{error.message}; try again shortly.")
        except BolError as error:
            message = error_message(f"bol.com could not answer: {error.message}")
        except Exception:
            await reply_unexpected(respond, "/process-status")
            return
        await reply(respond, message)

    def _watch_channel(self, command: dict[str, Any]) -> str:
        """Watches post where they were asked for; DMs and unknown places use PROCESS_STATUS_CHANNEL."""
        channel = str(command.get("channel_id") or "")
        if CHANNEL_ID.fullmatch(channel):
            return channel
        return self._default_channel

    async def _answer(self, parsed: ProcessStatusCommand, command: dict[str, Any]) -> Message:
        match parsed:
            case ShowProcess(process_status_id=process_id):
                status = await self._bol.get_process_status(process_id)
                return process_status_message(status) if status else unknown_process(process_id)
            case WatchProcess(process_status_id=process_id):
                status = await self._bol.get_process_status(process_id)
                if status is None:
                    return unknown_process(process_id)
                channel = self._watch_channel(command)
                if not await self._store.add_watch(process_id, channel, str(command.get("user_id", ""))):
                    return error_message(f"`{process_id}` is already being watched in <#{channel}>.")
                return watch_confirmation(process_id, channel, status)
            case UnwatchProcess(process_status_id=process_id):
                channels = dict.fromkeys([self._watch_channel(command), self._default_channel])
                for channel in channels:
                    if await self._store.remove_watch(process_id, channel):
                        return (f"Stopped watching `{process_id}` in <#{channel}>.", [])
                return error_message(f"`{process_id}` is not being watched here.")
            case ProcessesByEntity(entity_id=entity_id, event_type=event_type, page=page):
                statuses = await self._bol.get_by_entity(entity_id, event_type, page)
                return process_status_list(statuses, entity_id=entity_id, event_type=event_type, page=page)
            case FollowEntity(entity_id=entity_id, event_type=event_type):
                channel = self._watch_channel(command)
                user = str(command.get("user_id", ""))
                if not await self._store.add_follow(entity_id, event_type, channel, user):
                    return error_message(f"`{entity_id}` {event_type} is already followed in <#{channel}>.")
                return follow_confirmation(entity_id, event_type, channel)
            case UnfollowEntity(entity_id=entity_id, event_type=event_type):
                for channel in dict.fromkeys([self._watch_channel(command), self._default_channel]):
                    if await self._store.remove_follow(entity_id, event_type, channel):
                        return (f"Stopped following `{entity_id}` {event_type} in <#{channel}>.", [])
                return error_message(f"`{entity_id}` {event_type} is not followed here.")
            case ListBatches():
                return batch_list(await self._store.recent_batches(), now=utcnow())
            case ShowHelp(error=error):  # answered in the ack; kept for completeness
                return process_status_help(error)
