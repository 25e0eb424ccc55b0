"""The configuration reference and ``.env.example``, from the settings model.

Each setting's text is its field's ``description``; its example values (the placeholders of
``.env.example`` for required settings) are the field's ``examples``. Settings are grouped by name
into sections; a setting no section claims lands in "Other settings", so a new one is never left out.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.settings import Settings


@dataclass(frozen=True)
class Section:
    title: str
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def claims(self, name: str) -> bool:
        return name in self.names or name.startswith(self.prefixes)


SECTIONS = (
    Section("Slack", prefixes=("slack_",)),
    Section("HCL Commerce", prefixes=("commerce_",)),
    Section("bol.com", prefixes=("bol_",)),
    Section(
        "Channels and approvers",
        frozenset(
            {"approvals_channel", "approvals_routes_file", "process_status_channel", "approvers", "viewers"}
        ),
    ),
    Section(
        "Who decides",
        frozenset({"decide_as", "allow_self_approval", "require_linked_approvers"}),
        prefixes=("auto_link_",),
    ),
    Section(
        "The approver's day",
        frozenset({"tz"}),
        prefixes=(
            "approvals_remind_",
            "approvals_escalat",
            "approvals_digest_",
            "approvals_backlog_",
            "approvals_followup_",
            "reminder_",
        ),
    ),
    Section("Process-status ingest, batch cards and follows", prefixes=("api_", "process_")),
    Section(
        "Polling, limits and retention",
        frozenset(
            {"approvals_poll_seconds", "notifier_enabled", "max_concurrent_work", "check_timeout_seconds"}
        ),
        prefixes=("retention_", "audit_"),
    ),
    Section("Database", prefixes=("database_",)),
    Section(
        "HTTP server, logs and replicas",
        frozenset({"host", "port", "request_read_timeout_seconds", "metrics_port", "replica_id"}),
        prefixes=("log_",),
    ),
)
OTHER = "Other settings"

# Settings with a default that a new deployment still sets: shown uncommented in .env.example, with
# their placeholder (Commerce and bol.com are each optional, but the example sets up both).
SET_IN_ENV_EXAMPLE = frozenset(
    {
        "commerce_base_url",
        "commerce_store_id",
        "commerce_logon_id",
        "commerce_logon_password",
        "bol_client_id",
        "bol_client_secret",
        "approvals_channel",
        "process_status_channel",
        "approvers",
    }
)

_ENV_HEADER = """\
# Copy to .env and fill in. Every variable can also come from the environment.
# Generated from bot/settings.py by `python -m bot.docs`: edit the descriptions there, not here.
# The values below are placeholders: `approvals-bot serve` and `check` refuse to start (exit code 2,
# one line per variable) until each is replaced. The commented lines show each optional setting
# with an example or its default; docs/configuration.md says more.
# Comments stay on their own lines: `docker --env-file` keeps anything after `=`, an inline
# comment included, as part of the value.
"""


def sections() -> list[tuple[str, list[tuple[str, FieldInfo]]]]:
    """Each section's title and its settings, in the model's order; empty sections left out."""
    fields = Settings.model_fields
    grouped: dict[str, list[tuple[str, FieldInfo]]] = {section.title: [] for section in SECTIONS}
    grouped[OTHER] = []
    for name, field in fields.items():
        exact = next((s.title for s in SECTIONS if name in s.names), None)
        title = exact or next((s.title for s in SECTIONS if s.claims(name)), OTHER)
        grouped[title].append((name, field))
    return [(title, items) for title, items in grouped.items() if items]


def undocumented() -> list[str]:
    """The environment variables whose field has no description."""
    return [
        name.upper() for name, field in Settings.model_fields.items() if not (field.description or "").strip()
    ]


# -- the configuration reference ------------------------------------------------------------------
def configuration_reference() -> str:
    parts = []
    for title, items in sections():
        rows = [
            f"| `{name.upper()}` | {_required_cell(field)} | {_default_cell(field)} "
            f"| {_cell(field.description)} |"
            for name, field in items
        ]
        table = "\n".join(["| Variable | Required | Default | Meaning |", "| --- | --- | --- | --- |", *rows])
        parts.append(f"## {title}\n\n{table}\n")
    return "\n".join(parts)


def _required_cell(field: FieldInfo) -> str:
    """``yes``, ``no``, or what it is required with (``json_schema_extra={"required_with": "..."}``)."""
    if field.is_required():
        return "yes"
    required_with = _extra(field).get("required_with")
    return f"with {required_with}" if isinstance(required_with, str) else "no"


def _default_cell(field: FieldInfo) -> str:
    if field.is_required():
        return ""
    shown = _extra(field).get("shown_default")
    if isinstance(shown, str):
        return shown
    value = _default(field)
    if value is None:
        return "unset"
    text = env_value(value)
    return f"`{text}`" if text else "empty"


def _cell(description: str | None) -> str:
    return " ".join(_markdown(description or "").split()).replace("|", "\\|")


def _markdown(description: str) -> str:
    """A docstring's reStructuredText literals (````x````) as Markdown code (```x```)."""
    return description.replace("``", "`")


# -- .env.example ----------------------------------------------------------------------------------
def env_example() -> str:
    lines = [_ENV_HEADER.rstrip("\n")]
    for title, items in sections():
        lines += ["", f"# --- {title} ---"]
        for name, field in items:
            lines += _env_lines(name, field)
    return "\n".join(lines) + "\n"


def _env_lines(name: str, field: FieldInfo) -> list[str]:
    env = name.upper()
    comment = textwrap.wrap(_plain(_markdown(field.description or "")), width=98)
    lines = [f"# {line}" for line in comment]
    examples = [env_value(example) for example in field.examples or []]
    if field.is_required() or name in SET_IN_ENV_EXAMPLE:
        return [*lines, f"{env}={examples[0] if examples else ''}"]
    if examples:
        return [*lines, *(f"# {env}={example}" for example in examples)]
    default = None if _extra(field).get("shown_default") else _default(field)
    return [*lines, f"# {env}={'' if default is None else env_value(default)}"]


def _plain(description: str) -> str:
    """Markdown links become their text and the page they point to (under docs/)."""
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (docs/\2)", description)


# -- values as they are written in the environment -------------------------------------------------
def env_value(value: Any) -> str:
    """``value`` as one would write it in ``.env``: ``4h``, ``true``, ``10``, ``a,b``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, SecretStr):
        return value.get_secret_value()  # a default, not a secret
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ",".join(env_value(item) for item in value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return str(seconds)


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}
