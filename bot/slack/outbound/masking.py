"""Secrets out of everything the bot sends to Slack: the last step before a message leaves.

Builders escape remote text but cannot know the bot's secrets; an upstream error that echoes one
(a password in Commerce's refusal) would reach users. The poster and the response URLs apply the
same mask as the logs to every string of a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Mask = Callable[[str], str]
"""Text in, the same text with every secret replaced, out."""


def no_mask(text: str) -> str:
    return text


def masked(value: Any, mask: Mask) -> Any:
    """``value`` (a string, or blocks: lists and dicts of them) with ``mask`` applied to every string."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [masked(item, mask) for item in value]
    if isinstance(value, dict):
        return {key: masked(item, mask) for key, item in value.items()}
    return value
