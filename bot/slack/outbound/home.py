"""Publishes each user's App Home: an approver's desk, or what the bot is for anyone else.

Published when the user opens the tab, pages through it, or decides something (``refresh``). What
cannot be read (Commerce down) is said on the tab instead of failing it; the page a user was on is
remembered in memory only (a restart shows page 1 again).

A decision refreshes only a Home this process has published: Slack sends ``app_home_opened`` each
time a user opens the tab, and that publishes it fresh, so a Home never opened here would be
rebuilt (a Commerce listing, two reads, a ``views.publish``) for nobody to see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError
from bot.commerce.models import Approval, ApprovalPage, ApprovalQuery, ApprovalState
from bot.slack.outbound.approvers import RoutedApproverDirectory
from bot.slack.outbound.blocks.command_text import NEWEST_FIRST
from bot.slack.outbound.blocks.home import HOME_PAGE_SIZE, approver_home, visitor_home
from bot.slack.outbound.blocks.types import Block
from bot.storage.records import AuditEntry, Watch

log = logging.getLogger(__name__)


class HomeStore(Protocol):
    """The store operations the App Home reads."""

    async def decisions_by(self, slack_user_id: str, limit: int) -> list[AuditEntry]: ...

    async def watches_started_by(self, slack_user_id: str, limit: int) -> list[Watch]: ...


LAST_DECISIONS = 10
WATCHES_SHOWN = 10


class AppHome:
    def __init__(
        self,
        client: AsyncWebClient,
        commerce: CommerceClient,
        store: HomeStore,
        approvers: RoutedApproverDirectory,
        approver_entries: Sequence[str],
        *,
        page_size: int = HOME_PAGE_SIZE,
        listing_user: Callable[[str], Awaitable[str | None]] | None = None,
        may_decide: Callable[[str, Approval], Awaitable[bool]] | None = None,
    ) -> None:
        """``listing_user``: the Commerce user id a Slack user's pending list is read as (run-as), if any.
        ``may_decide``: whether a user may decide an approval (its route's approvers); the Home lists
        only those (``None``: every approver may decide every approval)."""
        self._client = client
        self._commerce = commerce
        self._store = store
        self._approvers = approvers
        self._approver_entries = tuple(approver_entries)
        self._page_size = page_size
        self._pages: dict[str, int] = {}
        self._listing_user = listing_user
        self._may_decide = may_decide
        self._published: set[str] = set()
        """Users whose Home this process has published (opened, paged, or answered on)."""
        self._refreshing: set[str] = set()
        self._stale: set[str] = set()
        """Users whose Home is being refreshed, and those of them asked for again meanwhile."""

    async def publish(self, user_id: str, *, page: int | None = None, notice: str | None = None) -> None:
        """Publishes ``user_id``'s Home, on ``page`` (else the page they were on), with ``notice`` on top."""
        watches = await self._store.watches_started_by(user_id, WATCHES_SHOWN)
        if not await self._approvers.is_any_approver(user_id):
            view = visitor_home(self._approver_entries, watches)
        else:
            page_number = max(1, page or self._pages.get(user_id, 1))
            self._pages[user_id] = page_number
            pending, hidden = await self._theirs(await self._pending(page_number, user_id), user_id)
            view = approver_home(
                pending,
                hidden=hidden,
                page_number=page_number,
                page_size=self._page_size,
                decisions=await self._store.decisions_by(user_id, LAST_DECISIONS),
                watches=watches,
                notice=notice,
            )
        await self._client.views_publish(user_id=user_id, view=view)
        self._published.add(user_id)

    async def tell(self, user_id: str, text: str, blocks: list[Block]) -> None:
        """Sends ``user_id`` a direct message from the bot (e.g. a selection's summary), then refreshes
        their Home; a message Slack refuses is logged."""
        try:
            await self._client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
        except SlackApiError as error:
            log.warning("could not send %s a summary: %s", user_id, error.response.get("error"))
        await self.refresh(user_id)

    def in_view(self, user_id: str) -> None:
        """The user is looking at their Home (a click came from it): their decisions refresh it, also
        on a replica that has not published it yet."""
        self._published.add(user_id)

    async def refresh(self, user_id: str) -> None:
        """Republishes the Home as the user last saw it (after they decided something).

        Refreshes asked for while one runs for the same user fold into one more after it: a burst of
        decisions publishes a Home twice, not once per decision, and the last publish reads them all.
        A Home this process never published is left alone: opening it publishes it fresh.
        """
        if user_id not in self._published:
            return
        if user_id in self._refreshing:
            self._stale.add(user_id)
            return
        self._refreshing.add(user_id)
        try:
            await self.publish(user_id)
            while user_id in self._stale:
                self._stale.discard(user_id)
                await self.publish(user_id)
        finally:
            self._refreshing.discard(user_id)
            self._stale.discard(user_id)

    async def _theirs(self, page: ApprovalPage | None, user_id: str) -> tuple[ApprovalPage | None, int]:
        """``page`` with only the approvals ``user_id`` may decide, and how many others it held. The
        page's approvals are asked about together (a route may need its order read: a page of 25
        waits for one read's time, not 25)."""
        if page is None or self._may_decide is None:
            return page, 0
        may_decide = self._may_decide
        allowed = await asyncio.gather(*(may_decide(user_id, approval) for approval in page.items))
        kept = [approval for approval, yes in zip(page.items, allowed, strict=True) if yes]
        return replace(page, items=kept), len(page.items) - len(kept)

    async def _pending(self, page_number: int, user_id: str) -> ApprovalPage | None:
        query = ApprovalQuery(
            kind=None,
            state=ApprovalState.PENDING,
            page_number=page_number,
            page_size=self._page_size,
            order_by=NEWEST_FIRST,
        )
        try:
            for_user_id = await self._listing_user(user_id) if self._listing_user else None
            return await self._commerce.list_approvals(query, for_user_id=for_user_id)
        except CommerceError as error:
            log.warning("App Home without pending approvals: %s", error.message)
            return None
