"""The ingest API reference, from the OpenAPI document the bot serves (``bot/web/openapi.py``)."""

from __future__ import annotations

from typing import Any

from bot.web.openapi import openapi_document
from bot.web.process_api import BATCHES_PATH, FOLLOWS_PATH, WATCHES_PATH

_METHODS = ("get", "post", "put", "patch", "delete")


def document() -> dict[str, Any]:
    """The document exactly as ``GET /api/v1/openapi.json`` serves it."""
    return openapi_document(watches=WATCHES_PATH, batches=BATCHES_PATH, follows=FOLLOWS_PATH)


def ingest_api_reference() -> str:
    doc = document()
    info = doc["info"]
    parts = [f"OpenAPI {doc['openapi']}, API version {info['version']}. {info.get('description', '')}"]
    for path, operations in doc["paths"].items():
        for method in _METHODS:
            if method in operations:
                parts.append(_operation(method, path, operations[method]))
    parts.append("### Schemas")
    parts += [_schema(name, schema) for name, schema in doc["components"]["schemas"].items()]
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    lines = [
        f"### `{method.upper()} {path}`",
        "",
        f"{operation.get('summary', '')} (`{operation['operationId']}`).",
    ]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["", "| Parameter | In | Required | Value |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{p['name']}` | {p['in']} | {_yes(p.get('required'))} | {_describe(p['schema'])} |"
            for p in parameters
        ]
    body = operation.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        lines += ["", f"Body (`application/json`): {_describe(schema)}."]
    lines += ["", "| Status | Meaning | Body |", "| --- | --- | --- |"]
    for status, response in operation["responses"].items():
        content = response.get("content", {})
        bodies = ", ".join(f"{_describe(media['schema'])} (`{kind}`)" for kind, media in content.items())
        lines.append(f"| {status} | {_text(response['description'])} | {bodies} |")
    return "\n".join(lines)


def _schema(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = [f"#### {name}", ""]
    if schema.get("additionalProperties") is False:
        lines += ["No other fields are accepted.", ""]
    lines += ["| Field | Required | Value |", "| --- | --- | --- |"]
    lines += [
        f"| `{field}` | {_yes(field in required)} | {_describe(spec)} |"
        for field, spec in schema.get("properties", {}).items()
    ]
    return "\n".join(lines)


def _describe(schema: dict[str, Any]) -> str:
    """One line for a schema: its type and constraints, or a link to the schema it refers to."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    kinds = schema.get("type", "any")
    words = [" or ".join(kinds) if isinstance(kinds, list) else kinds]
    if kinds == "array" and "items" in schema:
        words = [f"array of {_describe(schema['items'])}"]
    if "enum" in schema:
        words.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    for key, label in (
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minimum", "at least {}"),
        ("maximum", "at most {}"),
        ("format", "{}"),
        ("pattern", "matching `{}`"),
    ):
        if key in schema:
            words.append(label.format(schema[key]))
    if kinds == "object" and "properties" in schema and "$ref" not in schema:
        words.append("with " + ", ".join(f"`{field}`" for field in schema["properties"]))
    if "description" in schema:
        words.append(f"({_text(schema['description'])})")
    return _text(", ".join(words))


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def _text(text: str) -> str:
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")
