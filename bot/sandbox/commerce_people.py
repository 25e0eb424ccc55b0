"""The Commerce emulator's users, buyer organizations and approver authority, and the run-as parameter.

Each person has a logon id, a user (member) id, an e-mail and an organization. An organization's
approvers are the user ids that may decide its approvals (what Commerce's ``approverId`` query and an
approver role in the buyer organization express). A request with ``forUserId`` runs as that user:
the service account must be allowed to act for others (a customer-service role), the user must
exist, and deciding needs the user's approver authority for the approval's organization. Refusals
are shaped like HCL Commerce's: ``{"errors": [{errorKey, errorCode, errorMessage, errorParameters}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.base import RecordedRequest, Response

DEFAULT_ORGANIZATION = "7000000000000000101"
AUTHORITY_KEY = "_ERR_USER_AUTHORITY"
AUTHORITY_CODE = "CMN1501E"


@dataclass
class Person:
    user_id: str
    logon_id: str
    email: str
    organization_id: str = DEFAULT_ORGANIZATION
    first_name: str = ""
    last_name: str = ""
    organization_name: str = "Buyer Organization"
    address_lines: tuple[str, ...] = ("Industrieweg 12",)
    city: str = "Utrecht"
    zip_code: str = "3542 AD"
    country: str = "NL"


@dataclass
class CommercePeople:
    """State only; the emulator holds its lock around every call."""

    people: dict[str, Person] = field(default_factory=dict)
    """By user id."""
    approvers: dict[str, set[str]] = field(default_factory=dict)
    """Organization id -> user ids that may approve its approvals."""
    may_act_for_others: bool = True
    """Whether the service account may use ``forUserId`` (HCL: a customer-service role)."""
    next_user_id: int = 5001

    def add(
        self,
        logon_id: str,
        *,
        email: str | None = None,
        organization_id: str = DEFAULT_ORGANIZATION,
        approver_for: tuple[str, ...] = (),
    ) -> Person:
        person = Person(
            user_id=str(self.next_user_id),
            logon_id=logon_id,
            email=email or f"{logon_id}@buyer.example",
            organization_id=organization_id,
            first_name=logon_id.capitalize(),
            last_name="Buyer",
        )
        self.next_user_id += 1
        self.people[person.user_id] = person
        for organization in approver_for:
            self.approvers.setdefault(organization, set()).add(person.user_id)
        return person

    def search(self, request: RecordedRequest) -> Response:
        """``GET person?q=usersICanAdmin`` by ``logonId`` or ``email1`` (search types 5 and 6)."""
        if request.q("q") not in ("usersICanAdmin", "registeredUsersICanManage"):
            return _errors(
                400,
                "_ERR_BAD_PARAMETER",
                "CWXFR0203E: The value of the parameter q is not valid.",
                "CWXFR0203E",
            )
        found = list(self.people.values())
        for name, attribute in (("logonId", "logon_id"), ("email1", "email")):
            wanted = request.q(name)
            if wanted is None:
                continue
            exact = request.q(f"{name}SearchType") == "5"
            found = [p for p in found if _same(getattr(p, attribute), wanted, exact)]
        beans = [
            {
                "businessProfile": {"organizationId": p.organization_id},
                "displayName": p.logon_id,
                "firstName": p.first_name,
                "lastName": p.last_name,
                "logonId": p.logon_id,
                "memberId": p.user_id,
                "parentMemberId": p.organization_id,
                "email1": p.email,
                "state": "1",
                "userId": p.user_id,
            }
            for p in found
        ]
        return Response(
            body={
                "pageNumber": "1",
                "pageSize": str(len(beans)),
                "recordSetCompleteIndicator": "true",
                "recordSetCount": str(len(beans)),
                "recordSetTotal": str(len(beans)),
                "userDataBeans": beans,
            }
        )

    def one(self, user_id: str) -> Response:
        """``GET person/{userId}`` (profile ``IBM_User_Display_Details``): the user's name, e-mail,
        organization and address, shaped like the spec's example."""
        person = self.people.get(user_id)
        if person is None:
            return _errors(
                404, "_ERR_USER_NOT_FOUND", f"CMN1039E: User {user_id} was not found.", "CMN1039E", user_id
            )
        return Response(
            body={
                "userId": person.user_id,
                "logonId": person.logon_id,
                "email1": person.email,
                "organizationId": person.organization_id,
                "organizationName": person.organization_name,
                "parentMemberId": person.organization_id,
                "registerType": "R",
                "address": {
                    "firstName": person.first_name,
                    "lastName": person.last_name,
                    "email1": person.email,
                    "addressLine": list(person.address_lines),
                    "city": person.city,
                    "zipCode": person.zip_code,
                    "country": person.country,
                    "memberId": person.user_id,
                    "nickName": person.logon_id,
                },
            }
        )

    def run_as(self, request: RecordedRequest, service_user_id: str) -> tuple[str | None, Response | None]:
        """The user a request runs as (``None``: the service account), or the refusal of ``forUserId``."""
        wanted = request.q("forUserId")
        if wanted is None or wanted == service_user_id:
            return None, None
        if not self.may_act_for_others:
            return None, _errors(
                403,
                AUTHORITY_KEY,
                f"{AUTHORITY_CODE}: User {service_user_id} does not have the authority to perform action "
                f'"RunAs" on behalf of user {wanted}.',
                AUTHORITY_CODE,
                service_user_id,
                "RunAs",
            )
        if wanted not in self.people:
            return None, _errors(
                400,
                "_ERR_BAD_PARAMETER",
                f"CWXFR0203E: The value {wanted!r} of the parameter forUserId is not valid.",
                "CWXFR0203E",
                "forUserId",
                wanted,
            )
        return wanted, None

    def may_approve(self, user_id: str, organization_id: str) -> bool:
        return user_id in self.approvers.get(organization_id, set())

    def not_an_approver(self, user_id: str, approval_id: str) -> Response:
        """What Commerce answers a run-as decision by a user without approver authority there."""
        return _errors(
            403,
            AUTHORITY_KEY,
            f"{AUTHORITY_CODE}: User {user_id} does not have the authority to perform action "
            f'"ApprovalStatusUpdate" on approval {approval_id}: not an approver for the buyer organization.',
            AUTHORITY_CODE,
            user_id,
            "ApprovalStatusUpdate",
        )


def _same(value: str, wanted: str, exact: bool) -> bool:
    return value == wanted if exact else value.casefold() == wanted.casefold()


def _errors(status: int, key: str, message: str, code: str, *params: str) -> Response:
    body: dict[str, Any] = {
        "errors": [
            {"errorKey": key, "errorParameters": list(params), "errorMessage": message, "errorCode": code}
        ]
    }
    return Response(status=status, body=body)
