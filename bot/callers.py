"""The ingest API's callers: who holds which bearer token, where it may post, and what it may do.

Read from ``API_TOKENS`` (a JSON list of callers, or a bare comma-separated list of tokens) or from
``API_TOKENS_FILE`` (the same list as YAML or JSON). A bare token gets a name derived from its hash
(``token-1a2b3c4d``, stable whatever the order of the list), the default channel only and the
``write`` scope. A token is at least ``MIN_TOKEN_LENGTH`` characters and unique; a name is unique.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.slack_ids import CHANNEL_ID

MIN_TOKEN_LENGTH = 32
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
REQUESTER_PREFIX = "api:"
"""Batches and follows record ``api:<name>`` as ``requested_by``: never a Slack user (``U…``) or ``cli``."""


class Scope(enum.StrEnum):
    READ = "read"
    """Read its own batches."""
    WRITE = "write"
    """Read, and create and cancel its own watches and follows."""


class ApiCaller(BaseModel):
    """One caller of the ingest API; ``channels`` empty means the default (``PROCESS_STATUS_CHANNEL``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    token: SecretStr
    channels: tuple[str, ...] = ()
    scope: Scope = Scope.WRITE

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().strip()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"a token is at least {MIN_TOKEN_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("channels")
    @classmethod
    def _channel_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for channel in value:
            if not CHANNEL_ID.fullmatch(channel):
                raise ValueError(f"{channel[:20]!r} is not a channel id (C… or G…)")
        return value

    @property
    def requested_by(self) -> str:
        return REQUESTER_PREFIX + self.name

    def may_post_in(self, channel: str, default_channel: str) -> bool:
        return channel in (self.channels or (default_channel,))

    def can(self, scope: Scope) -> bool:
        return self.scope is Scope.WRITE or scope is Scope.READ


def derived_name(token: str) -> str:
    """The name of a bare token: stable, and says nothing that helps guess the token."""
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:8]


def callers_from_text(text: str) -> list[dict[str, Any]] | list[Any]:
    """The raw caller entries of ``API_TOKENS``: a JSON list, or bare comma-separated tokens."""
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("["):
        loaded = json.loads(stripped)
        if not isinstance(loaded, list):
            raise ValueError("must be a JSON list of callers")
        return loaded
    return [{"token": part.strip()} for part in stripped.split(",") if part.strip()]


def callers_from_file(path: Path) -> list[Any]:
    """The raw caller entries of ``API_TOKENS_FILE`` (YAML or JSON: a list, or ``{callers: [...]}``).

    ``ValueError`` when it is not such a file (invalid YAML included). The YAML parser is
    imported here, only when the file is set."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:  # its text may quote the file, tokens and all: never passed on
        raise ValueError("not valid YAML") from None
    if isinstance(loaded, dict) and "callers" in loaded:
        loaded = loaded["callers"]
    if loaded is None:
        return []
    if not isinstance(loaded, list):
        raise ValueError("must hold a list of callers (name, token, channels, scope)")
    return loaded


def with_names(entries: Sequence[Any]) -> list[Any]:
    """Entries with a derived name where none is given (a bare token)."""
    named = []
    for given in entries:
        entry = {"token": given} if isinstance(given, str) else given
        if isinstance(entry, dict) and "name" not in entry and isinstance(entry.get("token"), str):
            entry = {**entry, "name": derived_name(entry["token"].strip())}
        named.append(entry)
    return named


def check_unique(callers: Sequence[ApiCaller]) -> None:
    """Raises ``ValueError`` when two callers share a name or a token."""
    tokens = [c.token.get_secret_value() for c in callers]
    if len(set(tokens)) != len(tokens):
        raise ValueError("API_TOKENS, API_TOKENS_FILE: two callers have the same token")
    names = [c.name for c in callers]
    if len(set(names)) != len(names):
        raise ValueError("API_TOKENS, API_TOKENS_FILE: two callers have the same name")
