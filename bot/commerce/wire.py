"""Commerce's JSON on the wire: paths and query parameters out, typed records in.

Invariant: parsing is tolerant, as Commerce is inconsistent across versions and examples.
``resultList`` may be an object or an array, numbers may come as strings, any field may be
missing; a record that cannot be read (no status, or an id that is not an approval id) is
skipped (logged), never fatal for its page, and an odd detail becomes ``None``. Ids are checked
before they go into a path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from bot.backend import responses
from bot.commerce.errors import CommerceAuthError, CommerceError
from bot.commerce.models import (
    Approval,
    ApprovalKind,
    ApprovalPage,
    ApprovalQuery,
    ApprovalState,
    OrderSummary,
    is_approval_id,
)

log = logging.getLogger(__name__)

_FRACTION = re.compile(r"([.,])([0-9]+)")
_ID_ECHO_LIMIT = 30


# -- requests ---------------------------------------------------------------------------
def approval_path(approval_id: str) -> str:
    """``approval_status/{id}``; ``ValueError`` unless the id is 1 to 19 ASCII digits."""
    if not is_approval_id(approval_id):
        raise ValueError(f"invalid approval id {approval_id!r}: digits only")
    return f"approval_status/{approval_id}"


def order_path(order_id: str) -> str:
    """``order/{id}``; ``ValueError`` unless the id is 1 to 19 ASCII digits (as approval ids)."""
    if not is_approval_id(order_id):
        raise ValueError(f"invalid order id {order_id!r}: digits only")
    return f"order/{order_id}"


def query_params(query: ApprovalQuery) -> dict[str, str]:
    """The ``GET approval_status`` parameters; unset filters are left out, ``extra`` goes last."""
    if query.page_number < 1 or query.page_size < 1:
        raise ValueError("page_number and page_size must be at least 1")
    params = {"q": query.kind.query_name if query.kind is not None else "all"}
    optional = {
        "status": str(int(query.state)) if query.state is not None else None,
        "submitterFirstName": query.submitter_first_name,
        "submitterLastName": query.submitter_last_name,
        "startSubmitTime": _day(query.start_submit_time),
        "endSubmitTime": _day(query.end_submit_time),
        "entityId": query.entity_id,
        "orderBy": query.order_by,
    }
    params.update({name: value for name, value in optional.items() if value})
    params["pageNumber"] = str(query.page_number)
    params["pageSize"] = str(query.page_size)
    params.update(query.extra)
    return params


def _day(value: date | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


# -- answers ----------------------------------------------------------------------------
def json_object(response: httpx.Response) -> Mapping[str, Any]:
    """The JSON object Commerce answered; :class:`CommerceError` for anything else."""
    message = f"Commerce answered {response.status_code} without a JSON object."
    return responses.json_object(response, CommerceError, message)


def session_tokens(response: httpx.Response) -> tuple[str, str]:
    """``(WCToken, WCTrustedToken)`` of a login answer; :class:`CommerceAuthError` without both."""
    data = responses.json_or_none(response)
    if not isinstance(data, Mapping):
        raise CommerceAuthError("Commerce login answered without a JSON body.", status=response.status_code)
    wc_token, trusted = data.get("WCToken"), data.get("WCTrustedToken")
    if not isinstance(wc_token, str) or not isinstance(trusted, str) or not wc_token or not trusted:
        raise CommerceAuthError(
            "Commerce login answered without WCToken/WCTrustedToken.", status=response.status_code
        )
    return wc_token, trusted


def result_records(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``resultList`` is an array in the docs' examples but an object in the OpenAPI example."""
    result = body.get("resultList")
    if isinstance(result, Mapping):
        return [result]
    if isinstance(result, list):
        return [r for r in result if isinstance(r, Mapping)]
    return []


def parse_page(body: Mapping[str, Any], query: ApprovalQuery) -> ApprovalPage:
    """One listing page; ``total`` and ``complete`` fall back on the page size without counts."""
    records = result_records(body)
    items = []
    for record in records:
        try:
            items.append(parse_approval(record, kind=query.kind))
        except CommerceError as error:
            log.warning("skipping an approval record Commerce sent: %s", error.message)
    start = as_int(body.get("recordSetStartNumber"))
    if start is None:
        start = (query.page_number - 1) * query.page_size
    end = start + len(records)
    total = as_int(body.get("recordSetTotal"))
    if total is not None:
        # the page-count test also ends paging when the server reports odd start numbers
        complete = end >= total or query.page_number * query.page_size >= total
    else:
        indicator = _bool(body.get("recordSetCompleteIndicator"))
        complete = indicator if indicator is not None else len(records) < query.page_size
        total = end
    return ApprovalPage(items=items, total=max(total, end), start=start, complete=complete)


