"""Who may approve: Slack user ids and user-group ids from APPROVERS or a route. Empty means nobody.

``SlackApproverDirectory`` answers for one list and fails closed (a group it cannot read has no
approvers in it); ``RoutedApproverDirectory`` is the Slack implementation of the core's
``ApproverDirectory``: one such list per route.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.outbound.poster import slack_error_code

log = logging.getLogger(__name__)

GROUP_PREFIX = "S"


class SlackApproverDirectory:
    def __init__(self, client: AsyncWebClient, entries: list[str], *, cache_seconds: float = 300.0) -> None:
        self._client = client
        self._users = {e for e in entries if not e.startswith(GROUP_PREFIX)}
        self._groups = [e for e in entries if e.startswith(GROUP_PREFIX)]
        self._cache_seconds = cache_seconds
        self._group_members: set[str] = set()
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._users or self._groups)

    async def is_approver(self, user_id: str) -> bool:
        return await self.includes(user_id)

    async def confirms(self, user_id: str) -> bool:
        """Like ``is_approver``, but a group member is checked against Slack now, not the cache: a
        member removed from an approver group can no longer decide from that moment."""
        if user_id in self._users or not self._groups:
            return user_id in self._users
        async with self._lock:
            self._loaded_at = None  # the next read goes to Slack
        return user_id in await self._members_of_groups()

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self._groups)

    async def members(self, *, read_groups: bool = True) -> set[str]:
        """Every user listed or in a listed group, read from Slack now (a group it cannot read adds
        nobody); without ``read_groups`` only the users listed by id (no call to Slack)."""
        if not self._groups or not read_groups:
            return set(self._users)
        async with self._lock:
            self._loaded_at = None
        return self._users | await self._members_of_groups()

    async def includes(self, user_id: str) -> bool:
        """Whether ``user_id`` is listed, or in a listed group (a group Slack will not show: no)."""
        if user_id in self._users:
            return True
        if not self._groups:
            return False
        return user_id in await self._members_of_groups()

    async def _members_of_groups(self) -> set[str]:
        async with self._lock:
            fresh = self._loaded_at is not None and time.monotonic() - self._loaded_at < self._cache_seconds
            if not fresh:
                members: set[str] = set()
                complete = True
                for group in self._groups:
                    try:
                        response = await self._client.usergroups_users_list(usergroup=group)
                    except SlackApiError as error:
                        # Fail closed: members of a group we cannot read are not approvers.
                        log.warning("cannot read user group %s: %s", group, slack_error_code(error))
                        complete = False
                        continue
                    users: list[str] = response.get("users") or []
                    members.update(str(u) for u in users)
                self._group_members = members
                # A failed lookup is not cached: the next click asks Slack again.
                self._loaded_at = time.monotonic() if complete else None
            return self._group_members


class RoutedApproverDirectory:
    """``APPROVERS``, and the approvers a route names instead for the approvals it matches.

    The Slack implementation of the core's ``ApproverDirectory``: one ``SlackApproverDirectory`` per
    distinct list, each failing closed and caching its groups on its own. ``approvers=None`` asks about
    ``APPROVERS``; a list is exactly that list (``APPROVERS`` does not add to it).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        default: list[str],
        route_approvers: Iterable[Sequence[str]] = (),
        *,
        cache_seconds: float = 300.0,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self.default = SlackApproverDirectory(client, default, cache_seconds=cache_seconds)
        self._lists: dict[tuple[str, ...], SlackApproverDirectory] = {}
        for entries in route_approvers:
            self._directory(entries)

    def _directory(self, approvers: Sequence[str] | None) -> SlackApproverDirectory:
        if approvers is None:
            return self.default
        key = tuple(approvers)
        if key not in self._lists:
            self._lists[key] = SlackApproverDirectory(
                self._client, list(key), cache_seconds=self._cache_seconds
            )
        return self._lists[key]

    @property
    def configured(self) -> bool:
        return self.default.configured or any(d.configured for d in self._lists.values())

    async def is_approver(self, user_id: str, approvers: Sequence[str] | None = None) -> bool:
        return await self._directory(approvers).is_approver(user_id)

    async def confirms(self, user_id: str, approvers: Sequence[str] | None = None) -> bool:
        return await self._directory(approvers).confirms(user_id)

    async def members(self, approvers: Sequence[str] | None = None, *, read_groups: bool = True) -> set[str]:
        return await self._directory(approvers).members(read_groups=read_groups)

    def groups(self, approvers: Sequence[str] | None = None) -> tuple[str, ...]:
        return self._directory(approvers).groups

    async def is_any_approver(self, user_id: str) -> bool:
        """Whether ``user_id`` may decide some approvals: in ``APPROVERS`` or in a route's approvers."""
        for directory in (self.default, *self._lists.values()):
            if await directory.includes(user_id):
                return True
        return False

    async def includes(self, user_id: str) -> bool:
        """The same as ``is_any_approver`` (viewers: every approver may view)."""
        return await self.is_any_approver(user_id)
