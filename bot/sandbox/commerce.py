"""HCL Commerce emulator: ``loginidentity``, ``approval_status``, ``order/{orderId}`` and the ``person``
user search per the REST docs, with the ``forUserId`` run-as parameter (``commerce_people``).

URL layout: ``{url}/wcs/resources/store/{storeId}/...``. Every approval_status and order call needs
the ``WCToken``/``WCTrustedToken`` pair issued by ``loginidentity``. Every order approval comes with
an order resource awaiting approval (``orderStatus`` ``W``), shaped like the order-capture spec's
``order-orderDetail`` example. Records are kept in Commerce's wire form (strings, nanosecond
timestamps) and list answers carry the ``recordSet*`` paging fields as strings, like the
documentation's examples.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import unquote

from bot.commerce.models import ApprovalKind, ApprovalState
from bot.sandbox.base import EmulatorServer, RecordedRequest, Response
from bot.sandbox.commerce_people import DEFAULT_ORGANIZATION, CommercePeople

ORDER_FLOW_TYPE = "10005"
BUYER_FLOW_TYPE = "10004"
FIRST_APPROVAL_ID = 10003
QUERY_NAMES = {"all": None, "orderApprovals": ORDER_FLOW_TYPE, "buyerApprovals": BUYER_FLOW_TYPE}
SORTABLE = ("approvalStatusId", "entityId", "submitTime", "approveTime", "status", "flowTypeId", "stateId")
NUMERIC_FIELDS = ("approvalStatusId", "entityId", "status", "flowTypeId", "stateId")
ORDER_AMOUNT_FIELDS = (
    "grandTotal",
    "totalProductPrice",
    "totalShippingCharge",
    "totalSalesTax",
    "totalShippingTax",
    "totalAdjustment",
)
ITEM_AMOUNT_FIELDS = ("unitPrice", "orderItemPrice", "shippingCharge", "salesTax", "shippingTax")
SHIP_TO = {
    "firstName": "Dana",
    "lastName": "Receiver",
    "organizationName": "Buyer Organization",
    "addressLine": ["Industrieweg 12", "Hall B"],
    "city": "Utrecht",
    "zipCode": "3542 AD",
    "country": "NL",
}
"""The ship-to address on every order line (Commerce keeps it per line)."""
ORDER_RECORD_SET_FIELDS = ("recordSetStartNumber", "recordSetCount", "recordSetTotal")
BAD_LOGON = (
    "Either the logon ID or password entered is incorrect. Enter the information again. "
    "Note that the password is case sensitive."
)


def commerce_time(moment: datetime) -> str:
    """``2014-11-06T20:01:05.736000000Z``: Commerce's nanosecond UTC format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _parse_commerce_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def errors_body(status: int, key: str, message: str, code: str, *params: str) -> Response:
    return Response(
        status=status,
        body={
            "errors": [
                {"errorKey": key, "errorParameters": list(params), "errorMessage": message, "errorCode": code}
            ]
        },
    )


def bad_parameter(name: str, value: str) -> Response:
    return errors_body(
        400,
        "_ERR_BAD_PARAMETER",
        f"CWXFR0203E: The value {value!r} of the parameter {name} is not valid.",
        "CWXFR0203E",
        name,
        value,
    )


