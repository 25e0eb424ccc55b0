"""Runtime settings from environment variables (and an optional ``.env``).

``Settings`` is the only reader of the environment; every other module gets plain values from it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# The placeholders ``.env.example`` ships with: a copied, unedited example must not start as if it
# were configured (it would look healthy and fail every poll).
EXAMPLE_VALUES = frozenset(
    {
        "xoxb-your-bot-token",
        "xapp-your-app-token",
        "your-signing-secret",
        "change-me",
        "your-client-id",
        "your-client-secret",
        "C0123456789",
        "U0123456789",
        "S0123456789",
    }
)
EXAMPLE_HOSTS = frozenset({"commerce.example.com"})


def is_example_value(value: object) -> bool:
    """True when ``value`` (a string, a secret or a list of them) holds a placeholder of ``.env.example``."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, list):
        return any(is_example_value(item) for item in value)
    if not isinstance(value, str):
        return False
    if value in EXAMPLE_VALUES:
        return True
    try:
        return urlsplit(value).hostname in EXAMPLE_HOSTS
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_post_interval_seconds: float = Field(default=1.0, ge=0)
    """Minimum gap between two messages posted in one channel (Slack allows about one per second)."""

    commerce_base_url: str
    commerce_store_id: str
    commerce_logon_id: str
    commerce_logon_password: SecretStr
    commerce_timeout_seconds: float = Field(default=10.0, gt=0)

    bol_client_id: str
    bol_client_secret: SecretStr
    bol_api_url: str = "https://api.bol.com"
    bol_token_url: str = "https://login.bol.com/token"  # noqa: S105 - a URL, not a secret
    bol_timeout_seconds: float = Field(default=10.0, gt=0)

    approvals_channel: str
    process_status_channel: str
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    viewers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Who may ``list`` and ``show`` (user and user-group ids); empty: everyone in the workspace."""

    approvals_poll_seconds: float = Field(default=30.0, gt=0)
    commerce_page_size: int = Field(default=200, ge=1, le=1000)
    """Approvals per page when the notifier lists every pending approval."""
    process_status_poll_seconds: float = Field(default=15.0, gt=0)
    notifier_enabled: bool = True

    max_concurrent_work: int = Field(default=16, ge=1, le=1024)
    """Slack requests worked on at once after the ack; a few times more may wait, beyond that the
    user is told the bot is busy."""

    check_timeout_seconds: float = Field(default=10.0, gt=0)
    """Time limit for each line of ``approvals-bot check``."""

    retention_days: int = Field(default=90, ge=1)
    """Closed cards, finished watches and done decision claims are deleted this long after they ended."""
    audit_retention_days: int | None = Field(default=None, ge=1)
    """Audit rows older than this are deleted; unset keeps them forever."""

    database_url: str = "sqlite:///./approvals-bot.db"
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    """Time limit of every database call, of connecting, and of the readiness check's write."""
    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces; HOST=127.0.0.1 on a laptop
    port: int = Field(default=3000, ge=0, le=65535)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """When set, ``/metrics`` is served on this port only, and no longer on ``port``."""
    log_level: str = "INFO"

    @field_validator("*")
    @classmethod
    def _not_an_example(cls, value: object) -> object:
        if is_example_value(value):
            raise PydanticCustomError(
                "example_value", "still the placeholder from .env.example; replace it with your own value"
            )
        return value

    # -- process-status ingest API, batch cards, entity follows ----------------------------------------
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    """Bearer tokens of the ingest API (comma-separated); empty turns the API off."""
    process_status_notify: Literal["failures", "all"] = "failures"
    """Default of a batch's ``notify``: which finished processes get a reply in the card's thread."""
    process_failure_mention: str | None = None
    """A user (``U…``) or user group (``S…``) mentioned when a batch completes with failures."""
    process_stuck_after: timedelta = Field(default=timedelta(hours=3), gt=timedelta(0))
    """A batch's process still PENDING this long after the batch started is marked stuck."""

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_api_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("process_failure_mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        if value is not None and value.strip() == "":
            return None
        if value is not None and not re.fullmatch(r"[US][A-Z0-9_]{1,40}", value.strip()):
            raise ValueError("must be a user id (U…) or a user-group id (S…)")
        return value.strip() if value is not None else None

    @field_validator("approvers", "viewers", mode="before")
    @classmethod
    def _split_approvers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("commerce_base_url", "bol_api_url", "bol_token_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgres://", "sqlite+", "postgresql+")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("metrics_port")
    @classmethod
    def _own_port(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value and value == info.data.get("port"):
            raise ValueError("must differ from PORT (leave it unset to serve /metrics on PORT)")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad environment variable, never echoing its value."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "settings"
        if item["type"] == "missing":
            lines.append(f"{name}: required but not set")
        else:
            lines.append(f"{name}: {item['msg']}")
    return lines
