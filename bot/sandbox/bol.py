"""bol.com emulator: the OAuth2 token endpoint and the Shared API v10 ``process-status`` resource.

Follows ``/work/shared/specs/bol-shared-v10.json``: ``GET /shared/process-status/{id}`` (404 Problem
once purged), bulk ``POST /shared/process-status`` (1..1000 ``processStatusQueries``, purged ids are
left out of the answer) and ``GET /shared/process-status?entity-id=&event-type=&page=`` (50 per page,
newest first). Every API call needs a bearer token from ``POST /token`` (client credentials with
HTTP Basic auth) and ``Accept: application/vnd.retailer.v10+json``; errors are Problem JSON bodies.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import secrets
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from bot.bol.models import ENTITY_PAGE_SIZE, EVENT_TYPES, MAX_BULK_IDS
from bot.sandbox.base import EmulatorServer, RecordedRequest, Response

MEDIA_TYPES = ("application/vnd.retailer.v10+json", "application/vnd.advertiser.v10+json")
MEDIA_TYPE = MEDIA_TYPES[0]
PROBLEM_TYPE = "https://api.bol.com/problems"
PROCESS_STATUS_PATH = "/shared/process-status"
STATES = ("PENDING", "SUCCESS", "FAILURE", "TIMEOUT")
AMSTERDAM_WINTER = timezone(timedelta(hours=1))


def problem(status: int, title: str, detail: str, violations: list[dict[str, str]] | None = None) -> Response:
    body = {
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": detail,
        "host": "Instance-001",
        "instance": f"https://api.bol.com{PROCESS_STATUS_PATH}",
        "violations": violations or [],
    }
    return Response(status=status, body=body, content_type=MEDIA_TYPE)


def validation_problem(*violations: tuple[str, str]) -> Response:
    return problem(
        400,
        "Error validating request. Consult the bol.com API documentation for more information.",
        "Bad request",
        [{"name": name, "reason": reason} for name, reason in violations],
    )


def oauth_error(status: int, error: str, description: str) -> Response:
    return Response(status=status, body={"error": error, "error_description": description})


class BolEmulator(EmulatorServer):
    """A faithful-enough bol.com for the process-status flows."""

    def __init__(
        self,
        client_id: str = "bol-client",
        client_secret: str = "bol-secret",  # noqa: S107 - the sandbox's own credential, never a real one
        token_ttl: int = 299,
        *,
        empty_as_object: bool = False,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.empty_as_object = empty_as_object
        """Answer ``{}`` instead of ``{"processStatuses": []}`` when nothing matches (bol.com does that)."""
        self.processes: dict[str, dict[str, Any]] = {}
        self.purged: set[str] = set()
        self.tokens: dict[str, float] = {}
        """Issued access token -> monotonic expiry time."""
        self.issued_tokens: list[str] = []
        self.rate_limit_budget: int | None = None
        """When set, API answers carry ``X-RateLimit-Remaining`` (counting down) and ``X-RateLimit-Reset``."""
        self.rate_limit_reset_seconds = 2
        self._sequence = itertools.count(1)
        self._order: dict[str, int] = {}

    # -- addresses -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.url

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    # -- state helpers -----------------------------------------------------------
    def add_process(
        self,
        event_type: str = "CREATE_SHIPMENT",
        entity_id: str | None = None,
        description: str | None = None,
        status: str = "PENDING",
        process_status_id: str | None = None,
        *,
        error_message: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Register a process (as if a PUT/POST/DELETE started it) and return its id."""
        _check_state(status)
        sequence = next(self._sequence)
        process_id = process_status_id or str(uuid.uuid4())
        entity = entity_id if entity_id is not None else str(900000000 + sequence)
        moment = (created_at or datetime.now(AMSTERDAM_WINTER)).astimezone(AMSTERDAM_WINTER)
        record: dict[str, Any] = {
            "processStatusId": process_id,
            "entityId": entity,
            "eventType": event_type,
            "description": description or f"Example process status description for processing {entity}.",
            "status": status,
            "createTimestamp": moment.isoformat(timespec="seconds"),
        }
        if error_message is not None:
            record["errorMessage"] = error_message
        with self.lock:
            self.processes[process_id] = record
            self._order[process_id] = sequence
            self.purged.discard(process_id)
        return process_id

    def set_status(self, process_status_id: str, status: str, error_message: str | None = None) -> None:
        _check_state(status)
        with self.lock:
            record = self.processes[process_status_id]
            record["status"] = status
            if error_message is None:
                record.pop("errorMessage", None)
            else:
                record["errorMessage"] = error_message

    def add_processes(
        self, count: int, event_type: str = "UPDATE_OFFER", entity_prefix: str = "offer"
    ) -> list[str]:
        """``count`` pending processes, as an offer upload starts them (entity ids ``offer-0``, …)."""
        return [self.add_process(event_type, f"{entity_prefix}-{n}") for n in range(count)]

    def finish(self, process_status_ids: list[str], status: str, error_message: str | None = None) -> None:
        """A wave of processes turning final at once (as bol.com's workers finish them)."""
        for process_status_id in process_status_ids:
            self.set_status(process_status_id, status, error_message)

    def purge(self, process_status_id: str) -> None:
        """Forget a process like bol.com does after its retention period."""
        with self.lock:
            self.processes.pop(process_status_id, None)
            self.purged.add(process_status_id)

    def expire_tokens(self) -> None:
        """Every issued token expires now (the next API call gets ``401 Expired JWT``)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def fail_api_next(self, count: int, response: Response) -> None:
        """Answer the next ``count`` process-status calls (not token requests) with ``response``."""
        self.fail_next(count, response, when=lambda r: r.path.startswith("/shared/"))

    def rate_limit_next(self, count: int, retry_after: str | None = "1") -> None:
        """Answer the next ``count`` API calls with a 429 Problem (and ``Retry-After`` unless None)."""
        response = problem(429, "Too Many Requests", "Too many requests, retry later.")
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        self.fail_api_next(count, response)

    # -- assertion helpers ---------------------------------------------------------
    @property
    def token_fetches(self) -> int:
        """Tokens issued so far (successful ``POST /token`` calls)."""
        with self.lock:
            return len(self.issued_tokens)

    def token_requests(self) -> list[RecordedRequest]:
        return self.requests_to("POST", "/token")

    def bulk_requests(self) -> list[RecordedRequest]:
        return self.requests_to("POST", PROCESS_STATUS_PATH)

    def bulk_ids(self) -> list[list[str]]:
        """The ids of every bulk POST, one list per request."""
        return [
            [q["processStatusId"] for q in r.json()["processStatusQueries"]] for r in self.bulk_requests()
        ]

    def entity_requests(self) -> list[RecordedRequest]:
        return self.requests_to("GET", PROCESS_STATUS_PATH)

    def single_requests(self) -> list[RecordedRequest]:
        with self.lock:
            return [
                r for r in self.requests if r.method == "GET" and r.path.startswith(PROCESS_STATUS_PATH + "/")
            ]

    # -- HTTP ----------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        if request.path == "/token":
            return self._token(request)
        if request.path != PROCESS_STATUS_PATH and not request.path.startswith(PROCESS_STATUS_PATH + "/"):
            return problem(404, "Not Found", f"No endpoint {request.method} {request.path}")
        refusal = self._refuse_unauthorized(request) or _refuse_media_type(request)
        if refusal is not None:
            return refusal
        with self.lock:
            response = self._route(request)
            if self.rate_limit_budget is not None:
                self.rate_limit_budget = max(0, self.rate_limit_budget - 1)
                response.headers["X-RateLimit-Remaining"] = str(self.rate_limit_budget)
                response.headers["X-RateLimit-Reset"] = str(self.rate_limit_reset_seconds)
            return response

    def _route(self, request: RecordedRequest) -> Response:
        if request.path == PROCESS_STATUS_PATH:
            if request.method == "GET":
                return self._by_entity(request)
            if request.method == "POST":
                return self._bulk(request)
        elif request.method == "GET":
            return self._single(unquote(request.path[len(PROCESS_STATUS_PATH) + 1 :]))
        return problem(405, "Method Not Allowed", f"Request method '{request.method}' is not supported")

    # -- token endpoint ----------------------------------------------------------------
    def _token(self, request: RecordedRequest) -> Response:
        if request.method != "POST":
            return oauth_error(405, "invalid_request", "Use POST")
        if not self._valid_basic_auth(request.headers.get("authorization", "")):
            return oauth_error(401, "invalid_client", "Bad client credentials")
        grant_type = request.form().get("grant_type") or request.q("grant_type")
        if grant_type is None:
            return oauth_error(400, "invalid_request", "Missing grant type")
        if grant_type != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.issued_tokens.append(token)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": "retailer:*",
        }
        return Response(body=body)

    def _valid_basic_auth(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.client_id}:{self.client_secret}"

    def _refuse_unauthorized(self, request: RecordedRequest) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            expiry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expiry is None:
            return problem(401, "Unauthorized", "Full authentication is required to access this resource")
        if time.monotonic() >= expiry:
            return problem(401, "Expired JWT", "Expired JWT")
        return None

    # -- process-status endpoints ---------------------------------------------------------
    def _single(self, process_id: str) -> Response:
        record = self.processes.get(process_id)
        if record is None:
            return problem(404, "Not Found", f"Process status with id '{process_id}' not found")
        return Response(body=self._wire(record), content_type=MEDIA_TYPE)

    def _bulk(self, request: RecordedRequest) -> Response:
        ids, refusal = _bulk_ids(request)
        if refusal is not None:
            return refusal
        statuses = [self._wire(self.processes[i]) for i in ids if i in self.processes]
        return self._list_answer(statuses)

    def _by_entity(self, request: RecordedRequest) -> Response:
        entity_id, event_type, page_text = request.q("entity-id"), request.q("event-type"), request.q("page")
        violations = _entity_violations(entity_id, event_type, page_text)
        if violations:
            return validation_problem(*violations)
        page = int(page_text) if page_text else 1
        matching = [
            record
            for record in self.processes.values()
            if record["entityId"] == entity_id and record["eventType"] == event_type
        ]
        matching.sort(key=self._newest_first_key, reverse=True)
        start = (page - 1) * ENTITY_PAGE_SIZE
        return self._list_answer([self._wire(r) for r in matching[start : start + ENTITY_PAGE_SIZE]])

    def _newest_first_key(self, record: dict[str, Any]) -> tuple[datetime, int]:
        moment = datetime.fromisoformat(record["createTimestamp"])
        return moment, self._order[record["processStatusId"]]

    def _list_answer(self, statuses: list[dict[str, Any]]) -> Response:
        body: dict[str, Any] = {} if not statuses and self.empty_as_object else {"processStatuses": statuses}
        return Response(body=body, content_type=MEDIA_TYPE)

    def _wire(self, record: dict[str, Any]) -> dict[str, Any]:
        href = f"{self.url}{PROCESS_STATUS_PATH}/{record['processStatusId']}"
        return {**record, "links": [{"rel": "self", "href": href, "method": "GET"}]}


# -- validation -------------------------------------------------------------------------------
def _check_state(status: str) -> None:
    if status not in STATES:
        raise ValueError(f"status must be one of {STATES}, not {status!r}")


def _refuse_media_type(request: RecordedRequest) -> Response | None:
    accept = request.headers.get("accept", "")
    if not any(media in accept for media in MEDIA_TYPES):
        return problem(406, "Not Acceptable", f"Accept header '{accept}' is not supported")
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in MEDIA_TYPES:
            return problem(415, "Unsupported Media Type", f"Content type '{content_type}' is not supported")
    return None


def _bulk_ids(request: RecordedRequest) -> tuple[list[str], Response | None]:
    try:
        body = request.json()
    except ValueError:
        return [], problem(400, "Bad Request", "Request body is not valid JSON")
    queries = body.get("processStatusQueries") if isinstance(body, dict) else None
    if not isinstance(queries, list):
        return [], validation_problem(("processStatusQueries", "must not be null"))
    if not 1 <= len(queries) <= MAX_BULK_IDS:
        return [], validation_problem(("processStatusQueries", f"size must be between 1 and {MAX_BULK_IDS}"))
    ids: list[str] = []
    violations: list[tuple[str, str]] = []
    for index, query in enumerate(queries):
        value = query.get("processStatusId") if isinstance(query, dict) else None
        if not isinstance(value, str) or not value.strip():
            violations.append((f"processStatusQueries[{index}].processStatusId", "must not be blank"))
        else:
            ids.append(value)
    return ids, validation_problem(*violations) if violations else None


def _entity_violations(
    entity_id: str | None, event_type: str | None, page: str | None
) -> list[tuple[str, str]]:
    violations: list[tuple[str, str]] = []
    if not entity_id:
        violations.append(("entity-id", "Request contains missing value(s) for required parameter."))
    if not event_type:
        violations.append(("event-type", "Request contains missing value(s) for required parameter."))
    elif event_type not in EVENT_TYPES:
        allowed = ", ".join(EVENT_TYPES)
        violations.append(
            ("event-type", f"Request contains invalid value(s): '{event_type}', allowed values: {allowed}.")
        )
    if page is not None and (not page.isdigit() or int(page) < 1):
        violations.append(("page", f"Request contains invalid value(s): '{page}', must be at least 1."))
    return violations
