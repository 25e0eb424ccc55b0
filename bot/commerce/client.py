"""Async client for the HCL Commerce ``approval_status`` REST resource (and order summaries).

It logs in with ``loginidentity`` (lazily, once, shared by concurrent callers), sends
``WCToken``/``WCTrustedToken`` on every call, logs in again once when the session expired,
retries reads (never the decision POST or the login) on timeouts, connection errors and 5xx,
and maps Commerce's ``{"errors": [...]}`` bodies to the typed errors in
:mod:`bot.commerce.errors`. Passwords and tokens never appear in logs or exception texts.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.commerce.errors import (
    ApprovalNotFound,
    ApprovalRejectedByCommerce,
    CommerceAuthError,
    CommerceError,
    CommerceForbidden,
    CommerceUnavailable,
    OrderNotFound,
)
from bot.commerce.models import (
    Approval,
    ApprovalKind,
    ApprovalPage,
    ApprovalQuery,
    ApprovalState,
    Decision,
    OrderSummary,
)
from bot.http_client import OwnsHttpClient, json_or_none

log = logging.getLogger(__name__)

EXPIRED_SESSION_CODES = frozenset({"CWXFR0223E", "_ERR_ACTIVITY_TOKEN", "CWXBB1103E", "CWXBB1011E"})
"""errorCode/errorKey values Commerce uses for an expired or invalid session."""

MAX_PAGES = 500
"""Hard cap for :meth:`CommerceClient.iter_approvals`, whatever the server says."""

ITER_ORDER_BY = "A-approvalStatusId"
"""Stable order for paging: new approvals are appended at the end instead of shifting pages."""

_DIGITS = re.compile(r"[0-9]+")
_FRACTION = re.compile(r"([.,])([0-9]+)")


class CommerceClient(OwnsHttpClient):
    """HCL Commerce approval_status client; use as ``async with CommerceClient(...) as client``."""

    def __init__(
        self,
        base_url: str,
        store_id: str,
        logon_id: str,
        logon_password: SecretStr,
        *,
        timeout: float = 10.0,
        read_attempts: int = 3,
        backoff_seconds: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if read_attempts < 1:
            raise ValueError("read_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._store_id = store_id
        self._logon_id = logon_id
        self._password = logon_password
        self._timeout = timeout
        self._read_attempts = read_attempts
        self._backoff = backoff_seconds
        self._http = httpx.AsyncClient(
            base_url=f"{self._base_url}/store/{quote(store_id, safe='')}/",
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json"},
            transport=transport,
        )
        self._tokens: tuple[str, str] | None = None
        self._generation = 0
        """Bumped on every login attempt; callers compare it to avoid logging in N times."""
        self._login_failure: CommerceError | None = None
        self._login_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return (
            f"CommerceClient(base_url={self._base_url!r}, store_id={self._store_id!r}, "
            f"logon_id={self._logon_id!r})"
        )

    # -- public API ------------------------------------------------------------
    async def login(self) -> None:
        """Log in now, replacing any current session."""
        async with self._login_lock:
            await self._login_locked()

    async def list_approvals(self, query: ApprovalQuery) -> ApprovalPage:
        """One page of ``GET approval_status?q=...``; ``query.kind=None`` means ``q=all``."""
        response = await self._authed("GET", "approval_status", params=_query_params(query), idempotent=True)
        if response.status_code >= 400:
            raise _error_for(response, what="list approvals", not_found=CommerceError)
        return _parse_page(_json_object(response), query)

    async def iter_approvals(
        self,
        kind: ApprovalKind | None,
        state: ApprovalState | None = ApprovalState.PENDING,
        page_size: int = 50,
    ) -> AsyncIterator[Approval]:
        """Every matching approval, page by page; stops safely on a misbehaving server."""
        seen: set[str] = set()
        for page_number in range(1, MAX_PAGES + 1):
            query = ApprovalQuery(
                kind=kind, state=state, page_number=page_number, page_size=page_size, order_by=ITER_ORDER_BY
            )
            page = await self.list_approvals(query)
            fresh = [a for a in page.items if a.id not in seen]
            for approval in fresh:
                seen.add(approval.id)
                yield approval
            if page.complete or not page.items:
                return
            if not fresh:
                log.warning("Commerce returned page %d again; stopping the listing", page_number)
                return
        log.warning("stopped listing approvals after %d pages", MAX_PAGES)

    async def get_approval(self, approval_id: str) -> Approval:
        """``GET approval_status/{id}``; raises :class:`ApprovalNotFound` if there is no such record."""
        path = _approval_path(approval_id)
        response = await self._authed("GET", path, idempotent=True)
        if response.status_code >= 400:
            raise _error_for(response, what=f"read approval {approval_id}")
        records = _result_records(_json_object(response))
        matching = [r for r in records if _text(r.get("approvalStatusId")) == approval_id] or records
        if not matching:
            raise ApprovalNotFound(f"Approval {approval_id} was not found in Commerce.", status=404)
        return _parse_approval(matching[0], kind=None)

    async def get_order_summary(self, order_id: str) -> OrderSummary:
        """``GET order/{orderId}``: grand total, currency, item count and status of one order.

        A read like the others (retried, re-login once on an expired session). Raises
        :class:`OrderNotFound` on 404 and the usual typed errors otherwise; details Commerce leaves
        out or sends in an unexpected form are ``None`` in the summary rather than an error.
        """
        path = _order_path(order_id)
        response = await self._authed("GET", path, idempotent=True)
        if response.status_code >= 400:
            raise _error_for(response, what=f"read order {order_id}", not_found=OrderNotFound)
        return _parse_order_summary(_json_object(response), order_id)

    async def decide(self, approval_id: str, decision: Decision, comment: str) -> str:
        """Approve or reject; returns Commerce's ``resultmsg`` (``''`` if none). Never retried."""
        path = _approval_path(approval_id)
        response = await self._authed(
            "POST",
            path,
            params={"action": "updateApprovalStatus"},
            json={"aprv_act": Decision(decision).value, "comments": comment},
            idempotent=False,
        )
        if response.status_code >= 400:
            action = "approve" if decision is Decision.APPROVE else "reject"
            raise _error_for(
                response, what=f"{action} approval {approval_id}", bad_request=ApprovalRejectedByCommerce
            )
        body = json_or_none(response)
        if not isinstance(body, Mapping):
            return ""
        message = _text(body.get("resultmsg")) or ""
        if body.get("errors"):
            default = message or f"Commerce refused the decision on approval {approval_id}."
            raise _from_errors_body(ApprovalRejectedByCommerce, body, response.status_code, default)
        if body.get("viewTaskName") == "approvalsFailed":
            raise ApprovalRejectedByCommerce(
                message or f"Commerce did not accept the decision on approval {approval_id}.",
                status=response.status_code,
            )
        return message

    # -- session ----------------------------------------------------------------
    async def _authed(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool,
    ) -> httpx.Response:
        """Send with the session tokens; on an expired session log in again once and repeat once."""
        generation = await self._ensure_session()
        response = await self._send(
            method, path, params=params, json=json, headers=self._session_headers(), idempotent=idempotent
        )
        if not _session_expired(response):
            return response
        log.info("Commerce session expired; logging in again")
        await self._refresh_session(generation)
        response = await self._send(
            method, path, params=params, json=json, headers=self._session_headers(), idempotent=idempotent
        )
        if _session_expired(response):
            raise _from_errors_body(
                CommerceAuthError,
                json_or_none(response),
                response.status_code,
                "Commerce rejected the session even after logging in again.",
            )
        return response

    async def _ensure_session(self) -> int:
        if self._tokens is None:
            await self._refresh_session(self._generation)
        return self._generation

    async def _refresh_session(self, seen_generation: int) -> None:
        """Log in, unless another task finished a login attempt since ``seen_generation``."""
        async with self._login_lock:
            if self._generation != seen_generation:
                if self._tokens is not None:
                    return
                if self._login_failure is not None:  # share the failure instead of hammering Commerce
                    failure = self._login_failure
                    raise type(failure)(
                        failure.message,
                        status=failure.status,
                        error_key=failure.error_key,
                        error_code=failure.error_code,
                    )
            await self._login_locked()

    async def _login_locked(self) -> None:
        """One login attempt; the generation changes only once the attempt is over."""
        self._login_failure = None
        try:
            tokens = await self._request_tokens()
        except CommerceError as error:
            self._tokens, self._login_failure = None, error
            raise
        finally:
            self._generation += 1
        self._tokens = tokens

    async def _request_tokens(self) -> tuple[str, str]:
        body = {"logonId": self._logon_id, "logonPassword": self._password.get_secret_value()}
        response = await self._send("POST", "loginidentity", json=body, headers={}, idempotent=False)
        if response.status_code >= 400:
            raise _from_errors_body(
                CommerceAuthError,
                json_or_none(response),
                response.status_code,
                f"Commerce login failed (HTTP {response.status_code}).",
            )
        data = json_or_none(response)
        if not isinstance(data, Mapping):
            raise CommerceAuthError(
                "Commerce login answered without a JSON body.", status=response.status_code
            )
        wc_token, trusted = data.get("WCToken"), data.get("WCTrustedToken")
        if not isinstance(wc_token, str) or not isinstance(trusted, str) or not wc_token or not trusted:
            raise CommerceAuthError(
                "Commerce login answered without WCToken/WCTrustedToken.", status=response.status_code
            )
        log.debug("logged in to Commerce store %s as %s", self._store_id, self._logon_id)
        return wc_token, trusted

    def _session_headers(self) -> dict[str, str]:
        if self._tokens is None:
            raise CommerceAuthError("Not logged in to Commerce.")
        wc_token, trusted = self._tokens
        return {"WCToken": wc_token, "WCTrustedToken": trusted}

    # -- transport ----------------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str],
        idempotent: bool,
    ) -> httpx.Response:
        """One HTTP exchange; reads are retried with exponential backoff, writes never are.

        Returns any response below 500; raises :class:`CommerceUnavailable` otherwise.
        """
        attempts = self._read_attempts if idempotent else 1
        cause: Exception | None
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TimeoutException as exc:
                failure, cause = self._timeout_error(), exc
            except httpx.TransportError as exc:
                failure = CommerceUnavailable(f"Commerce is not reachable ({type(exc).__name__})")
                cause = exc
            else:
                log.debug("%s %s -> %d", method, response.request.url.path, response.status_code)
                if response.status_code < 500:
                    return response
                failure, cause = _unavailable(response), None
            log.debug("%s %s failed (attempt %d/%d): %s", method, path, attempt, attempts, failure.message)
            if attempt == attempts:
                raise failure from cause
            await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _timeout_error(self) -> CommerceUnavailable:
        return CommerceUnavailable(f"Commerce did not answer in {self._timeout:g}s")