def parse_approval(record: Mapping[str, Any], kind: ApprovalKind | None) -> Approval:
    """One approval_status record; :class:`CommerceError` without a valid id or with an unknown status.

    The id must pass :func:`is_approval_id`, as ids typed in Slack do: it goes into paths, buttons
    and ``block_id``s (at most 255 characters).
    """
    approval_id = text(record.get("approvalStatusId"))
    if not approval_id:
        raise CommerceError("Commerce sent an approval record without approvalStatusId.")
    if not is_approval_id(approval_id):
        shown = approval_id if len(approval_id) <= _ID_ECHO_LIMIT else approval_id[:_ID_ECHO_LIMIT] + "…"
        raise CommerceError(f"Commerce sent an approval record with an invalid approvalStatusId {shown!r}.")
    status = as_int(record.get("status"))
    try:
        state = ApprovalState(status if status is not None else -1)
    except ValueError:
        raise CommerceError(f"Commerce sent approval {approval_id} with unknown status {status!r}.") from None
    return Approval(
        id=approval_id,
        state=state,
        entity_id=text(record.get("entityId")) or "",
        submitter_id=text(record.get("submitterId")) or "",
        flow_type_id=text(record.get("flowTypeId")),
        submitter_name=_submitter_name(record.get("submitter")),
        submit_time=parse_time(record.get("submitTime")),
        approve_time=parse_time(record.get("approveTime")),
        approver_id=text(record.get("approverId")),
        approver_group_id=text(record.get("approverGroupId")),
        comment=text(record.get("comment")),
        kind=kind,
    )


def parse_order_summary(body: Mapping[str, Any], order_id: str) -> OrderSummary:
    """The few order facts a card shows; amounts may come as ``"90.00000"`` or as JSON numbers."""
    items = body.get("orderItem")
    item_count: int | None = None
    if isinstance(items, list):
        item_count = len(items)
        # orderItem is paged (pageNumber/pageSize); recordSetTotal then counts every item
        listed_total = as_int(body.get("recordSetTotal"))
        if listed_total is not None and listed_total > item_count:
            item_count = listed_total
    currency = _code(body.get("grandTotalCurrency")) or _code(body.get("totalProductPriceCurrency"))
    return OrderSummary(
        order_id=order_id,
        grand_total=decimal_amount(body.get("grandTotal")),
        currency=currency,
        item_count=item_count,
        status=_code(body.get("orderStatus")),
        organization_id=text(body.get("orgUniqueID")),
    )


def parse_time(value: Any) -> datetime | None:
    """Commerce times (``2014-11-06T20:01:05.736000000Z``, nanoseconds) as aware UTC datetimes."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value  # epoch millis or seconds
        return datetime.fromtimestamp(seconds, UTC)
    raw = str(value).strip()
    if not raw:
        return None
    raw = _FRACTION.sub(lambda m: "." + m.group(2)[:6], raw, count=1)
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        log.debug("unparseable Commerce time %r", raw)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# -- scalars ----------------------------------------------------------------------------
def text(value: Any) -> str | None:
    """A string or number as text, a boolean as ``true``/``false``; ``None`` for objects and arrays."""
    if isinstance(value, bool):
        return str(value).lower()
    return responses.text(value)


def as_int(value: Any) -> int | None:
    """An integer from a JSON number, a numeric string or a boolean; else ``None``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    if isinstance(value, int):
        return bool(value)
    return None


def decimal_amount(value: Any) -> Decimal | None:
    """A finite amount from a string (``"1234.50000"``) or a JSON number; anything else is ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        raw = repr(value)  # the shortest text that round-trips: 0.1 stays 0.1
    elif isinstance(value, str):
        raw = value.strip()
    else:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        log.debug("unparseable Commerce amount %r", raw)
        return None
    return amount if amount.is_finite() else None


def _code(value: Any) -> str | None:
    code = text(value)
    return (code.strip() or None) if code is not None else None


def _submitter_name(submitter: Any) -> str | None:
    if not isinstance(submitter, Mapping):
        return None
    parts = (text(submitter.get(key)) for key in ("firstName", "middleName", "lastName"))
    name = " ".join(p.strip() for p in parts if p and p.strip())
    return name or None
