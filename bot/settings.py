"""Runtime settings from environment variables (and an optional ``.env``)."""

from __future__ import annotations

import socket
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_FORMATS = ("text", "json")


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

    approvals_poll_seconds: float = Field(default=30.0, gt=0)
    process_status_poll_seconds: float = Field(default=15.0, gt=0)
    notifier_enabled: bool = True

    database_url: str = "sqlite:///./approvals-bot.db"
    port: int = Field(default=3000, ge=0, le=65535)
    log_level: str = "INFO"

    replica_id: str = Field(default_factory=socket.gethostname, min_length=1)
    """Names this replica in logs, metrics and ``pg_stat_activity`` (on Kubernetes: the pod name)."""

    log_format: str = "text"
    """``text`` (one readable line per event) or ``json`` (one JSON object per line)."""

    @field_validator("approvers", mode="before")
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

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        log_format = value.lower()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
        return log_format

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
