"""Commerce users (persons) on the wire: the administrator's user search, by logon id or e-mail.

``GET /store/{storeId}/person?q=usersICanAdmin`` (user-and-organization-management spec, "Get user by
query") lists the users the session may administer; ``profileName=IBM_User_List_Details`` gives each
one's ``userId`` (the member id approvals carry as ``submitterId``/``approverId``), ``logonId`` and
organization. Invariant: a person is only ever returned with a non-empty user id and logon id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commerce.wire import text

PERSON_SEARCH = "usersICanAdmin"
PERSON_PROFILE = "IBM_User_List_Details"
EXACT_IGNORING_CASE = "6"
"""The spec's search type 6: case-insensitive exact match."""
RUN_AS_PARAMETER = "forUserId"
"""HCL Commerce's run-as query parameter: the request acts on behalf of that user id."""


@dataclass(frozen=True)
class CommercePerson:
    user_id: str
    logon_id: str
    organization_id: str | None = None
    email: str | None = None


def logon_id_query(logon_id: str) -> dict[str, str]:
    """The search parameters for one logon id (case-insensitive exact)."""
    return {
        "q": PERSON_SEARCH,
        "profileName": PERSON_PROFILE,
        "logonId": logon_id,
        "logonIdSearchType": EXACT_IGNORING_CASE,
    }


def email_query(email: str) -> dict[str, str]:
    """The search parameters for one primary e-mail address (case-insensitive exact)."""
    return {
        "q": PERSON_SEARCH,
        "profileName": PERSON_PROFILE,
        "email1": email,
        "email1SearchType": EXACT_IGNORING_CASE,
    }


def parse_people(body: Mapping[str, Any]) -> list[CommercePerson]:
    """The persons of a search answer (``userDataBeans``); entries without ids are skipped."""
    beans = body.get("userDataBeans")
    if not isinstance(beans, list):
        return []
    people = []
    for bean in beans:
        if not isinstance(bean, Mapping):
            continue
        user_id = text(bean.get("userId")) or text(bean.get("memberId"))
        logon_id = text(bean.get("logonId"))
        if not user_id or not logon_id:
            continue
        profile = bean.get("businessProfile")
        organization = text(profile.get("organizationId")) if isinstance(profile, Mapping) else None
        email = text(bean.get("email1"))
        if email is None and isinstance(bean.get("address"), Mapping):
            email = text(bean["address"].get("email1"))
        people.append(
            CommercePerson(user_id, logon_id, organization or text(bean.get("parentMemberId")), email)
        )
    return people
