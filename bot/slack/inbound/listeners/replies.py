"""How listeners answer: ack at once, work in the background, ephemeral answers, never a stack trace."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Coroutine
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from bot.background import BUSY_MESSAGE, BackgroundWork
from bot.slack.outbound.blocks.help import error_message
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.responses import Respond
from bot.storage.time_limit import StoreUnavailable

log = logging.getLogger(__name__)


async def reply(respond: Respond, message: Message, *, replace_original: bool = False) -> None:
    text, blocks = message
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)


async def ack_with(ack: AsyncAck, message: Message) -> None:
    """Answers in the ack itself (slash commands): no ``response_url`` round trip."""
    text, blocks = message
    await ack(text=text, blocks=blocks, response_type="ephemeral")


async def ack_command_then(
    ack: AsyncAck, work: BackgroundWork, job: Coroutine[Any, Any, None], name: str
) -> None:
    """Acks a slash command at once and runs ``job`` in the background; a full bot says it is busy."""
    if work.start(job, name=name):
        await ack()
    else:
        await ack_with(ack, error_message(BUSY_MESSAGE))


async def ack_action_then(
    ack: AsyncAck, work: BackgroundWork, job: Coroutine[Any, Any, None], name: str, respond: Respond
) -> None:
    """Acks a button click at once and runs ``job`` in the background; a full bot says it is busy."""
    await ack()
    if not work.start(job, name=name):
        await reply(respond, error_message(BUSY_MESSAGE))


def _database_failure(error: BaseException | None) -> DBAPIError | SQLAlchemyTimeoutError | None:
    """The store's failure behind ``error`` (the driver's error, a full pool), if that is the cause."""
    while error is not None:
        if isinstance(error, DBAPIError | SQLAlchemyTimeoutError):
            return error
        error = error.__cause__ or error.__context__
    return None


async def reply_unexpected(respond: Respond, what: str) -> None:
    """Logs the current exception under a short reference the user can quote; says when the bot's
    own database is what failed. A database that did not answer in time is no bug: one WARNING line
    and a plain answer."""
    reference = uuid.uuid4().hex[:8]
    error = sys.exc_info()[1]
    failure = _database_failure(error)
    if isinstance(error, StoreUnavailable):
        log.warning("%s while handling %s (ref %s)", error, what, reference)
        text = f"The bot's database did not answer in time, so {what} failed. Try again in a minute."
    elif failure is not None:
        log.exception("unexpected error while handling %s (ref %s)", what, reference)
        cause = type(failure.orig if isinstance(failure, DBAPIError) else failure).__name__
        text = (
            f"The bot's own database failed ({cause}) while handling {what}; nothing was sent to "
            f"Commerce. Try again shortly (ref {reference})."
        )
    else:
        log.exception("unexpected error while handling %s (ref %s)", what, reference)
        text = f"Something went wrong while handling {what} (ref {reference})."
    try:
        await reply(respond, error_message(text))
    except Exception:
        log.exception("could not tell the user about error %s", reference)