class CommerceEmulator(EmulatorServer):
    """A faithful-enough HCL Commerce for the bot's approval flows."""

    def __init__(
        self,
        store_id: str = "10801",
        logon_id: str = "approver1",
        password: str = "passw0rd",  # noqa: S107 - the sandbox's own credential, never a real one
        *,
        single_result_as_object: bool = False,
        string_numbers: bool = True,
    ) -> None:
        super().__init__()
        self.store_id = store_id
        self.logon_id = logon_id
        self.password = password
        self.user_id = "10023"
        self.single_result_as_object = single_result_as_object
        """Answer GET-one with ``resultList`` as an object (the OpenAPI example) instead of an array."""
        self.string_numbers = string_numbers
        """Serialize ids, status and recordSet* as strings (real Commerce) or as JSON numbers/booleans."""
        self.logins = 0
        """Successful logins."""
        self.failed_logins = 0
        self.decisions: list[Any] = []
        """Every JSON body received by the update POST, in order."""
        self._approvals: dict[str, dict[str, Any]] = {}
        self._names: dict[str, tuple[str, str, str]] = {}
        self._orders: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, str] = {}
        self._next_id = FIRST_APPROVAL_ID
        self._next_order = 7000000000000000903
        self._next_member = 4036
        self.people = CommercePeople()
        """Users, buyer organizations' approvers and the ``forUserId`` run-as rules."""
        self._organizations: dict[str, str] = {}
        """Approval id -> the buyer organization it belongs to (the submitter's)."""

    @property
    def base_url(self) -> str:
        return f"{self.url}/wcs/resources"

    # -- state helpers -------------------------------------------------------------
    def add_approval(
        self,
        kind: ApprovalKind,
        *,
        entity_id: str | None = None,
        submitter_id: str | None = None,
        first_name: str = "Jane",
        last_name: str = "Smith",
        middle_name: str = "",
        submit_time: datetime | None = None,
        order_total: Decimal | str = "1234.50",
        order_currency: str = "EUR",
        order_items: int = 2,
        organization_id: str | None = None,
    ) -> str:
        """Add a pending approval; returns its id (10003, 10004, ...).

        An order approval also creates its order (unless ``entity_id`` names one that exists):
        ``order_total`` in ``order_currency`` spread over ``order_items`` order items. The approval
        belongs to ``organization_id``, else to its submitter's organization when the submitter is a
        person of ``people``, else to ``DEFAULT_ORGANIZATION``; a new order names it as its buyer
        organization (``orgUniqueID``).
        """
        with self.lock:
            approval_id = str(self._next_id)
            self._next_id += 1
            submitter = submitter_id or self._new_member()
            submitter_person = self.people.people.get(submitter)
            organization = organization_id or (
                submitter_person.organization_id if submitter_person else DEFAULT_ORGANIZATION
            )
            if kind is ApprovalKind.BUYER:
                # The buyer is the entity: the submitter when buyers register themselves, else (an
                # administrator registered them) ``entity_id``.
                flow, state, entity = BUYER_FLOW_TYPE, "10030", entity_id or submitter
            else:
                flow, state, entity = ORDER_FLOW_TYPE, "10035", entity_id or self._new_order()
                if entity not in self._orders:
                    self._orders[entity] = self._make_order(
                        entity, submitter, Decimal(order_total), order_currency, order_items
                    )
                    self._orders[entity]["orgUniqueID"] = organization  # the buyer organization
            self._approvals[approval_id] = {
                "approvalStatusId": approval_id,
                "approveTime": None,
                "approverGroupId": "-999",
                "approverId": self.user_id,
                "comment": None,
                "entityId": entity,
                "flowId": flow,
                "flowTypeId": flow,
                "stateId": state,
                "status": "0",
                "submitTime": commerce_time(submit_time or datetime.now(UTC)),
                "submitterId": submitter,
            }
            self._names[approval_id] = (first_name, middle_name, last_name)
            self._organizations[approval_id] = organization
            return approval_id

    def decide_elsewhere(self, approval_id: str, state: ApprovalState, comment: str | None = None) -> None:
        """Someone decided in the Commerce tools (not through the bot)."""
        with self.lock:
            self._set_status(self._approvals[approval_id], state, comment, approver_id="-1000")

    def approval(self, approval_id: str) -> dict[str, Any]:
        """A copy of the stored record, in Commerce's wire form."""
        with self.lock:
            return dict(self._approvals[approval_id])

    def order(self, order_id: str) -> dict[str, Any]:
        """A copy of the stored order, in Commerce's wire form (amounts as ``"90.00000"`` strings)."""
        with self.lock:
            copied: dict[str, Any] = json.loads(json.dumps(self._orders[order_id]))
            return copied

    def remove_order(self, order_id: str) -> None:
        """The order is gone (GET answers 404) while its approval stays."""
        with self.lock:
            del self._orders[order_id]

    def expire_tokens(self) -> None:
        """Invalidate every issued session, as when Commerce's activity tokens time out."""
        with self.lock:
            self._tokens.clear()

    @property
    def issued_tokens(self) -> dict[str, str]:
        """WCToken -> WCTrustedToken of the sessions that are still valid."""
        with self.lock:
            return dict(self._tokens)

    def _new_member(self) -> str:
        self._next_member += 1
        return str(self._next_member)

    def _new_order(self) -> str:
        self._next_order += 1
        return str(self._next_order)

    def _make_order(
        self, order_id: str, buyer_id: str, total: Decimal, currency: str, item_count: int
    ) -> dict[str, Any]:
        if item_count < 0:
            raise ValueError("order_items must not be negative")
        now = commerce_time(datetime.now(UTC))
        prices = _split(total, item_count)
        items = [
            {
                "orderItemId": str(85205 + 10 * len(self._orders) + position),
                "partNumber": f"PART-{position + 1:03d}",
                "productId": str(10040 + position),
                "quantity": "1.0",
                "unitQuantity": "1.0",
                "UOM": "C62",
                "unitUom": "C62",
                "unitPrice": _amount(price),
                "orderItemPrice": _amount(price),
                "currency": currency,
                "shippingCharge": _amount(Decimal(0)),
                "shippingChargeCurrency": currency,
                "salesTax": _amount(Decimal(0)),
                "salesTaxCurrency": currency,
                "shippingTax": _amount(Decimal(0)),
                "shippingTaxCurrency": currency,
                "orderItemStatus": "W",
                "orderItemInventoryStatus": "Allocated",
                "fulfillmentCenterId": "10001",
                "createDate": now,
                "lastUpdateDate": now,
                **SHIP_TO,
            }
            for position, price in enumerate(prices)
        ]
        order: dict[str, Any] = {
            "orderId": order_id,
            "orderStatus": "W",
            "orderTypeCode": "ORD",
            "buyerId": buyer_id,
            "storeUniqueID": self.store_id,
            "storeNameIdentifier": "Aurora",
            "placedDate": now,
            "lastUpdateDate": now,
            "locked": "false",
            "prepareIndicator": "true",
            "shipAsComplete": "true",
            "resourceName": "order",
            "resourceId": f"{self.base_url}/store/{self.store_id}/order/{order_id}",
            "recordSetStartNumber": "0",
            "recordSetCount": str(len(items)),
            "recordSetTotal": str(len(items)),
            "recordSetComplete": "true",
            "orderItem": items,
            "buyerPONumber": f"PO-{order_id[-6:]}",
            "orderDescription": "Quarterly restock",
            "comments": "Deliver to dock 4, mornings only.",
            "requestedShipDate": commerce_time(datetime(2026, 4, 1, tzinfo=UTC)),
            "buyerDistinguishedName": f"uid=buyer{buyer_id},o=Buyer Organization,o=Root Organization",
            "orgDistinguishedName": "o=Buyer Organization,o=Root Organization",
            "adjustment": [],
        }
        for field in ORDER_AMOUNT_FIELDS:
            order[field] = _amount(total if field in ("grandTotal", "totalProductPrice") else Decimal(0))
            order[f"{field}Currency"] = currency
        return order

    def set_order_charges(
        self, order_id: str, *, shipping: str, tax: str, discount: str, discount_text: str
    ) -> None:
        """Shipping, sales tax and one order-level discount (a negative adjustment): the grand total
        becomes the products' total plus shipping and tax, less the discount."""
        with self.lock:
            order = self._orders[order_id]
            currency = order["grandTotalCurrency"]
            products = Decimal(order["totalProductPrice"])
            order["totalShippingCharge"] = _amount(Decimal(shipping))
            order["totalSalesTax"] = _amount(Decimal(tax))
            order["totalAdjustment"] = _amount(-Decimal(discount))
            order["grandTotal"] = _amount(products + Decimal(shipping) + Decimal(tax) - Decimal(discount))
            order["adjustment"] = [
                {
                    "amount": _amount(-Decimal(discount)),
                    "code": "VOLUME-DISCOUNT",
                    "currency": currency,
                    "description": discount_text,
                    "displayLevel": "Order",
                    "usage": "Discount",
                }
            ]

    def _set_status(
        self, record: dict[str, Any], state: ApprovalState, comment: str | None, approver_id: str
    ) -> None:
        record["status"] = str(int(state))
        record["approveTime"] = commerce_time(datetime.now(UTC))
        record["comment"] = comment
        record["approverId"] = approver_id

    # -- routing ----------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        prefix = f"/wcs/resources/store/{self.store_id}/"
        if not request.path.startswith(prefix):
            return errors_body(404, "_ERR_NOT_FOUND", f"CWXFR0222E: {request.path} not found.", "CWXFR0222E")
        resource = unquote(request.path[len(prefix) :]).rstrip("/").split("/")
        with self.lock:
            if resource == ["loginidentity"] and request.method == "POST":
                return self._login(request)
            if resource[0] == "order" and len(resource) == 2 and request.method == "GET":
                return self._check_session(request) or self._get_order(resource[1], request)
            if resource == ["person"] and request.method == "GET":
                return self._check_session(request) or self.people.search(request)
            if resource[0] == "person" and len(resource) == 2 and request.method == "GET":
                return self._check_session(request) or self.people.one(resource[1])
            if resource[0] != "approval_status" or len(resource) > 2:
                return errors_body(404, "_ERR_NOT_FOUND", "CWXFR0222E: resource not found.", "CWXFR0222E")
            denied = self._check_session(request)
            if denied is not None:
                return denied
            run_as, refused = self.people.run_as(request, self.user_id)
            if refused is not None:
                return refused
            if len(resource) == 1 and request.method == "GET":
                return self._list(request, run_as)
            if len(resource) == 2 and request.method == "GET":
                return self._get_one(resource[1])
            if len(resource) == 2 and request.method == "POST":
                return self._update(request, resource[1], run_as)
            return errors_body(405, "_ERR_METHOD", "Method not allowed.", "CWXFR0405E")

    # -- loginidentity --------------------------------------------------------------------
    def _login(self, request: RecordedRequest) -> Response:
        try:
            body = request.json()
        except ValueError:
            return errors_body(400, "_ERR_BAD_BODY", "The request body is not valid JSON.", "CWXFR0201E")
        if (
            not isinstance(body, dict)
            or body.get("logonId") != self.logon_id
            or body.get("logonPassword") != self.password
        ):
            self.failed_logins += 1
            return errors_body(401, "_ERR_AUTHENTICATION_ERROR", BAD_LOGON, "2030")
        self.logins += 1
        wc_token = f"{self.user_id}%2C{secrets.token_urlsafe(48)}"
        trusted = f"{self.user_id}%2C{secrets.token_urlsafe(24)}"
        self._tokens[wc_token] = trusted
        return Response(
            status=201,
            body={
                "WCToken": wc_token,
                "WCTrustedToken": trusted,
                "userId": self.user_id,
                "personalizationID": f"{1700000000000 + self.logins}-1",
                "resourceName": "loginidentity",
            },
        )

    def _check_session(self, request: RecordedRequest) -> Response | None:
        wc_token = request.headers.get("wctoken")
        trusted = request.headers.get("wctrustedtoken")
        if wc_token and trusted and self._tokens.get(wc_token) == trusted:
            return None
        activity = (wc_token or "").split("%2C", 1)[0]
        return errors_body(
            401,
            "_ERR_ACTIVITY_TOKEN",
            f"CWXFR0223E: The activity token {activity} is invalid or has expired.",
            "CWXFR0223E",
            activity,
        )

    # -- approval_status ------------------------------------------------------------------------
    def _list(self, request: RecordedRequest, run_as: str | None = None) -> Response:
        query_name = request.q("q")
        if query_name not in QUERY_NAMES:
            return bad_parameter("q", query_name or "")
        flow = QUERY_NAMES[query_name]
        records = [r for r in self._approvals.values() if flow is None or r["flowTypeId"] == flow]
        if run_as is not None:  # as that user: only what they may approve
            records = [r for r in records if self._may_decide(run_as, r["approvalStatusId"])]
        try:
            records = self._filtered(records, request)
            records = self._sorted(records, request.q("orderBy"))
            start, size = self._paging(request, len(records))
        except _BadParameter as bad:
            return bad_parameter(bad.name, bad.value)
        page = records[start : start + size]
        body = {
            "recordSetCompleteIndicator": start + len(page) >= len(records),
            "recordSetCount": len(page),
            "recordSetStartNumber": start,
            "recordSetTotal": len(records),
            "resultList": [self._wire(r, with_submitter=query_name == "buyerApprovals") for r in page],
        }
        return Response(body=self._numbers(body))

    def _filtered(self, records: list[dict[str, Any]], request: RecordedRequest) -> list[dict[str, Any]]:
        status = _int_param(request, "status")
        if status is not None:
            records = [r for r in records if r["status"] == str(status)]
        for name, field in (
            ("approvalStatusId", "approvalStatusId"),
            ("entityId", "entityId"),
            ("flowTypeIdentifier", "flowTypeId"),
        ):
            value = request.q(name)
            if value:
                records = [r for r in records if r[field] == value]
        for position, name in enumerate(("submitterFirstName", "submitterMiddleName", "submitterLastName")):
            value = request.q(name)
            if value:
                wanted = value.casefold()
                records = [
                    r for r in records if self._names[r["approvalStatusId"]][position].casefold() == wanted
                ]
        start_day, end_day = _date_param(request, "startSubmitTime"), _date_param(request, "endSubmitTime")
        if start_day is not None:
            since = datetime.combine(start_day, datetime.min.time(), UTC)
            records = [r for r in records if _submitted(r) >= since]
        if end_day is not None:
            until = datetime.combine(end_day + timedelta(days=1), datetime.min.time(), UTC)
            records = [r for r in records if _submitted(r) < until]
        return records

    @staticmethod
    def _sorted(records: list[dict[str, Any]], order_by: str | None) -> list[dict[str, Any]]:
        order_by = order_by or "A-approvalStatusId"
        direction, _, field = order_by.partition("-")
        if direction not in ("A", "D") or field not in SORTABLE:
            raise _BadParameter("orderBy", order_by)

        def key(record: dict[str, Any]) -> tuple[Any, int]:
            value = record[field]
            return (int(value) if field in NUMERIC_FIELDS else value, int(record["approvalStatusId"]))

        present = sorted((r for r in records if r[field] is not None), key=key, reverse=direction == "D")
        return present + [r for r in records if r[field] is None]  # nulls last either way

    @staticmethod
    def _paging(request: RecordedRequest, total: int) -> tuple[int, int]:
        """pageNumber (from 1) and pageSize only page when both are given, as the docs say."""
        number, size = _int_param(request, "pageNumber"), _int_param(request, "pageSize")
        if number is not None and number < 1:
            raise _BadParameter("pageNumber", str(number))
        if size is not None and size < 1:
            raise _BadParameter("pageSize", str(size))
        if number is None or size is None:
            return 0, max(total, 1)
        return (number - 1) * size, size

    def _get_one(self, approval_id: str) -> Response:
        if not approval_id.isdigit():
            return bad_parameter("approvalStatusId", approval_id)
        record = self._approvals.get(approval_id)
        if record is None:
            return self._not_found(approval_id)
        wire = self._numbers(self._wire(record, with_submitter=False))
        return Response(body={"resultList": wire if self.single_result_as_object else [wire]})

    def _may_decide(self, user_id: str, approval_id: str) -> bool:
        return self.people.may_approve(user_id, self._organizations.get(approval_id, DEFAULT_ORGANIZATION))

    def organization_of(self, approval_id: str) -> str:
        """The buyer organization an approval belongs to."""
        with self.lock:
            return self._organizations.get(approval_id, DEFAULT_ORGANIZATION)

    def _update(self, request: RecordedRequest, approval_id: str, run_as: str | None = None) -> Response:
        action = request.q("action")
        if action is not None and action != "updateApprovalStatus":
            return bad_parameter("action", action)
        try:
            body = request.json()
        except ValueError:
            return errors_body(400, "_ERR_BAD_BODY", "The request body is not valid JSON.", "CWXFR0201E")
        if isinstance(body, dict):
            self.decisions.append(body)
        act = body.get("aprv_act") if isinstance(body, dict) else None
        if act not in ("1", "2"):
            return bad_parameter("aprv_act", str(act))
        record = self._approvals.get(approval_id)
        if record is None:
            return self._not_found(approval_id)
        if run_as is not None and not self._may_decide(run_as, approval_id):
            return self.people.not_an_approver(run_as, approval_id)
        if record["status"] != "0":
            return Response(
                body={
                    "viewTaskName": "approvalsFailed",
                    "resultmsg": f"The approval request {approval_id} has already been processed.",
                    "redirecturl": "",
                }
            )
        comment = body.get("comments")
        approver = run_as or self.user_id  # run as a user: Commerce records them as the approver
        self._set_status(record, ApprovalState(int(act)), comment or None, approver_id=approver)
        verb = "approved" if act == "1" else "rejected"
        return Response(
            body={
                "viewTaskName": "approvalsOK",
                "resultmsg": f"The approval request {approval_id} was {verb}.",
                "redirecturl": "",
            }
        )

    @staticmethod
    def _not_found(approval_id: str) -> Response:
        return errors_body(
            404,
            "_ERR_APPROVAL_STATUS_NOT_FOUND",
            f"CWXFR0222E: The approval status record {approval_id} cannot be found.",
            "CWXFR0222E",
            approval_id,
        )

    # -- order -----------------------------------------------------------------------------------
    @staticmethod
    def _page_items(order: dict[str, Any], request: RecordedRequest) -> None:
        """The spec's ``pageNumber``/``pageSize`` page the order's items; ``recordSet*`` say which."""
        size, number = _int_param(request, "pageSize"), _int_param(request, "pageNumber")
        if size is None:
            return
        start = ((number or 1) - 1) * size
        order["orderItem"] = order["orderItem"][start : start + size]
        order["recordSetStartNumber"] = str(start)
        order["recordSetCount"] = str(len(order["orderItem"]))
        order["recordSetComplete"] = str(start + size >= int(order["recordSetTotal"])).lower()

    def _get_order(self, order_id: str, request: RecordedRequest) -> Response:
        order = self._orders.get(order_id)
        if order is None:
            return errors_body(
                404,
                "_ERR_ORDER_NOT_FOUND",
                f"CWXFR0222E: The order {order_id} cannot be found.",
                "CWXFR0222E",
                order_id,
            )
        wire: dict[str, Any] = json.loads(json.dumps(order))
        self._page_items(wire, request)
        if not self.string_numbers:
            for field in ORDER_AMOUNT_FIELDS:
                wire[field] = float(wire[field])
            for field in ORDER_RECORD_SET_FIELDS:
                wire[field] = int(wire[field])
            wire["recordSetComplete"] = True
            for item in wire["orderItem"]:
                for field in ITEM_AMOUNT_FIELDS:
                    item[field] = float(item[field])
                item["quantity"] = item["unitQuantity"] = 1.0
        return Response(body=wire)

    # -- serialization -------------------------------------------------------------------------
    def _wire(self, record: dict[str, Any], *, with_submitter: bool) -> dict[str, Any]:
        wire = dict(record)
        if with_submitter:
            first, middle, last = self._names[record["approvalStatusId"]]
            wire["submitter"] = {"firstName": first, "lastName": last, "middleName": middle}
        return wire

    def _numbers(self, body: dict[str, Any]) -> dict[str, Any]:
        """Real Commerce sends every number and boolean as a string; optionally send JSON types."""
        if self.string_numbers:
            stringified: dict[str, Any] = json.loads(json.dumps(body), object_hook=_stringify)
            return stringified
        converted = dict(body)
        for key in ("approvalStatusId", "status", "entityId", "submitterId"):
            if isinstance(converted.get(key), str):
                converted[key] = int(converted[key])
        if isinstance(converted.get("resultList"), list):
            converted["resultList"] = [self._numbers(r) for r in converted["resultList"]]
        elif isinstance(converted.get("resultList"), dict):
            converted["resultList"] = self._numbers(converted["resultList"])
        return converted


class _BadParameter(Exception):
    def __init__(self, name: str, value: str) -> None:
        super().__init__(name)
        self.name = name
        self.value = value


def _stringify(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int) else v)
        for k, v in obj.items()
    }


def _amount(value: Decimal) -> str:
    """Commerce's amount format: five decimals as a string, e.g. ``"90.00000"``."""
    return f"{value:.5f}"


def _split(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` over ``parts`` items, in cents; the last item takes what does not divide evenly."""
    if parts == 0:
        return []
    share = (total / parts).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [share] * (parts - 1) + [total - share * (parts - 1)]


def _int_param(request: RecordedRequest, name: str) -> int | None:
    value = request.q(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _BadParameter(name, value) from None


def _date_param(request: RecordedRequest, name: str) -> date | None:
    value = request.q(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _BadParameter(name, value) from None


def _submitted(record: dict[str, Any]) -> datetime:
    return _parse_commerce_time(record["submitTime"]) or datetime.min.replace(tzinfo=UTC)
