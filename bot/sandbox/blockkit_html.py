"""Block Kit to HTML for the sandbox page: sections, fields, headers, context, dividers, buttons, inputs.

Every piece of text is HTML-escaped here, after Slack's own ``&amp; &lt; &gt;`` are undone, so no
message content can add markup to the page; the only tags are the ones these functions write. A
button carries what a click needs (ids, value, its confirm dialog as JSON) in ``data-`` attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import escape
from typing import Any

_SLACK_TOKEN = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")


def _slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _inline(text: str) -> str:
    html = escape(_slack_unescape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<b>\1</b>", html)
    html = _ITALIC.sub(r"<i>\1</i>", html)
    return _STRIKE.sub(r"<s>\1</s>", html)


def _special(token: str, names: Mapping[str, str]) -> str:
    """``<@U1>``, ``<#C1|name>``, ``<!subteam^S1|@team>``, ``<https://x|label>`` as HTML."""
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return f'<span class="mention">@{escape(names.get(target[1:], label or target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{escape(label or names.get(target[1:], target[1:]))}</span>'
    if target.startswith("!date^"):  # a time in the reader's zone; the fallback is UTC
        return f"<time>{escape(_slack_unescape(label))}</time>"
    if target.startswith("!"):
        shown = label or "@" + target[1:].split("^")[0]
        return f'<span class="mention">{escape(_slack_unescape(shown))}</span>'
    if target.startswith(("http://", "https://", "mailto:")):
        url = _slack_unescape(target)
        shown = _slack_unescape(label) if label else url
        return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(shown)}</a>'
    return escape(_slack_unescape(f"<{token}>"))


def mrkdwn(text: str, names: Mapping[str, str]) -> str:
    """Slack's ``mrkdwn`` (bold, italic, strike, code, links, mentions, quotes, line breaks) as HTML."""
    lines = []
    for line in text.split("\n"):
        quoted = line.startswith(("&gt;", ">"))
        html = _line(line.removeprefix("&gt;").removeprefix(">").lstrip() if quoted else line, names)
        lines.append(f"<blockquote>{html}</blockquote>" if quoted else html + "<br>")
    return "".join(lines).removesuffix("<br>")


def _line(text: str, names: Mapping[str, str]) -> str:
    parts: list[str] = []
    position = 0
    for match in _SLACK_TOKEN.finditer(text):
        parts.append(_inline(text[position : match.start()]))
        parts.append(_special(match.group(1), names))
        position = match.end()
    parts.append(_inline(text[position:]))
    return "".join(parts)


def text_object(value: Any, names: Mapping[str, str]) -> str:
    if not isinstance(value, dict):
        return ""
    text = str(value.get("text") or "")
    if value.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    return escape(text).replace("\n", "<br>")


def _attribute_json(value: Any) -> str:
    return escape(json.dumps(value), quote=True)


def button(element: Mapping[str, Any], block_id: str, names: Mapping[str, str]) -> str:
    style = element.get("style")
    classes = "button" + (f" {style}" if style in ("primary", "danger") else "")
    attributes = {
        "data-action-id": str(element.get("action_id") or ""),
        "data-block-id": block_id,
        "data-value": str(element.get("value") or ""),
    }
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        attributes["data-confirm"] = json.dumps(
            {
                "title": str((confirm.get("title") or {}).get("text") or "Are you sure?"),
                "text": str((confirm.get("text") or {}).get("text") or ""),
                "confirm": str((confirm.get("confirm") or {}).get("text") or "Yes"),
                "deny": str((confirm.get("deny") or {}).get("text") or "Cancel"),
            }
        )
    rendered = " ".join(f'{name}="{escape(value, quote=True)}"' for name, value in attributes.items())
    label = text_object(element.get("text"), names)
    return f'<button type="button" class="{classes}" {rendered}>{label}</button>'


