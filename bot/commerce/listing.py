"""Every approval of a listing, one page at a time, and whether the listing was read to its end.

A listing is complete only when Commerce said its last page was sent; a page repeated (nothing new on
it), an empty page before Commerce's own total, or more than ``MAX_PAGES`` pages stop it short, and an
incomplete listing proves nothing about approvals missing from it. Only the ids seen are kept (to
tell a repeated page), never the approvals of earlier pages.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.commerce.models import Approval, ApprovalKind, ApprovalPage, ApprovalQuery, ApprovalState

log = logging.getLogger(__name__)

MAX_PAGES = 1000
"""Safety cap against a server that never ends a listing; a listing cut there is reported incomplete,
never taken as whole."""

ITER_ORDER_BY = "A-approvalStatusId"
"""Stable order for paging: new approvals are appended at the end instead of shifting pages."""


class ApprovalPages:
    """``async for page in ApprovalPages(...)``: the approvals of each page not seen on an earlier one,
    oldest id first; afterwards ``complete`` says whether the listing was read to its end."""

    def __init__(
        self,
        list_page: Callable[[ApprovalQuery], Awaitable[ApprovalPage]],
        kind: ApprovalKind | None,
        state: ApprovalState | None,
        *,
        page_size: int,
    ) -> None:
        self._list_page = list_page
        self._kind = kind
        self._state = state
        self._page_size = page_size
        self.complete = False

    async def __aiter__(self) -> AsyncIterator[list[Approval]]:
        self.complete = False
        seen: set[str] = set()
        for page_number in range(1, MAX_PAGES + 1):
            query = ApprovalQuery(
                kind=self._kind,
                state=self._state,
                page_number=page_number,
                page_size=self._page_size,
                order_by=ITER_ORDER_BY,
            )
            page = await self._list_page(query)
            fresh = list({a.id: a for a in page.items if a.id not in seen}.values())
            seen.update(a.id for a in fresh)
            if fresh:
                yield fresh
            if page.complete:
                self.complete = True
                return
            if not fresh:
                log.warning("Commerce sent page %d empty or again; the listing is incomplete", page_number)
                return
        log.warning("stopped listing approvals after %d pages; the listing is incomplete", MAX_PAGES)
