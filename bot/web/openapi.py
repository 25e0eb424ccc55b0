"""The OpenAPI 3.1 document of the ingest API, served at ``GET /api/v1/openapi.json``.

Built from the same limits and patterns the request checks use (``bot/services/process_batches.py``),
so the document cannot drift from what the routes accept; the tests hold it to the real answers.
"""

from __future__ import annotations

from typing import Any

from bot.bol.models import ENTITY_ID, EVENT_TYPES, PROCESS_ID
from bot.services.process_batches import LABEL_MAX_LENGTH, MAX_BATCH_IDS
from bot.slack_ids import CHANNEL_ID
from bot.storage.records import MemberState, Notify

OPENAPI_VERSION = "3.1.0"
BATCH_ID_PATTERN = "^[A-Za-z0-9]{1,32}$"
PROBLEM_JSON = "application/problem+json"

_REF = "#/components/schemas/"


def openapi_document(*, watches: str, batches: str, follows: str) -> dict[str, Any]:
    """The document for routes mounted at the given paths (``/api/v1/process-status/...``)."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "commerce-approvals-bot ingest API",
            "version": "1",
            "description": "Hand bol.com process status ids to the bot to watch as batches, "
            "and follow entities. Errors are RFC 9457 problem details.",
        },
        "security": [{"bearer": []}],
        "paths": {
            watches: {"post": _create_watches()},
            f"{watches}/{{process_id}}": {"delete": _delete_watch()},
            f"{batches}/{{batch_id}}": {"get": _get_batch()},
            follows: {"post": _create_follow()},
            f"{follows}/{{entity_id}}/{{event_type}}": {"delete": _delete_follow()},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }


# -- operations ------------------------------------------------------------------------------------
def _create_watches() -> dict[str, Any]:
    created = {
        "description": "The batch",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The batch's URL"}},
        "content": {"application/json": {"schema": {"$ref": _REF + "BatchCreated"}}},
    }
    return {
        "operationId": "createWatches",
        "summary": "Watch process status ids as one batch",
        "requestBody": _json_body("WatchRequest"),
        "responses": {
            "201": {**created, "description": "A new batch"},
            "200": {**created, "description": "A repeated request, or no id was new: the existing batch"},
            **_problems(400, 401, 413, 415, 503),
        },
    }


def _delete_watch() -> dict[str, Any]:
    return {
        "operationId": "deleteWatch",
        "summary": "Stop watching a process",
        "parameters": [_path("process_id", {"type": "string", "pattern": PROCESS_ID.pattern})],
        "responses": {"204": {"description": "No longer watched"}, **_problems(400, 401, 404, 503)},
    }


def _get_batch() -> dict[str, Any]:
    return {
        "operationId": "getBatch",
        "summary": "A batch's counts per state and its failures",
        "parameters": [_path("batch_id", {"type": "string", "pattern": BATCH_ID_PATTERN})],
        "responses": {
            "200": {
                "description": "The batch",
                "content": {"application/json": {"schema": {"$ref": _REF + "Batch"}}},
            },
            **_problems(401, 404, 503),
        },
    }


def _create_follow() -> dict[str, Any]:
    followed = {"content": {"application/json": {"schema": {"$ref": _REF + "Follow"}}}}
    return {
        "operationId": "createFollow",
        "summary": "Announce each process of an entity and event type that finishes",
        "requestBody": _json_body("FollowRequest"),
        "responses": {
            "201": {**followed, "description": "Now followed"},
            "200": {**followed, "description": "Already followed"},
            **_problems(400, 401, 413, 415, 503),
        },
    }


def _delete_follow() -> dict[str, Any]:
    return {
        "operationId": "deleteFollow",
        "summary": "Stop following",
        "parameters": [
            _path("entity_id", {"type": "string", "pattern": ENTITY_ID.pattern}),
            _path("event_type", {"type": "string", "enum": list(EVENT_TYPES)}),
            {
                "name": "channel",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": CHANNEL_ID.pattern},
            },
        ],
        "responses": {"204": {"description": "No longer followed"}, **_problems(400, 401, 404, 503)},
    }


_PROBLEM_TITLES = {
    400: "Invalid request: ``errors`` names each bad field",
    401: "No bearer token, or not one of API_TOKENS",
    404: "Not found",
    413: "Body over 1 MiB",
    415: "Body not sent as application/json",
    503: "Temporarily unavailable (the database): try again later",
}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _PROBLEM_TITLES[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}},
        }
        for status in statuses
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": _REF + schema}}}}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


# -- schemas ---------------------------------------------------------------------------------------
def _schemas() -> dict[str, Any]:
    moment = {"type": "string", "format": "date-time"}
    optional_text = {"type": ["string", "null"]}
    return {
        "WatchRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ids"],
            "properties": {
                "ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_BATCH_IDS,
                    "items": {"type": "string", "pattern": PROCESS_ID.pattern},
                },
                "channel": {"type": "string", "pattern": CHANNEL_ID.pattern},
                "label": {"type": "string", "minLength": 1, "maxLength": LABEL_MAX_LENGTH, "pattern": r"\S"},
                "notify": {"type": "string", "enum": [n.value for n in Notify]},
            },
        },
        "BatchCreated": {
            "type": "object",
            "required": ["batch_id", "new", "created", "url"],
            "properties": {
                "batch_id": {"type": "string", "pattern": BATCH_ID_PATTERN},
                "new": {"type": "integer", "minimum": 0},
                "created": {"type": "boolean"},
                "url": {"type": "string"},
            },
        },
        "Batch": {
            "type": "object",
            "required": [
                *("batch_id", "label", "channel", "notify", "single_watch", "created_at", "completed_at"),
                *("total", "finished", "stuck", "counts", "failures"),
            ],
            "properties": {
                "batch_id": {"type": "string"},
                "label": optional_text,
                "channel": {"type": "string"},
                "notify": {"type": "string", "enum": [n.value for n in Notify]},
                "single_watch": {
                    "type": "boolean",
                    "description": "A watch of one process from Slack: one message when it finishes, no card",
                },
                "created_at": moment,
                "completed_at": {**moment, "type": ["string", "null"]},
                "total": {"type": "integer", "minimum": 0},
                "finished": {"type": "integer", "minimum": 0},
                "stuck": {"type": "integer", "minimum": 0},
                "counts": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [s.value for s in MemberState],
                    "properties": {s.value: {"type": "integer", "minimum": 0} for s in MemberState},
                },
                "failures": {"type": "array", "items": {"$ref": _REF + "Failure"}},
            },
        },
        "Failure": {
            "type": "object",
            "required": [
                *("process_status_id", "state", "entity_id"),
                *("event_type", "error_message", "finished_at"),
            ],
            "properties": {
                "process_status_id": {"type": "string"},
                "state": {"type": "string", "enum": [MemberState.FAILURE.value, MemberState.TIMEOUT.value]},
                "entity_id": optional_text,
                "event_type": optional_text,
                "error_message": optional_text,
                "finished_at": {**moment, "type": ["string", "null"]},
            },
        },
        "FollowRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["entity_id", "event_type"],
            "properties": {
                "entity_id": {"type": "string", "pattern": ENTITY_ID.pattern},
                "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
                "channel": {"type": "string", "pattern": CHANNEL_ID.pattern},
            },
        },
        "Follow": {
            "type": "object",
            "required": ["entity_id", "event_type", "channel", "created"],
            "properties": {
                "entity_id": {"type": "string"},
                "event_type": {"type": "string", "enum": list(EVENT_TYPES)},
                "channel": {"type": "string"},
                "created": {"type": "boolean"},
            },
        },
        "Problem": {
            "type": "object",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["pointer", "detail"],
                        "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
                    },
                },
            },
        },
    }
