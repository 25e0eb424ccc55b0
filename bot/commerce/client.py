"""Async client for the HCL Commerce ``approval_status`` REST resource (and order summaries).

It logs in with ``loginidentity`` (lazily, once, shared by concurrent callers), sends
``WCToken``/``WCTrustedToken`` on every call, logs in again once when the session expired,
retries reads (never the decision POST or the login) on timeouts, connection errors and 5xx
through :func:`bot.backend.retry.retry_reads`, and maps Commerce's ``{"errors": [...]}`` bodies to
the typed errors in :mod:`bot.commerce.errors`. Wire formats live in :mod:`bot.commerce.wire` and
:mod:`bot.commerce.error_bodies`; this module is the session and the transport.

Invariant: passwords and tokens never appear in logs, reprs or exception texts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.backend import responses
from bot.backend.retry import ReadRetry, retry_reads
from bot.backend.transport import DEFAULT_HTTP, HttpOptions, OwnsHttpClient, bounded_transport
from bot.commerce import error_bodies, orders, persons, wire
from bot.commerce.errors import (
    ApprovalNotFound,
    ApprovalRejectedByCommerce,
    CommerceAuthError,
    CommerceError,
    CommerceNotTheApi,
    CommerceUnavailable,
    OrderNotFound,
)
from bot.commerce.listing import ApprovalPages
from bot.commerce.models import (
    Approval,
    ApprovalKind,
    ApprovalListing,
    ApprovalPage,
    ApprovalQuery,
    ApprovalState,
    Decision,
    OrderSummary,
)
from bot.commerce.persons import RUN_AS_PARAMETER, CommercePerson
from bot.version import USER_AGENT

log = logging.getLogger(__name__)

DEFAULT_LISTING_PAGE_SIZE = 200
"""Approvals per page when listing them all (the spec sets no maximum)."""

READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.5
READ_JITTER_SECONDS = 0.25
"""Upper bound of the random extra wait added to each read retry's backoff."""

LOGIN_BACKOFF_SECONDS = 30.0
"""After Commerce refuses the login, no login is tried for this long; each further refusal doubles it."""

MAX_LOGIN_BACKOFF_SECONDS = 30 * 60.0

DEFAULT_READ_RETRY = ReadRetry(
    attempts=READ_ATTEMPTS, backoff_seconds=READ_BACKOFF_SECONDS, jitter_seconds=READ_JITTER_SECONDS
)


@dataclass(frozen=True)
class LoginBackoff:
    """The login's circuit breaker: after a refused login none is tried for ``seconds`` (doubling on
    each further refusal), as ``clock`` (monotonic seconds) tells."""

    seconds: float = LOGIN_BACKOFF_SECONDS
    clock: Callable[[], float] = time.monotonic


