"""Keeps posted approval cards true: replaces a card's content and records its new state."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack.poster import SlackPoster
from bot.storage.records import CardState
from bot.storage.store import Store

log = logging.getLogger(__name__)


class CardUpdater:
    def __init__(self, store: Store, poster: SlackPoster) -> None:
        self._store = store
        self._poster = poster

    async def replace(
        self,
        approval_id: str,
        state: CardState,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        also: tuple[str | None, str | None] = (None, None),
        only_if_open: bool = False,
    ) -> bool:
        """Moves the stored card to ``state`` and rewrites it (and the ``also`` message, if any) in Slack.

        With ``only_if_open`` the card changes only if it is still PENDING (the notifier must never
        overwrite a decision recorded from Slack). Returns whether anything was changed.
        """
        card = await self._store.get_card(approval_id)
        targets: list[tuple[str, str]] = []
        if card is not None:
            if only_if_open:
                if not await self._store.transition_card(approval_id, CardState.PENDING, state):
                    return False
            else:
                await self._store.set_card_state(approval_id, state)
            if card.channel and card.ts:
                targets.append((card.channel, card.ts))
        elif only_if_open:
            return False
        channel, ts = also
        if channel and ts and (channel, ts) not in targets:
            targets.append((channel, ts))
        for target_channel, target_ts in targets:
            try:
                await self._poster.update(target_channel, target_ts, text, blocks)
            except SlackApiError as error:
                log.warning(
                    "could not update card for approval %s in %s: %s",
                    approval_id,
                    target_channel,
                    error.response.get("error"),
                )
        return bool(targets)
