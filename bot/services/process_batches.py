"""The process-status requests other systems send (the HTTP API, the CLI), as pydantic models.

One definition of each rule: the models check the requests, and the ingest API's OpenAPI schemas are
generated from them (``bot/web/openapi.py``). Checking never stores anything: a request is checked
whole, and every bad field comes back as a ``FieldError`` whose ``pointer`` is a JSON Pointer
(RFC 6901) into the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from bot.bol.models import ENTITY_ID, EVENT_TYPES, PROCESS_ID
from bot.slack_ids import CHANNEL_ID
from bot.storage.records import Notify

LABEL_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""Some visible text, and no control character (a NUL is refused by PostgreSQL)."""
MAX_BATCH_IDS = 1000
LABEL_MAX_LENGTH = 200

_HINTS = {
    "ids": "a process status id is 1 to 64 letters, digits, '-' or '_'",
    "channel": "a channel id starts with C or G, e.g. C0123456789",
    "label": f"a label is 1 to {LABEL_MAX_LENGTH} characters of text, no control characters",
    "notify": "notify is 'failures' or 'all'",
    "entity_id": "an entity id is 1 to 100 letters, digits, '.', ':', '-' or '_'",
    "event_type": "one of the event types of bol.com's process-status API",
    "process_id": "a process status id is 1 to 64 letters, digits, '-' or '_'",
}


def _number_as_text(value: Any) -> Any:
    """A numeric id (``12345``) is taken as its text, as systems that store ids as numbers send it."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


ProcessId = Annotated[str, StringConstraints(pattern=PROCESS_ID.pattern), BeforeValidator(_number_as_text)]
ChannelId = Annotated[str, Field(pattern=CHANNEL_ID.pattern)]
EntityId = Annotated[str, Field(pattern=ENTITY_ID.pattern)]
EventType = Annotated[Literal[EVENT_TYPES], BeforeValidator(_upper)]  # type: ignore[valid-type]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=LABEL_MAX_LENGTH, pattern=LABEL_TEXT),
]


class WatchRequest(BaseModel):
    """``POST /watches``: process ids to watch as one batch card."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="WatchRequest")

    ids: Annotated[list[ProcessId], Field(min_length=1, max_length=MAX_BATCH_IDS)]
    channel: ChannelId | None = Field(default=None, description="default: PROCESS_STATUS_CHANNEL")
    label: Label | None = Field(default=None, description="what the batch is, shown on its card")
    notify: Notify | None = Field(default=None, description="default: PROCESS_STATUS_NOTIFY")


class FollowRequest(BaseModel):
    """``POST /follows``: announce each process of an entity and event type that finishes."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="FollowRequest")

    entity_id: EntityId
    event_type: EventType
    channel: ChannelId | None = Field(default=None, description="default: PROCESS_STATUS_CHANNEL")


class ProcessIdParameter(BaseModel):
    """The ``{process_id}`` of ``DELETE /watches/{process_id}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    process_id: ProcessId


@dataclass(frozen=True)
class FieldError:
    """One bad field: ``pointer`` is a JSON Pointer into the request (``/ids/3``)."""

    pointer: str
    detail: str


class InvalidRequest(Exception):
    """The request has bad fields; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.pointer}: {e.detail}" for e in errors))
        self.errors = errors


Model = TypeVar("Model", bound=BaseModel)


def parsed(model: type[Model], body: bytes | Any) -> Model:
    """``body`` (raw JSON bytes, or already decoded values) checked as ``model``; raises
    ``InvalidRequest`` naming every bad field. JSON nested deeper than pydantic's limit, bad UTF-8 and
    lone surrogates are refused as bad JSON, never raised as anything else."""
    try:
        if isinstance(body, bytes):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except ValidationError as error:
        raise InvalidRequest([field_error(e) for e in error.errors(include_input=False)]) from None


def field_error(error: ErrorDetails) -> FieldError:
    """Pydantic's error as a JSON Pointer (its ``loc``) and a plain-words detail."""
    pointer = json_pointer(error["loc"])
    if error["type"] == "json_invalid":
        return FieldError("", "the body is not valid JSON (nor nested more than 200 deep)")
    if error["type"] == "model_type":
        return FieldError(pointer, "the body must be a JSON object")
    if error["type"] == "extra_forbidden":
        return FieldError(pointer, "unknown field")
    if error["type"] == "missing":
        return FieldError(pointer, "required")
    field = str(error["loc"][0]) if error["loc"] else ""
    if field == "ids" and len(error["loc"]) == 1:
        return FieldError(pointer, f"give 1 to {MAX_BATCH_IDS} process status ids as a list")
    return FieldError(pointer, _HINTS.get(field, error["msg"]))


def json_pointer(loc: Sequence[int | str]) -> str:
    """``("ids", 3)`` -> ``/ids/3`` (RFC 6901: ``~`` and ``/`` in a name are escaped)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in loc)