class CommerceClient(OwnsHttpClient):
    """HCL Commerce approval_status client; use as ``async with CommerceClient(...) as client``."""

    def __init__(
        self,
        base_url: str,
        store_id: str,
        logon_id: str,
        logon_password: SecretStr,
        *,
        http: HttpOptions = DEFAULT_HTTP,
        read_retry: ReadRetry = DEFAULT_READ_RETRY,
        login_backoff: LoginBackoff = LoginBackoff(),
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._store_id = store_id
        self._logon_id = logon_id
        self._password = logon_password
        self._timeout = http.timeout
        self._read_retry = read_retry
        self._http = httpx.AsyncClient(
            base_url=f"{self._base_url}/store/{quote(store_id, safe='')}/",
            timeout=httpx.Timeout(http.timeout),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            transport=bounded_transport(http.transport, http.max_concurrent_requests),
        )
        self._tokens: tuple[str, str] | None = None
        self._generation = 0
        """Bumped on every login attempt; callers compare it to avoid logging in N times."""
        self._login_failure: CommerceError | None = None
        self._login_lock = asyncio.Lock()
        # Circuit breaker on the login: a refused password tried on every request locks the account.
        self._clock = login_backoff.clock
        self._first_backoff = login_backoff.seconds
        self._backoff = login_backoff.seconds
        self._login_paused_until: float | None = None

    def __repr__(self) -> str:
        return (
            f"CommerceClient(base_url={self._base_url!r}, store_id={self._store_id!r}, "
            f"logon_id={self._logon_id!r})"
        )

    # -- public API ------------------------------------------------------------
    @property
    def login_paused(self) -> bool:
        """True while logins are paused after Commerce refused one (the breaker is open)."""
        return self._login_paused_until is not None and self._clock() < self._login_paused_until

    async def login(self) -> None:
        """Log in now, replacing any current session."""
        async with self._login_lock:
            await self._login_locked()

    async def list_approvals(self, query: ApprovalQuery, *, for_user_id: str | None = None) -> ApprovalPage:
        """One page of ``GET approval_status?q=...``; ``query.kind=None`` means ``q=all``. With
        ``for_user_id``, as that Commerce user (run-as ``forUserId``): the approvals they may decide."""
        params = wire.query_params(query) | _run_as(for_user_id)
        response = await self._authed("GET", "approval_status", params=params, idempotent=True)
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what="list approvals", not_found=CommerceError)
        return wire.parse_page(wire.json_object(response), query)

    def approval_pages(
        self,
        kind: ApprovalKind | None,
        state: ApprovalState | None = ApprovalState.PENDING,
        *,
        page_size: int = DEFAULT_LISTING_PAGE_SIZE,
    ) -> ApprovalPages:
        """Every matching approval, a page at a time, oldest id first (``ApprovalPages``: afterwards its
        ``complete`` says whether the listing was read to its end)."""
        return ApprovalPages(self.list_approvals, kind, state, page_size=page_size)

    async def list_every_approval(
        self,
        kind: ApprovalKind | None,
        state: ApprovalState | None = ApprovalState.PENDING,
        *,
        page_size: int = DEFAULT_LISTING_PAGE_SIZE,
    ) -> ApprovalListing:
        """Every matching approval, page by page, oldest id first, held together.

        ``complete`` is False when the listing stopped short: the server repeated a page, sent an
        empty page before its own total, or there were more than ``MAX_PAGES`` pages. An incomplete
        listing proves nothing about approvals missing from it.
        """
        pages = self.approval_pages(kind, state, page_size=page_size)
        items = [approval async for page in pages for approval in page]
        return ApprovalListing(items, complete=pages.complete)

    async def get_approval(self, approval_id: str) -> Approval:
        """``GET approval_status/{id}``; raises :class:`ApprovalNotFound` if there is no such record."""
        path = wire.approval_path(approval_id)
        response = await self._authed("GET", path, idempotent=True)
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what=f"read approval {approval_id}")
        records = wire.result_records(wire.json_object(response))
        matching = [r for r in records if wire.text(r.get("approvalStatusId")) == approval_id] or records
        if not matching:
            raise ApprovalNotFound(f"Approval {approval_id} was not found in Commerce.", status=404)
        return wire.parse_approval(matching[0], kind=None)

    async def find_approval(self, approval_id: str) -> Approval | None:
        """Like :meth:`get_approval`, but ``None`` when Commerce has no such approval."""
        try:
            return await self.get_approval(approval_id)
        except ApprovalNotFound:
            return None

    async def get_order_summary(self, order_id: str) -> OrderSummary:
        """``GET order/{orderId}``: grand total, currency, item count and status of one order.

        A read like the others (retried, re-login once on an expired session). Raises
        :class:`OrderNotFound` on 404 and the usual typed errors otherwise; details Commerce leaves
        out or sends in an unexpected form are ``None`` in the summary rather than an error.
        """
        path = wire.order_path(order_id)
        response = await self._authed("GET", path, idempotent=True)
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what=f"read order {order_id}", not_found=OrderNotFound)
        return wire.parse_order_summary(wire.json_object(response), order_id)

    async def get_order_detail(
        self, order_id: str, *, page_number: int, page_size: int
    ) -> orders.OrderDetail:
        """``GET order/{orderId}`` with one page of its lines (1-based ``page_number``): what the Details
        modal shows. A read (retried); :class:`OrderNotFound` on 404."""
        path = wire.order_path(order_id)
        params = orders.detail_params(page_number, page_size)
        response = await self._authed("GET", path, params=params, idempotent=True)
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what=f"read order {order_id}", not_found=OrderNotFound)
        return orders.parse_order_detail(wire.json_object(response), order_id)

    async def decide(
        self, approval_id: str, decision: Decision, comment: str, *, for_user_id: str | None = None
    ) -> str:
        """Approve or reject; returns Commerce's ``resultmsg`` (``''`` if none). Never retried.

        With ``for_user_id``, on behalf of that Commerce user (run-as ``forUserId`` on this session):
        Commerce applies their approver authority and records them as the approver."""
        path = wire.approval_path(approval_id)
        response = await self._authed(
            "POST",
            path,
            params={"action": "updateApprovalStatus"} | _run_as(for_user_id),
            json={"aprv_act": decision.aprv_act, "comments": comment},
            idempotent=False,
        )
        if response.status_code >= 400:
            action = "approve" if decision is Decision.APPROVE else "reject"
            raise error_bodies.error_for(
                response, what=f"{action} approval {approval_id}", bad_request=ApprovalRejectedByCommerce
            )
        return error_bodies.decision_message(response, approval_id)

    async def get_person(self, user_id: str) -> persons.Registrant:
        """``GET person/{userId}``: who a (buyer) user is: name, e-mail, organization, address. A read
        (retried); :class:`CommerceError` when Commerce has no such user or refuses."""
        path = persons.person_path(user_id)
        params = {"profileName": persons.PERSON_DETAILS_PROFILE}
        response = await self._authed("GET", path, params=params, idempotent=True)
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what=f"read user {user_id}", not_found=CommerceError)
        return persons.parse_registrant(wire.json_object(response), user_id)

    async def find_people(
        self, *, logon_id: str | None = None, email: str | None = None
    ) -> list[CommercePerson]:
        """The Commerce users with exactly this logon id (or primary e-mail), ignoring case; ``[]`` when
        none. Uses the administrator's user search, so the service account must be allowed to run it.
        By e-mail, a person Commerce returns without that exact address (none given, or another one)
        is left out: a match is what Commerce shows, never what the search was asked for."""
        if (logon_id is None) == (email is None):
            raise ValueError("give exactly one of logon_id and email")
        params = (
            persons.logon_id_query(logon_id) if logon_id is not None else persons.email_query(email or "")
        )
        response = await self._authed("GET", "person", params=params, idempotent=True)
        if response.status_code == 404:
            return []
        if response.status_code >= 400:
            raise error_bodies.error_for(response, what="search users", not_found=CommerceError)
        found = persons.parse_people(wire.json_object(response))
        wanted = (logon_id if logon_id is not None else email or "").casefold()
        if logon_id is not None:
            return [p for p in found if p.logon_id.casefold() == wanted]
        return [p for p in found if p.email is not None and p.email.casefold() == wanted]

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
        response = await self._exchange(
            method, path, params=params, json=json, headers=self._session_headers(), idempotent=idempotent
        )
        if not error_bodies.session_expired(response):
            return response
        log.info("Commerce session expired; logging in again")
        await self._refresh_session(generation)
        response = await self._exchange(
            method, path, params=params, json=json, headers=self._session_headers(), idempotent=idempotent
        )
        if error_bodies.session_expired(response):
            raise error_bodies.from_response(
                CommerceAuthError, response, "Commerce rejected the session even after logging in again."
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
        """One login attempt, unless logins are paused; the generation changes only once it is over."""
        self._raise_if_login_paused()
        self._login_failure = None
        try:
            tokens = await self._request_tokens()
        except CommerceError as error:
            self._tokens, self._login_failure = None, error
            if isinstance(error, CommerceAuthError):
                self._pause_logins()
            raise
        finally:
            self._generation += 1
        self._tokens = tokens
        self._login_paused_until, self._backoff = None, self._first_backoff

    def _pause_logins(self) -> None:
        self._login_paused_until = self._clock() + self._backoff
        log.warning("Commerce refused the login; no login is tried for %g s", self._backoff)
        self._backoff = min(self._backoff * 2, MAX_LOGIN_BACKOFF_SECONDS)

    def _raise_if_login_paused(self) -> None:
        if not self.login_paused or self._login_paused_until is None:
            return
        seconds = math.ceil(self._login_paused_until - self._clock())
        refused = f" ({self._login_failure.message})" if self._login_failure is not None else ""
        raise CommerceAuthError(
            f"Logging in to Commerce is paused for {seconds} s after Commerce refused the login{refused}."
        )

    async def _request_tokens(self) -> tuple[str, str]:
        body = {"logonId": self._logon_id, "logonPassword": self._password.get_secret_value()}
        response = await self._exchange("POST", "loginidentity", json=body, headers={}, idempotent=False)
        if response.status_code == 404 or responses.json_or_none(response) is None:
            raise CommerceNotTheApi(self._not_the_api(response), status=response.status_code)
        if response.status_code >= 400:
            raise error_bodies.from_response(
                CommerceAuthError, response, f"Commerce login failed (HTTP {response.status_code})."
            )
        tokens = wire.session_tokens(response)
        log.debug("logged in to Commerce store %s as %s", self._store_id, self._logon_id)
        return tokens

    def _not_the_api(self, response: httpx.Response) -> str:
        """Why the login answer is not Commerce's: what came back, and what the URL should look like."""
        kind = (response.headers.get("content-type") or "no content type").split(";")[0]
        what = "no login resource" if response.status_code == 404 else f"a {kind} body, not JSON"
        hint = "" if self._base_url.endswith("/wcs/resources") else "; check COMMERCE_BASE_URL"
        if not hint and response.status_code == 404:
            hint = "; check COMMERCE_STORE_ID"
        return (
            f"{self._base_url} does not look like HCL Commerce's REST API (expected .../wcs/resources): "
            f"its login answered HTTP {response.status_code} with {what}{hint}"
        )

    def _session_headers(self) -> dict[str, str]:
        if self._tokens is None:
            raise CommerceAuthError("Not logged in to Commerce.")
        wc_token, trusted = self._tokens
        return {"WCToken": wc_token, "WCTrustedToken": trusted}

    # -- transport ----------------------------------------------------------------
    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str],
        idempotent: bool,
    ) -> httpx.Response:
        """One request: reads retried on :class:`CommerceUnavailable`, writes and logins sent once."""

        async def send() -> httpx.Response:
            return await self._send(method, path, params, json, headers)

        if not idempotent:
            return await send()
        return await retry_reads(send, self._read_retry, on=CommerceUnavailable, what=f"{method} {path}")

    async def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any, headers: Mapping[str, str]
    ) -> httpx.Response:
        """One HTTP exchange: any answer below 500; :class:`CommerceUnavailable` otherwise."""
        try:
            response = await self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise CommerceUnavailable(f"Commerce did not answer in {self._timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise CommerceUnavailable(f"Commerce is not reachable ({type(exc).__name__})") from exc
        log.debug("%s %s -> %d", method, response.request.url.path, response.status_code)
        if response.status_code >= 500:
            raise error_bodies.unavailable(response)
        return response


def _run_as(for_user_id: str | None) -> dict[str, str]:
    """The run-as parameter for ``for_user_id``; none when the request is the service account's own."""
    return {RUN_AS_PARAMETER: for_user_id} if for_user_id else {}