# -- request building -------------------------------------------------------------
def _approval_path(approval_id: str) -> str:
    if not isinstance(approval_id, str) or not _DIGITS.fullmatch(approval_id):
        raise ValueError(f"invalid approval id {approval_id!r}: digits only")
    return f"approval_status/{approval_id}"


def _order_path(order_id: str) -> str:
    if not isinstance(order_id, str) or not _DIGITS.fullmatch(order_id):
        raise ValueError(f"invalid order id {order_id!r}: digits only")
    return f"order/{order_id}"


def _query_params(query: ApprovalQuery) -> dict[str, str]:
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


# -- response parsing ---------------------------------------------------------------


def _json_object(response: httpx.Response) -> Mapping[str, Any]:
    body = json_or_none(response)
    if not isinstance(body, Mapping):
        raise CommerceError(
            f"Commerce answered {response.status_code} without a JSON object.", status=response.status_code
        )
    return body


def _result_records(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``resultList`` is an array in the docs' examples but an object in the OpenAPI example."""
    result = body.get("resultList")
    if isinstance(result, Mapping):
        return [result]
    if isinstance(result, list):
        return [r for r in result if isinstance(r, Mapping)]
    return []


def _parse_page(body: Mapping[str, Any], query: ApprovalQuery) -> ApprovalPage:
    records = _result_records(body)
    items = []
    for record in records:
        try:
            items.append(_parse_approval(record, kind=query.kind))
        except CommerceError as error:
            log.warning("skipping an approval record Commerce sent: %s", error.message)
    start = _int(body.get("recordSetStartNumber"))
    if start is None:
        start = (query.page_number - 1) * query.page_size
    end = start + len(records)
    total = _int(body.get("recordSetTotal"))
    if total is not None:
        # the page-count test also ends paging when the server reports odd start numbers
        complete = end >= total or query.page_number * query.page_size >= total
    else:
        indicator = _bool(body.get("recordSetCompleteIndicator"))
        complete = indicator if indicator is not None else len(records) < query.page_size
        total = end
    return ApprovalPage(items=items, total=max(total, end), start=start, complete=complete)


def _parse_approval(record: Mapping[str, Any], kind: ApprovalKind | None) -> Approval:
    approval_id = _text(record.get("approvalStatusId"))
    if not approval_id:
        raise CommerceError("Commerce sent an approval record without approvalStatusId.")
    status = _int(record.get("status"))
    try:
        state = ApprovalState(status if status is not None else -1)
    except ValueError:
        raise CommerceError(f"Commerce sent approval {approval_id} with unknown status {status!r}.") from None
    return Approval(
        id=approval_id,
        state=state,
        entity_id=_text(record.get("entityId")) or "",
        submitter_id=_text(record.get("submitterId")) or "",
        flow_type_id=_text(record.get("flowTypeId")),
        submitter_name=_submitter_name(record.get("submitter")),
        submit_time=parse_time(record.get("submitTime")),
        approve_time=parse_time(record.get("approveTime")),
        approver_id=_text(record.get("approverId")),
        approver_group_id=_text(record.get("approverGroupId")),
        comment=_text(record.get("comment")),
        kind=kind,
    )


def _parse_order_summary(body: Mapping[str, Any], order_id: str) -> OrderSummary:
    """The few order facts a card shows; amounts may come as ``"90.00000"`` or as JSON numbers."""
    items = body.get("orderItem")
    item_count: int | None = None
    if isinstance(items, list):
        item_count = len(items)
        # orderItem is paged (pageNumber/pageSize); recordSetTotal then counts every item
        listed_total = _int(body.get("recordSetTotal"))
        if listed_total is not None and listed_total > item_count:
            item_count = listed_total
    currency = _code(body.get("grandTotalCurrency")) or _code(body.get("totalProductPriceCurrency"))
    return OrderSummary(
        order_id=order_id,
        grand_total=_decimal(body.get("grandTotal")),
        currency=currency,
        item_count=item_count,
        status=_code(body.get("orderStatus")),
    )


def _decimal(value: Any) -> Decimal | None:
    """A finite amount from a string (``"1234.50000"``) or a JSON number; anything else is ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        text = repr(value)  # the shortest text that round-trips: 0.1 stays 0.1
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        log.debug("unparseable Commerce amount %r", text)
        return None
    return amount if amount.is_finite() else None


def _code(value: Any) -> str | None:
    text = _text(value)
    return (text.strip() or None) if text is not None else None


def _submitter_name(submitter: Any) -> str | None:
    if not isinstance(submitter, Mapping):
        return None
    parts = (_text(submitter.get(key)) for key in ("firstName", "middleName", "lastName"))
    name = " ".join(p.strip() for p in parts if p and p.strip())
    return name or None


def parse_time(value: Any) -> datetime | None:
    """Commerce times (``2014-11-06T20:01:05.736000000Z``, nanoseconds) as aware UTC datetimes."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value  # epoch millis or seconds
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip()
    if not text:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(2)[:6], text, count=1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        log.debug("unparseable Commerce time %r", text)
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _int(value: Any) -> int | None:
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


# -- errors -------------------------------------------------------------------------
def _first_error(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return errors[0]
    return None


def _session_expired(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    error = _first_error(json_or_none(response)) if response.status_code in (400, 403) else None
    return error is not None and bool(
        {_text(error.get("errorCode")), _text(error.get("errorKey"))} & EXPIRED_SESSION_CODES
    )


def _from_errors_body(cls: type[CommerceError], body: Any, status: int | None, default: str) -> CommerceError:
    """An error of type ``cls`` carrying Commerce's own errorMessage when there is one."""
    error = _first_error(body)
    if error is None:
        return cls(default, status=status)
    return cls(
        _text(error.get("errorMessage")) or default,
        status=status,
        error_key=_text(error.get("errorKey")),
        error_code=_text(error.get("errorCode")),
    )


def _unavailable(response: httpx.Response) -> CommerceUnavailable:
    error = _first_error(json_or_none(response)) or {}
    detail = _text(error.get("errorMessage"))
    return CommerceUnavailable(
        f"Commerce answered {response.status_code}" + (f": {detail}" if detail else ""),
        status=response.status_code,
        error_key=_text(error.get("errorKey")),
        error_code=_text(error.get("errorCode")),
    )


def _error_for(
    response: httpx.Response,
    *,
    what: str,
    bad_request: type[CommerceError] = CommerceError,
    not_found: type[CommerceError] = ApprovalNotFound,
) -> CommerceError:
    """Map a 4xx answer on an approval call to the typed error, keeping Commerce's message."""
    status = response.status_code
    classes: dict[int, type[CommerceError]] = {
        400: bad_request,
        401: CommerceAuthError,
        403: CommerceForbidden,
        404: not_found,
    }
    cls = classes.get(status, CommerceError)
    return _from_errors_body(
        cls, json_or_none(response), status, f"Commerce could not {what} (HTTP {status})."
    )