def checkboxes(element: Mapping[str, Any], block_id: str, names: Mapping[str, str]) -> str:
    """Ticked boxes go with the next button click of the same view as its ``state.values``."""
    boxes = "".join(
        f'<label class="checkbox"><input type="checkbox" '
        f'value="{escape(str(option.get("value") or ""), quote=True)}">'
        f" {text_object(option.get('text'), names)}</label>"
        for option in element.get("options") or []
        if isinstance(option, dict)
    )
    action_id = escape(str(element.get("action_id") or ""), quote=True)
    return (
        f'<div class="checkboxes" data-block-id="{escape(block_id, quote=True)}" '
        f'data-checkboxes-id="{action_id}">{boxes}</div>'
    )


def _element(element: Any, block_id: str, names: Mapping[str, str]) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "button":
        return button(element, block_id, names)
    if kind == "checkboxes":
        return checkboxes(element, block_id, names)
    if kind in ("mrkdwn", "plain_text"):
        return f"<span>{text_object(element, names)}</span>"
    if kind == "image":  # never loaded: the sandbox calls nothing outside this machine
        return f'<span class="image">[{escape(str(element.get("alt_text") or "image"))}]</span>'
    return f'<span class="unknown">[{escape(str(kind))}]</span>'


def _input(block: Mapping[str, Any], block_id: str, names: Mapping[str, str]) -> str:
    element = block.get("element") or {}
    action_id = escape(str(element.get("action_id") or ""), quote=True)
    placeholder = escape(str((element.get("placeholder") or {}).get("text") or ""), quote=True)
    attributes = (
        f'name="{escape(block_id, quote=True)}" data-action-id="{action_id}" placeholder="{placeholder}"'
    )
    attributes += ' data-element-type="' + escape(str(element.get("type") or ""), quote=True) + '"'
    if element.get("max_length"):
        attributes += f' maxlength="{int(element["max_length"])}"'
    field = (
        f"<textarea {attributes}></textarea>"
        if element.get("multiline")
        else f'<input type="text" {attributes}>'
    )
    optional = ' <span class="optional">(optional)</span>' if block.get("optional") else ""
    return (
        f'<label class="input" data-block-id="{escape(block_id, quote=True)}">'
        f"<span>{text_object(block.get('label'), names)}{optional}</span>{field}"
        f'<span class="error" hidden></span></label>'
    )


def block(value: Any, names: Mapping[str, str]) -> str:
    """One block as HTML; an unknown type shows as its name."""
    if not isinstance(value, dict):
        return ""
    kind = value.get("type")
    block_id = str(value.get("block_id") or "")
    if kind == "divider":
        return "<hr>"
    if kind == "header":
        return f'<div class="header">{text_object(value.get("text"), names)}</div>'
    if kind == "section":
        parts = []
        if value.get("text"):
            parts.append(f'<div class="text">{text_object(value.get("text"), names)}</div>')
        fields = value.get("fields") or []
        if fields:
            cells = "".join(f'<div class="field">{text_object(field, names)}</div>' for field in fields)
            parts.append(f'<div class="fields">{cells}</div>')
        accessory = value.get("accessory")
        side = f'<div class="accessory">{_element(accessory, block_id, names)}</div>' if accessory else ""
        return f'<div class="section"><div class="body">{"".join(parts)}</div>{side}</div>'
    if kind == "context":
        items = "".join(_element(element, block_id, names) for element in value.get("elements") or [])
        return f'<div class="context">{items}</div>'
    if kind == "actions":
        items = "".join(_element(element, block_id, names) for element in value.get("elements") or [])
        return f'<div class="actions">{items}</div>'
    if kind == "input":
        return _input(value, block_id, names)
    if kind == "image":
        return f'<div class="image">[{escape(str(value.get("alt_text") or "image"))}]</div>'
    return f'<div class="unknown">[{escape(str(kind))} block]</div>'


def blocks(values: Any, names: Mapping[str, str], fallback_text: str | None = None) -> str:
    """A message's or view's blocks as HTML; a message without blocks shows its ``text``."""
    if isinstance(values, list) and values:
        return "".join(block(value, names) for value in values)
    return f'<div class="text">{mrkdwn(fallback_text or "", names)}</div>'
