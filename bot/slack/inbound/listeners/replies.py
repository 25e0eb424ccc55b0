"""How listeners answer: ephemeral by default, and never a stack trace."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.slack.outbound.blocks.help import error_message
from bot.slack.outbound.blocks.types import Message

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


async def reply(respond: Respond, message: Message, *, replace_original: bool = False) -> None:
    text, blocks = message
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace_original)


async def reply_unexpected(respond: Respond, what: str) -> None:
    """Logs the current exception under a short reference the user can quote."""
    reference = uuid.uuid4().hex[:8]
    log.exception("unexpected error while handling %s (ref %s)", what, reference)
    try:
        await reply(respond, error_message(f"Something went wrong while handling {what} (ref {reference})."))
    except Exception:
        log.exception("could not tell the user about error %s", reference)
