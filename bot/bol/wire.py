"""bol.com's JSON on the wire: ids out; ProcessStatus records and Problem bodies in.

Invariant: parsing is tolerant. A list bol.com leaves out (it sends ``{}``) is empty, an entry
without ``processStatusId`` is skipped (logged), an unknown status is read as ``PENDING``
(logged), and an unreadable timestamp is left out; only a body that is not a JSON object at all is
an error. The ``links`` of a status are not read: nothing the bot shows or decides uses them, and a
poll reads 1000 statuses a call. Error messages carry the Problem's violations, detail or title,
never a token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from bot.backend import responses
from bot.backend.responses import text
from bot.bol.errors import BolBadRequest, BolError, BolRateLimited, BolUnavailable, Violation
from bot.bol.models import ProcessState, ProcessStatus

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BolError)
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")
"""One regular expression, not a test per character: a poll checks every watched id each round."""


# -- requests -------------------------------------------------------------------------
def checked_id(value: str, what: str = "process status id") -> str:
    """``value`` itself; ``ValueError`` when it is empty, blank or has control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    if _CONTROL_CHARACTER.search(value):
        raise ValueError(f"{what} {value!r} contains control characters")
    return value


def path_segment(process_status_id: str) -> str:
    """The id quoted as one path segment (``/`` too); ``ValueError`` for ``.`` and ``..``."""
    checked = checked_id(process_status_id)
    if checked in {".", ".."}:
        raise ValueError(f"invalid process status id {checked!r}")
    return quote(checked, safe="")


def bulk_body(ids: list[str]) -> dict[str, Any]:
    """The body of the bulk ``POST /shared/process-status``."""
    return {"processStatusQueries": [{"processStatusId": i} for i in ids]}


# -- answers ----------------------------------------------------------------------------
def json_object(response: httpx.Response) -> Mapping[str, Any]:
    """The JSON object bol.com answered; :class:`BolError` for anything else."""
    message = f"bol.com answered HTTP {response.status_code} without a JSON object"
    return responses.json_object(response, BolError, message)


def parse_list(body: Mapping[str, Any]) -> list[ProcessStatus]:
    """``processStatuses`` of a ProcessStatusResponse; a missing list (bol sends ``{}``) is empty."""
    raw = body.get("processStatuses")
    if not isinstance(raw, list):
        return []
    statuses = []
    for item in raw:
        if not isinstance(item, Mapping) or not text(item.get("processStatusId")):
            log.warning("skipping a process status without processStatusId from bol.com")
            continue
        statuses.append(parse_status(item))
    return statuses


def parse_status(body: Mapping[str, Any], default_id: str | None = None) -> ProcessStatus:
    """One ProcessStatus; :class:`BolError` when it has no id and ``default_id`` is ``None``."""
    process_status_id = text(body.get("processStatusId")) or default_id
    if not process_status_id:
        raise BolError("bol.com sent a process status without processStatusId")
    return ProcessStatus(
        process_status_id=process_status_id,
        event_type=text(body.get("eventType")) or "",
        description=text(body.get("description")) or "",
        state=_state(body.get("status"), process_status_id),
        entity_id=text(body.get("entityId")),
        error_message=text(body.get("errorMessage")),
        created_at=_timestamp(body.get("createTimestamp")),
    )


_STATES: dict[object, ProcessState] = {state.value: state for state in ProcessState}
"""A status by its wire text: one dict look-up per process, not an enum call (a poll reads 1000 a call)."""


def _state(raw: Any, process_status_id: str) -> ProcessState:
    state = _STATES.get(raw) if isinstance(raw, str) else None
    if state is None:
        log.warning(
            "unknown status %r of process %s from bol.com; treating it as PENDING", raw, process_status_id
        )
        return ProcessState.PENDING
    return state


def _timestamp(raw: Any) -> datetime | None:
    """``2018-11-14T09:34:41+01:00`` as an aware datetime (UTC assumed without offset); else None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- problems ---------------------------------------------------------------------------
def raise_for_status(response: httpx.Response, what: str) -> None:
    """Nothing below 400; :class:`BolBadRequest` for 400, a plain :class:`BolError` otherwise."""
    status = response.status_code
    if status < 400:
        return
    if status == 400:
        raise error(BolBadRequest, response, f"bol.com rejected the request to {what}")
    raise error(BolError, response, f"bol.com could not {what} (HTTP {status})")


def unavailable(response: httpx.Response) -> BolUnavailable:
    status = response.status_code
    return error(BolUnavailable, response, f"bol.com is unavailable (HTTP {status})")


def rate_limited(response: httpx.Response, waits: int) -> BolRateLimited:
    message = f"bol.com is still rate limiting us after waiting {waits} time(s); try again later"
    return error(BolRateLimited, response, message)


def error(kind: type[E], response: httpx.Response, message: str) -> E:
    """An error of ``kind`` carrying the Problem fields of ``response`` (if it has a Problem body)."""
    problem = responses.json_or_none(response)
    if not isinstance(problem, Mapping):
        problem = {}
    title, detail = text(problem.get("title")), text(problem.get("detail"))
    violations = _violations(problem.get("violations"))
    explanation = "; ".join(f"{v.name}: {v.reason}" for v in violations) or detail or title
    return kind(
        f"{message}: {explanation}" if explanation else message,
        status=response.status_code,
        title=title,
        detail=detail,
        violations=violations,
    )


def problem_text(response: httpx.Response) -> str:
    """The Problem's detail or title, for a log line; ``no detail`` without either."""
    problem = responses.json_or_none(response)
    if isinstance(problem, Mapping):
        return text(problem.get("detail")) or text(problem.get("title")) or "no detail"
    return "no detail"


def _violations(raw: Any) -> list[Violation]:
    if not isinstance(raw, list):
        return []
    return [
        Violation(name=text(v.get("name")) or "", reason=text(v.get("reason")) or "")
        for v in raw
        if isinstance(v, Mapping)
    ]
