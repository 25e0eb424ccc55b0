"""Auto-link by e-mail (``AUTO_LINK_BY_EMAIL``): an unlinked approver linked, at a decision, to the
Commerce user with their e-mail address.

Invariant: a link is only made from an e-mail address the chat confirmed (``UserEmails``), in a domain
of ``AUTO_LINK_EMAIL_DOMAINS``, to the one Commerce user with that address who may decide the approval
clicked (Commerce's own answer, a listing run as them), submitted no pending approval and is linked to
nobody else (the store's unique index has the last word); every link made is audited and told to the
user. Anything else, a Commerce error included, leaves the user unlinked (logged).
"""

from __future__ import annotations

import logging
from typing import Protocol

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError
from bot.commerce.models import ApprovalQuery, ApprovalState
from bot.commerce.persons import CommercePerson
from bot.services.ports import UserEmails, UserNotices
from bot.storage.identity_links import CommerceUserLinked
from bot.storage.records import AuditEntry, IdentityLink

log = logging.getLogger(__name__)


class AutoLinkStore(Protocol):
    """The store operations auto-link uses."""

    async def identity_link(self, slack_user_id: str) -> IdentityLink | None: ...

    async def identity_links_to(self, commerce_user_id: str) -> list[IdentityLink]: ...

    async def link_identity(self, link: IdentityLink) -> IdentityLink | None: ...

    async def record_audit(self, entry: AuditEntry) -> int: ...


class AutoLink:
    def __init__(
        self,
        store: AutoLinkStore,
        commerce: CommerceClient,
        emails: UserEmails,
        notices: UserNotices | None,
        *,
        domains: frozenset[str],
    ) -> None:
        """``domains``: the trusted e-mail domains, lower case (none: nobody is linked)."""
        self._store = store
        self._commerce = commerce
        self._emails = emails
        self._notices = notices
        self._domains = domains

    async def link(self, slack_user_id: str, approval_id: str) -> IdentityLink | None:
        """Links the Slack user by their confirmed e-mail if the module's auto-link rules allow it; the
        new link, else ``None`` (why is logged)."""
        email = await self._emails.email_of(slack_user_id)
        if not email:
            return None
        domain = email.rpartition("@")[2].casefold()
        if domain not in self._domains:
            log.info(
                "auto-link of %s refused: e-mail domain %s is not in AUTO_LINK_EMAIL_DOMAINS",
                slack_user_id,
                domain,
            )
            return None
        try:
            person = await self._auto_link_candidate(slack_user_id, email, approval_id)
        except CommerceError as error:
            log.warning("auto-link of %s by e-mail failed: %s", slack_user_id, error.message)
            return None
        if person is None:
            return None
        link = IdentityLink(slack_user_id, person.logon_id, person.user_id, linked_by="email")
        try:
            await self._store.link_identity(link)
        except CommerceUserLinked as taken:
            log.warning(
                "auto-link of %s refused: Commerce user %s is already linked to %s",
                slack_user_id,
                person.logon_id,
                taken.holder.slack_user_id,
            )
            return None
        await self._announce_auto_link(link, email, approval_id)
        return await self._store.identity_link(slack_user_id)

    async def _auto_link_candidate(
        self, slack_user_id: str, email: str, approval_id: str
    ) -> CommercePerson | None:
        """The one Commerce user with ``email`` who may decide ``approval_id``, is linked to nobody else
        and submitted no pending approval; ``None`` otherwise (logged)."""
        people = await self._commerce.find_people(email=email)
        if len(people) != 1:
            log.info("auto-link of %s: Commerce has %d users with that address", slack_user_id, len(people))
            return None
        person = people[0]
        why_not = None
        holders = await self._store.identity_links_to(person.user_id)
        if any(held.slack_user_id != slack_user_id for held in holders):
            why_not = "is already linked to another Slack user"
        elif not await self._may_decide(person.user_id, approval_id):
            why_not = f"may not decide approval {approval_id} (no approver authority for it)"
        elif await self._submitted_pending(person.user_id):
            why_not = "submitted a pending approval"
        if why_not is not None:
            log.warning(
                "auto-link of %s refused: Commerce user %s %s", slack_user_id, person.logon_id, why_not
            )
            return None
        return person

    async def _may_decide(self, commerce_user_id: str, approval_id: str) -> bool:
        """Whether Commerce lists ``approval_id`` as pending for ``commerce_user_id`` to decide (a listing
        run as them: Commerce's own answer on their approver authority)."""
        query = ApprovalQuery(
            kind=None,
            state=ApprovalState.PENDING,
            page_size=1,
            order_by=None,
            extra={"approvalStatusId": approval_id},
        )
        page = await self._commerce.list_approvals(query, for_user_id=commerce_user_id)
        return any(approval.id == approval_id for approval in page.items)

    async def _submitted_pending(self, commerce_user_id: str) -> bool:
        """Whether ``commerce_user_id`` submitted an approval still pending (an incomplete listing
        counts as yes: the link is refused rather than risked)."""
        listing = await self._commerce.list_every_approval(None)
        return not listing.complete or any(a.submitter_id == commerce_user_id for a in listing.items)

    async def _announce_auto_link(self, link: IdentityLink, email: str, approval_id: str) -> None:
        """Audits the auto-link and tells the user (a failure to tell is logged, never raised)."""
        log.info("linked %s to Commerce user %s by e-mail", link.slack_user_id, link.commerce_logon_id)
        await self._store.record_audit(
            AuditEntry(
                slack_user_id=link.slack_user_id,
                action="link",
                approval_id=approval_id,
                outcome="auto_linked",
                detail=f"linked by the confirmed Slack e-mail address {email}",
                commerce_user_id=link.commerce_user_id,
                commerce_logon_id=link.commerce_logon_id,
            )
        )
        if self._notices is None:
            return
        text = (
            f"The approvals bot linked your Slack account to the Commerce user {link.commerce_logon_id}, "
            f"because your confirmed Slack e-mail address ({email}) is theirs: the bot now knows you as "
            "that user when you decide. If that is not you, tell an operator of the bot at once "
            f"(`approvals-bot approvers unlink {link.slack_user_id}`)."
        )
        try:
            await self._notices.tell(link.slack_user_id, text)
        except Exception:
            log.exception("could not tell %s about their new link", link.slack_user_id)
