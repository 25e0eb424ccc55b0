"""The sandbox page's HTML of what the Slack emulator holds: channels with threads, ephemeral messages,
the App Home and modals. Message content goes through ``blockkit_html``, which escapes every text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from bot.sandbox import blockkit_html
from bot.sandbox.slack import SlackEmulator, StoredMessage


@dataclass
class Ephemeral:
    """A message only ``user`` sees: a ``chat.postEphemeral``, a ``response_url`` answer or an ack."""

    number: int
    user: str
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    deleted: bool = False


class PageHtml:
    def __init__(self, slack: SlackEmulator, names: Mapping[str, str]) -> None:
        self._slack = slack
        self._names = names

    def channel(self, channel: str, ephemerals: list[Ephemeral]) -> str:
        """The channel's conversations (each message with its thread), then ``ephemerals`` in it."""
        parts = [
            f'<div class="conversation">{self._message_html(message, "message")}'
            f"{self._thread_html(channel, message.ts)}</div>"
            for message in self._slack.top_level_messages(channel)
        ]
        parts += [self._ephemeral_html(e) for e in ephemerals if e.channel == channel and not e.deleted]
        if not parts:
            parts.append('<p class="empty">No messages yet: the bot polls every few seconds.</p>')
        return "".join(parts)

    def _thread_html(self, channel: str, ts: str) -> str:
        replies = self._slack.thread_replies(channel, ts)
        if not replies:
            return ""
        count = f"{len(replies)} {'reply' if len(replies) == 1 else 'replies'}"
        thread = "".join(self._message_html(reply, "reply") for reply in replies)
        return f'<div class="thread"><div class="thread-head">{count}</div>{thread}</div>'

    def _ephemeral_html(self, ephemeral: Ephemeral) -> str:
        return (
            f'<div class="ephemeral" data-channel="{escape(ephemeral.channel)}" '
            f'data-ephemeral="{ephemeral.number}"><div class="meta"><b>Approvals bot</b> '
            '<span class="only-you">Only visible to you</span></div>'
            f"{blockkit_html.blocks(ephemeral.blocks, self._names, ephemeral.text)}</div>"
        )

    def _message_html(self, message: StoredMessage, kind: str) -> str:
        at = datetime.fromtimestamp(float(message.ts), UTC).strftime("%H:%M:%S")
        edited = ' <span class="edited">(edited)</span>' if len(message.history) > 1 else ""
        return (
            f'<div class="{kind}" data-channel="{escape(message.channel)}" data-ts="{escape(message.ts)}">'
            f'<div class="meta"><b>Approvals bot</b> <span class="app">APP</span> '
            f'<span class="time">{at} UTC</span>{edited}</div>'
            f"{blockkit_html.blocks(message.blocks, self._names, message.text)}</div>"
        )

    def home(self, user: str) -> str:
        view = self._slack.home_view(user)
        if view is None:
            return '<p class="empty">Opening the App Home...</p>'
        return (
            f'<div class="home" data-view-id="{escape(str(view.get("id")))}">'
            + blockkit_html.blocks(view.get("blocks"), self._names)
            + "</div>"
        )

    def modal(self, view: dict[str, Any]) -> str:
        title = blockkit_html.text_object(view.get("title"), self._names)
        close = blockkit_html.text_object(view.get("close"), self._names) or "Cancel"
        # As in Slack, a modal without a ``submit`` (the Details window) has no Submit button.
        submit = (
            f'<button type="submit" class="button primary">'
            f"{blockkit_html.text_object(view['submit'], self._names)}</button>"
            if view.get("submit")
            else ""
        )
        return (
            f'<form class="modal" data-view-id="{escape(str(view.get("id")))}">'
            f"<h2>{title}</h2>{blockkit_html.blocks(view.get('blocks'), self._names)}"
            f'<div class="modal-buttons"><button type="button" class="button" data-close>{close}</button>'
            f"{submit}</div></form>"
        )
