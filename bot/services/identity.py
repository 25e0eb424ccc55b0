"""Who a Slack user is in Commerce, and what that means for deciding: run-as, no self-approval.

A Slack user is linked to one Commerce user (logon id and the member id approvals carry as
``submitterId``/``approverId``) by an operator (``approvals-bot approvers link``), or, when
``AUTO_LINK_BY_EMAIL`` is on, at a decision by their confirmed e-mail address (its rules in
``bot.services.auto_link``). Invariants: a link is only stored for a logon id Commerce resolved to
exactly one user, and one Commerce user has at most one Slack user (a unique index); with
``DECIDE_AS=linked-user`` or ``REQUIRE_LINKED_APPROVERS`` nobody unlinked decides; with self-approval
off, nobody linked decides an approval they submitted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from bot.commerce.client import CommerceClient
from bot.commerce.models import Approval
from bot.services.auto_link import AutoLink, AutoLinkStore
from bot.services.ports import UserEmails, UserNotices
from bot.storage.identity_links import CommerceUserLinked
from bot.storage.records import IdentityLink

log = logging.getLogger(__name__)


class IdentityStore(AutoLinkStore, Protocol):
    """The store operations identity links use."""

    async def identity_links(self) -> list[IdentityLink]: ...

    async def unlink_identity(self, slack_user_id: str) -> IdentityLink | None: ...


LINK_HINT = (
    "Ask an operator of the bot to link you: "
    "`approvals-bot approvers link <your Slack user id> <your Commerce logon id>`."
)


class DecideAs(str, Enum):
    """Whose authority a decision is sent with. The values are what ``DECIDE_AS`` takes."""

    BOT = "bot"
    """The bot's service account, for everyone (Commerce records the service account)."""
    LINKED_USER = "linked-user"
    """The clicker's linked Commerce user, through ``forUserId`` on the service account's session."""


@dataclass(frozen=True)
class IdentityPolicy:
    decide_as: DecideAs = DecideAs.BOT
    allow_self_approval: bool = False
    service_logon_id: str = ""
    """The service account's logon id, named in the audit log when the bot decides as itself."""
    require_linked: bool = False
    """``REQUIRE_LINKED_APPROVERS``: an unlinked Slack user decides nothing, whatever ``decide_as``."""
    auto_link_domains: frozenset[str] = frozenset()
    """``AUTO_LINK_EMAIL_DOMAINS``, lower case: the only e-mail domains auto-link trusts."""


@dataclass(frozen=True)
class ActingAs:
    """The Commerce user a decision is sent as: ``user_id=None`` is the service account."""

    logon_id: str
    user_id: str | None = None

    @property
    def for_user_id(self) -> str | None:
        """The run-as parameter's value; ``None`` for the service account's own requests."""
        return self.user_id


@dataclass(frozen=True)
class Decider:
    """Who decides, resolved once per attempt: the clicker's link (if any) and who Commerce sees."""

    link: IdentityLink | None
    acting_as: ActingAs | None
    """``None``: nobody to act as (``DECIDE_AS=linked-user`` and unlinked), so nothing is sent."""


@dataclass(frozen=True)
class Whoami:
    """What ``/approvals whoami`` tells a Slack user."""

    slack_user_id: str
    link: IdentityLink | None
    is_approver: bool
    decide_as: DecideAs
    allow_self_approval: bool


class UnknownLogonId(Exception):
    """Commerce has no user with that logon id (or the service account may not see them)."""


class AmbiguousLogonId(Exception):
    """Commerce answered more than one user for one logon id."""


class LinkedElsewhere(Exception):
    """The Commerce user is already linked to another Slack user: one person, one Slack account (else
    one person could cast both votes of the two-person rule)."""

    def __init__(self, link: IdentityLink) -> None:
        self.link = link
        super().__init__(f"{link.commerce_logon_id} is already linked to {link.slack_user_id}")


