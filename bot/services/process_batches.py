"""Taking process ids from other systems (the HTTP API, the CLI): checking them, and watching them as a batch.

Checking never stores anything: a request is checked whole, and only a request with no bad field is
handed to the store, where a repeated request finds the batch it created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.bol.models import ENTITY_ID, EVENT_TYPES, PROCESS_ID
from bot.slack_ids import CHANNEL_ID
from bot.storage.records import BatchCreated, Notify
from bot.storage.store import Store

MAX_BATCH_IDS = 1000
LABEL_MAX_LENGTH = 200
REQUEST_FIELDS = frozenset({"ids", "channel", "label", "notify"})


@dataclass(frozen=True)
class FieldError:
    """One bad field: ``pointer`` is a JSON Pointer into the request (``/ids/3``)."""

    pointer: str
    detail: str


class InvalidBatchRequest(Exception):
    """The request has bad fields; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.pointer}: {e.detail}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class BatchRequest:
    ids: tuple[str, ...]
    channel: str | None = None
    label: str | None = None
    notify: Notify | None = None


def batch_request(body: Any) -> BatchRequest:
    """A checked request from a decoded JSON body; raises ``InvalidBatchRequest`` naming every bad field."""
    if not isinstance(body, Mapping):
        raise InvalidBatchRequest([FieldError("", "the body must be a JSON object")])
    errors = [FieldError(f"/{name}", "unknown field") for name in body if name not in REQUEST_FIELDS]
    ids = _ids(body.get("ids"), errors)
    channel = _optional_text(body, "channel", errors)
    label = _optional_text(body, "label", errors)
    notify = _optional_text(body, "notify", errors)
    request = BatchRequest(ids=ids, channel=channel, label=label, notify=None)
    return checked(request, notify, errors)


def checked(
    request: BatchRequest, notify: str | None, errors: list[FieldError] | None = None
) -> BatchRequest:
    """``request`` with ``notify`` read, after checking its ids, channel and label (also for the CLI)."""
    errors = list(errors or [])
    if not request.ids and not any(e.pointer.startswith("/ids") for e in errors):
        errors.append(FieldError("/ids", f"give 1 to {MAX_BATCH_IDS} process status ids"))
    if len(set(request.ids)) > MAX_BATCH_IDS:
        errors.append(FieldError("/ids", f"too many ids: at most {MAX_BATCH_IDS} a request"))
    errors.extend(
        FieldError(f"/ids/{index}", "a process status id is 1 to 64 letters, digits, '-' or '_'")
        for index, value in enumerate(request.ids)
        if not PROCESS_ID.fullmatch(value)
    )
    if request.channel is not None and not CHANNEL_ID.fullmatch(request.channel):
        errors.append(FieldError("/channel", "a channel id starts with C or G, e.g. C0123456789"))
    if request.label is not None and not 1 <= len(request.label.strip()) <= LABEL_MAX_LENGTH:
        errors.append(FieldError("/label", f"a label is 1 to {LABEL_MAX_LENGTH} characters"))
    parsed_notify = None
    if notify is not None:
        try:
            parsed_notify = Notify(notify)
        except ValueError:
            errors.append(FieldError("/notify", "notify is 'failures' or 'all'"))
    if errors:
        raise InvalidBatchRequest(errors)
    label = request.label.strip() if request.label is not None else None
    return BatchRequest(ids=request.ids, channel=request.channel, label=label, notify=parsed_notify)


def _ids(raw: Any, errors: list[FieldError]) -> tuple[str, ...]:
    if raw is None:
        errors.append(FieldError("/ids", f"required: a list of 1 to {MAX_BATCH_IDS} process status ids"))
        return ()
    if not isinstance(raw, list):
        errors.append(FieldError("/ids", "must be a list of process status ids"))
        return ()
    ids: list[str] = []
    for index, value in enumerate(raw):
        if isinstance(value, str):
            ids.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            ids.append(str(value))
        else:
            errors.append(FieldError(f"/ids/{index}", "a process status id is a string"))
            ids.append("?")  # keeps indexes aligned; the request is rejected anyway
    return tuple(ids)


def _optional_text(body: Mapping[str, Any], name: str, errors: list[FieldError]) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    errors.append(FieldError(f"/{name}", "must be a string"))
    return None


class BatchIngest:
    """Watches checked requests as batches, with the deployment's default channel and notify."""

    def __init__(self, store: Store, *, default_channel: str, default_notify: Notify) -> None:
        self._store = store
        self._default_channel = default_channel
        self._default_notify = default_notify

    async def watch(self, request: BatchRequest, *, requested_by: str) -> BatchCreated:
        return await self._store.create_batch(
            request.ids,
            request.channel or self._default_channel,
            label=request.label,
            notify=request.notify or self._default_notify,
            requested_by=requested_by,
        )


@dataclass(frozen=True)
class FollowRequest:
    entity_id: str
    event_type: str
    channel: str | None = None


def follow_request(body: Any) -> FollowRequest:
    """A checked follow from a decoded JSON body; raises ``InvalidBatchRequest`` naming every bad field."""
    if not isinstance(body, Mapping):
        raise InvalidBatchRequest([FieldError("", "the body must be a JSON object")])
    errors = [
        FieldError(f"/{n}", "unknown field") for n in body if n not in ("entity_id", "event_type", "channel")
    ]
    entity_id = _optional_text(body, "entity_id", errors)
    event_type = _optional_text(body, "event_type", errors)
    channel = _optional_text(body, "channel", errors)
    if entity_id is None or not ENTITY_ID.fullmatch(entity_id):
        errors.append(
            FieldError("/entity_id", "an entity id is 1 to 100 letters, digits, '.', ':', '-' or '_'")
        )
    if event_type is None or event_type.upper() not in EVENT_TYPES:
        errors.append(FieldError("/event_type", "one of the event types of bol.com's process-status API"))
    if channel is not None and not CHANNEL_ID.fullmatch(channel):
        errors.append(FieldError("/channel", "a channel id starts with C or G, e.g. C0123456789"))
    if errors:
        raise InvalidBatchRequest(errors)
    assert entity_id is not None and event_type is not None
    return FollowRequest(entity_id, event_type.upper(), channel)
