"""Block Kit's per-block limits, as Slack checks them on ``views.*`` (what the emulator refuses).

Only the limits of the elements the bot uses: sections, fields, headers, context, actions with
buttons and checkboxes, inputs, dividers. Unknown block types are an error, as a typo would be.
"""

from __future__ import annotations

from typing import Any

SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
CHECKBOX_OPTIONS = 10
OPTION_TEXT = 75
OPTION_DESCRIPTION = 75
OPTION_VALUE = 150
KNOWN = {"section", "header", "context", "actions", "divider", "input"}


def block_limit_errors(blocks: list[Any]) -> list[str]:
    """What in ``blocks`` breaks Block Kit's limits; ``[]`` when nothing does."""
    errors: list[str] = []
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        errors.append("duplicate block_id")
    for position, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") not in KNOWN:
            errors.append(f"block {position}: unknown block")
            continue
        errors.extend(f"block {position}: {e}" for e in _block_errors(block))
    return errors


def _text(obj: Any, limit: int) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"]:
        return ["missing text"]
    return [f"text over {limit}"] if len(obj["text"]) > limit else []


def _block_errors(block: dict[str, Any]) -> list[str]:
    kind = block["type"]
    errors: list[str] = []
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        errors.append("block_id too long")
    if kind == "section":
        if "text" in block:
            errors += _text(block["text"], SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS:
            errors.append("too many fields")
        for field in fields:
            errors += _text(field, FIELD_TEXT)
        if "text" not in block and not fields:
            errors.append("section without text or fields")
    elif kind == "header":
        errors += _text(block.get("text"), HEADER_TEXT)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            errors.append("context elements out of bounds")
        for element in elements:
            errors += _text(element, FIELD_TEXT)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            errors.append("actions elements out of bounds")
        for element in elements:
            errors += _element_errors(element)
    return errors


def _element_errors(element: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    if len(str(element.get("action_id", ""))) > ACTION_ID:
        errors.append("action_id too long")
    if element.get("type") == "button":
        errors += _text(element.get("text"), BUTTON_TEXT)
        if len(str(element.get("value", ""))) > BUTTON_VALUE:
            errors.append("button value too long")
    elif element.get("type") == "checkboxes":
        options = element.get("options") or []
        if not options or len(options) > CHECKBOX_OPTIONS:
            errors.append("checkbox options out of bounds")
        for option in options:
            errors += _text(option.get("text"), OPTION_TEXT)
            if "description" in option:
                errors += _text(option["description"], OPTION_DESCRIPTION)
            if len(str(option.get("value", ""))) > OPTION_VALUE:
                errors.append("option value too long")
    return errors