class Identities:
    def __init__(
        self,
        store: IdentityStore,
        commerce: CommerceClient,
        policy: IdentityPolicy,
        *,
        emails: UserEmails | None = None,
        notices: UserNotices | None = None,
    ) -> None:
        """``emails`` set: an unlinked approver who decides is linked by e-mail (auto-link, see the
        module's invariant) and told so through ``notices``."""
        self._store = store
        self._commerce = commerce
        self._policy = policy
        self._notices = notices
        self._auto_link = (
            None
            if emails is None
            else AutoLink(store, commerce, emails, notices, domains=policy.auto_link_domains)
        )

    @property
    def notices(self) -> UserNotices | None:
        """Where users are told what concerns them alone (a new link, a dropped vote)."""
        return self._notices

    @property
    def policy(self) -> IdentityPolicy:
        return self._policy

    async def link_of(self, slack_user_id: str) -> IdentityLink | None:
        """The Slack user's link; ``None`` when unlinked (auto-link only happens at a decision)."""
        return await self._store.identity_link(slack_user_id)

    async def link(self, slack_user_id: str, logon_id: str) -> tuple[IdentityLink, IdentityLink | None]:
        """Links the Slack user to the Commerce user with ``logon_id`` (as Commerce spells it);
        the new link and the one it replaced. :class:`UnknownLogonId` / :class:`AmbiguousLogonId`
        when Commerce does not name exactly one user, :class:`LinkedElsewhere` when that user is
        linked to another Slack user; Commerce errors pass through."""
        people = await self._commerce.find_people(logon_id=logon_id)
        if not people:
            raise UnknownLogonId(logon_id)
        if len(people) > 1:
            raise AmbiguousLogonId(logon_id)
        person = people[0]
        other = await self._linked_elsewhere(person.user_id, slack_user_id)
        if other is not None:
            raise LinkedElsewhere(other)
        link = IdentityLink(slack_user_id, person.logon_id, person.user_id, linked_by="cli")
        try:
            replaced = await self._store.link_identity(link)
        except CommerceUserLinked as taken:  # linked meanwhile: the unique index decided
            raise LinkedElsewhere(taken.holder) from None
        return (await self._store.identity_link(slack_user_id)) or link, replaced

    async def _linked_elsewhere(self, commerce_user_id: str, slack_user_id: str) -> IdentityLink | None:
        """The link of another Slack user to ``commerce_user_id``, if there is one."""
        links = await self._store.identity_links_to(commerce_user_id)
        return next((link for link in links if link.slack_user_id != slack_user_id), None)

    async def unlink(self, slack_user_id: str) -> IdentityLink | None:
        """Removes the link; the link removed, ``None`` when there was none."""
        return await self._store.unlink_identity(slack_user_id)

    def acting_as(self, link: IdentityLink | None) -> ActingAs | None:
        """Who Commerce sees deciding: the linked user with ``DECIDE_AS=linked-user`` (``None`` when
        unlinked: nobody), else the bot's service account."""
        if self._policy.decide_as is not DecideAs.LINKED_USER:
            return ActingAs(self._policy.service_logon_id)
        return ActingAs(link.commerce_logon_id, link.commerce_user_id) if link is not None else None

    async def decider(self, slack_user_id: str, approval_id: str | None = None) -> Decider:
        """The Slack user's link and the Commerce user their decisions go out as. ``approval_id``: the
        approval they decide (an unlinked approver may then be auto-linked for it)."""
        link = await self._store.identity_link(slack_user_id)
        return await self.decider_linked(slack_user_id, link, approval_id)

    async def decider_linked(
        self, slack_user_id: str, link: IdentityLink | None, approval_id: str | None = None
    ) -> Decider:
        """As :meth:`decider`, given the user's link as the store just had it (``None``: unlinked,
        so linked now by e-mail if auto-link is on and they decide ``approval_id``)."""
        if link is None and approval_id is not None and self._auto_link is not None:
            link = await self._auto_link.link(slack_user_id, approval_id)
        return Decider(link, self.acting_as(link))

    async def listing_user_id(self, slack_user_id: str) -> str | None:
        """The Commerce user a per-person listing (App Home, ``/approvals list``) is read as: the linked
        user with ``DECIDE_AS=linked-user``; ``None`` (the service account) otherwise or when unlinked."""
        if self._policy.decide_as is not DecideAs.LINKED_USER:
            return None
        acting_as = self.acting_as(await self.link_of(slack_user_id))
        return acting_as.for_user_id if acting_as is not None else None

    @property
    def refuses_unlinked(self) -> bool:
        """Whether a user may be refused for want of a link (``DECIDE_AS=linked-user`` or
        ``REQUIRE_LINKED_APPROVERS``): only then must the link be read before a decision is claimed."""
        return self._policy.decide_as is DecideAs.LINKED_USER or self._policy.require_linked

    def unlinked_refusal(self, link: IdentityLink | None) -> str | None:
        """Why an unlinked user may not decide (only when :attr:`refuses_unlinked`), else ``None``."""
        if not self.refuses_unlinked or link is not None:
            return None
        if self._policy.decide_as is not DecideAs.LINKED_USER:
            return (
                "This bot only lets approvers linked to a Commerce user decide (so nobody can approve "
                "their own request unseen), and your Slack account is not linked, so nothing was sent. "
                f"{LINK_HINT}"
            )
        return (
            "This bot sends decisions to Commerce as the person who decides, and your Slack account is "
            f"not linked to a Commerce user, so nothing was sent. {LINK_HINT}"
        )

    @staticmethod
    def unlinked_vote_refusal(link: IdentityLink | None, needed: int) -> str | None:
        """Why an unlinked approver may not vote under the two-person rule (whose persons are counted
        by their Commerce users), else ``None``."""
        if link is not None:
            return None
        return (
            f"This request needs {needed} different approvers, and only approvers linked to a Commerce "
            "user may vote on it (two Slack accounts of one person must not count twice). Your Slack "
            f"account is not linked, so your vote was not counted. {LINK_HINT}"
        )

    def self_approval_refusal(self, link: IdentityLink | None, approval: Approval) -> str | None:
        """Why a linked user may not decide ``approval`` (they submitted it), else ``None``."""
        if self._policy.allow_self_approval or link is None or not approval.submitter_id:
            return None
        if link.commerce_user_id != approval.submitter_id:
            return None
        return (
            f"You submitted approval {approval.id} yourself (as {link.commerce_logon_id} in Commerce), "
            "so you cannot approve or reject it; another approver has to decide. Nothing was sent."
        )

    async def whoami(self, slack_user_id: str, *, is_approver: bool) -> Whoami:
        return Whoami(
            slack_user_id,
            await self.link_of(slack_user_id),
            is_approver,
            self._policy.decide_as,
            self._policy.allow_self_approval,
        )
