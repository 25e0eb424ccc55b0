"""The OpenAPI 3.1 document of the ingest API, served at ``GET /api/v1/openapi.json``.

The request schemas are generated from the pydantic models that check the requests
(``bot/services/process_batches.py``), so the document cannot drift from what the routes accept; the
answers' schemas are written here, and the tests hold them to the real answers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.services.process_batches import FollowRequest, ProcessIdParameter, WatchRequest
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
            **_problems(400, 401, 403, 413, 415, 429, 503),
        },
    }


def _delete_watch() -> dict[str, Any]:
    return {
        "operationId": "deleteWatch",
        "summary": "Stop watching a process",
        "parameters": [_path("process_id", _field(ProcessIdParameter, "process_id"))],
        "responses": {"204": {"description": "No longer watched"}, **_problems(400, 401, 403, 404, 429, 503)},
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
            **_problems(401, 404, 429, 503),
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
            **_problems(400, 401, 403, 409, 413, 415, 429, 503),
        },
    }


def _delete_follow() -> dict[str, Any]:
    return {
        "operationId": "deleteFollow",
        "summary": "Stop following",
        "parameters": [
            _path("entity_id", _field(FollowRequest, "entity_id")),
            _path("event_type", _field(FollowRequest, "event_type")),
            {
                "name": "channel",
                "in": "query",
                "required": False,
                "schema": _field(FollowRequest, "channel")["anyOf"][0],
            },
        ],
        "responses": {
            "204": {"description": "No longer followed"},
            **_problems(400, 401, 403, 404, 429, 503),
        },
    }


_PROBLEM_TITLES = {
    400: "Invalid request: ``errors`` names each bad field",
    401: "No bearer token, or not one of API_TOKENS",
    403: "The caller's scope (read) or channels do not allow this",
    404: "Not found, or not the caller's",
    409: "A cap on follows (per caller, or in total) is reached: ``cap`` says which number",
    413: "Body over 1 MiB",
    415: "Body not sent as application/json",
    429: "Too many failed authentications from this address: wait ``Retry-After`` seconds",
    503: "Temporarily unavailable (the database): try again later",
}


_PROBLEM_HEADERS = {
    429: {
        "Retry-After": {
            "description": "Seconds until this address may try again",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _PROBLEM_TITLES[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}},
            **({"headers": _PROBLEM_HEADERS[status]} if status in _PROBLEM_HEADERS else {}),
        }
        for status in statuses
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": _REF + schema}}}}


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


# -- schemas ---------------------------------------------------------------------------------------
def request_schemas() -> dict[str, Any]:
    """The request bodies' schemas, generated from the models that check them."""
    _, generated = models_json_schema(
        [(WatchRequest, "validation"), (FollowRequest, "validation")], ref_template=_REF + "{model}"
    )
    schemas: dict[str, Any] = generated["$defs"]
    return schemas


def _field(model: type[BaseModel], name: str) -> dict[str, Any]:
    """One field's generated schema (for path and query parameters)."""
    field: dict[str, Any] = model.model_json_schema()["properties"][name]
    return {key: value for key, value in field.items() if key not in ("title", "default", "description")}


def _schemas() -> dict[str, Any]:
    moment = {"type": "string", "format": "date-time"}
    optional_text = {"type": ["string", "null"]}
    return {
        **request_schemas(),
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
        "Follow": {
            "type": "object",
            "required": [
                *("entity_id", "event_type", "channel", "created"),
                *("follows", "follows_cap", "follows_total_cap"),
            ],
            "properties": {
                "entity_id": {"type": "string"},
                "event_type": _field(FollowRequest, "event_type"),
                "channel": {"type": "string"},
                "created": {"type": "boolean"},
                "follows": {"type": "integer", "minimum": 0, "description": "the caller's follows now"},
                "follows_cap": {"type": ["integer", "null"], "description": "the caller's cap"},
                "follows_total_cap": {"type": "integer", "description": "the cap of all callers"},
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
