"""Which approvers are not linked to a Commerce user, and what that costs: for ``check`` and the start log.

With ``DECIDE_AS=bot`` Commerce sees only the service account, so the bot knows who an approver is in
Commerce only through their link: an unlinked approver's own request (say, from their second Slack
account's Commerce user) cannot be told from anyone else's, and self-approval goes unseen. Invariant:
these warnings name every approver (groups expanded, read now) without a link, per consequence:
unseen self-approval (``DECIDE_AS=bot``), refused (``DECIDE_AS=linked-user`` or
``REQUIRE_LINKED_APPROVERS``), and no vote on a route that needs two or more approvals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.services.identity import DecideAs, IdentityPolicy
from bot.services.ports import ApproverDirectory
from bot.services.routing import Routes
from bot.storage.records import IdentityLink


class LinkList(Protocol):
    async def identity_links(self) -> list[IdentityLink]: ...


async def link_warnings(
    routes: Routes,
    approvers: ApproverDirectory,
    store: LinkList,
    policy: IdentityPolicy,
    *,
    read_groups: bool = True,
) -> list[str]:
    """One sentence per consequence of unlinked approvers; ``[]`` when every approver is linked.
    Without ``read_groups`` (at start: no call to the chat) user groups are named, not expanded."""
    linked = {link.slack_user_id for link in await store.identity_links()}
    everyone: set[str] = set()
    voting: list[str] = []
    unread: set[str] = set()
    for route in routes.every_route:
        members = await approvers.members(route.approvers, read_groups=read_groups)
        if not read_groups:
            unread.update(approvers.groups(route.approvers))
        everyone |= members
        unlinked = members - linked
        if route.required_approvals > 1 and unlinked:
            voting.append(
                f"route {route.name} needs {route.required_approvals} approvals and counts only linked "
                f"approvers' votes; not linked there: {_names(unlinked)}"
            )
    groups = (
        [f"members of user groups {_names(unread)} are not looked up here: approvals-bot check names them"]
        if unread
        else []
    )
    unlinked = everyone - linked
    if not unlinked:
        return [*voting, *groups]
    return [_unlinked_sentence(unlinked, policy), *voting, *groups]


def _unlinked_sentence(unlinked: Iterable[str], policy: IdentityPolicy) -> str:
    names = _names(unlinked)
    if policy.require_linked:
        return f"REQUIRE_LINKED_APPROVERS=true: these approvers are refused until linked: {names}"
    if policy.decide_as is DecideAs.LINKED_USER:
        return f"DECIDE_AS=linked-user: these approvers cannot decide until linked: {names}"
    return (
        f"approvers not linked to a Commerce user: {names}. With DECIDE_AS=bot the bot cannot detect "
        "when they approve their own request (self-approval); link them (approvals-bot approvers link) "
        "or set REQUIRE_LINKED_APPROVERS=true"
    )


def _names(users: Iterable[str]) -> str:
    return ", ".join(sorted(users))
