"""Commerce users (persons) on the wire: the administrator's user search, by logon id or e-mail.

``GET /store/{storeId}/person?q=usersICanAdmin`` (user-and-organization-management spec, "Get user by
query") lists the users the session may administer; ``profileName=IBM_User_List_Details`` gives each
one's ``userId`` (the member id approvals carry as ``submitterId``/``approverId``), ``logonId`` and
organization. Invariant: a person is only ever returned with a non-empty user id and logon id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.commerce.models import is_approval_id
from bot.commerce.wire import text

PERSON_DETAILS_PROFILE = "IBM_User_Display_Details"
"""``GET person/{userId}``'s profile: the name, e-mail, organization and address."""
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


@dataclass(frozen=True)
class Registrant:
    """The person behind a buyer registration, as ``GET person/{userId}`` gives them; any detail may
    be missing."""

    user_id: str
    name: str | None = None
    email: str | None = None
    organization: str | None = None
    """The organization's name, else its id."""
    address: tuple[str, ...] = ()
    organization_id: str | None = None


def encoded(registrant: Registrant) -> str:
    """``registrant`` as a card row keeps it (``CardRecord.registrant``): JSON."""
    return json.dumps(asdict(registrant), separators=(",", ":"), ensure_ascii=False)


def decoded(stored: str | None) -> Registrant | None:
    """The registrant a card row keeps; ``None`` when it keeps none or what it keeps cannot be read
    (the card then shows nobody, as one whose person read failed)."""
    if not stored:
        return None
    try:
        fields = json.loads(stored)
        return Registrant(**{**fields, "address": tuple(fields.get("address") or ())})
    except (ValueError, TypeError, AttributeError):
        return None


def person_path(user_id: str) -> str:
    """``person/{userId}``; ``ValueError`` unless the id is 1 to 19 ASCII digits."""
    if not is_approval_id(user_id):
        raise ValueError(f"invalid user id {user_id!r}: digits only")
    return f"person/{user_id}"


def parse_registrant(body: Mapping[str, Any], user_id: str) -> Registrant:
    raw = body.get("address")
    address: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    names = (_clean(address.get(key)) for key in ("firstName", "middleName", "lastName"))
    name = " ".join(n for n in names if n) or None
    lines = address.get("addressLine")
    shown = [_clean(line) for line in lines] if isinstance(lines, list) else []
    city = " ".join(p for p in (_clean(address.get("zipCode")), _clean(address.get("city"))) if p)
    shown += [city, _clean(address.get("stateOrProvinceName")), _clean(address.get("country"))]
    return Registrant(
        user_id=user_id,
        name=name or _clean(body.get("logonId")),
        email=_clean(body.get("email1")) or _clean(address.get("email1")),
        organization=_clean(body.get("organizationName")) or _clean(body.get("organizationId")),
        address=tuple(line for line in shown if line),
        organization_id=_clean(body.get("organizationId")) or _clean(body.get("parentMemberId")),
    )


def _clean(value: Any) -> str | None:
    found = text(value)
    return (found.strip() or None) if found is not None else None
