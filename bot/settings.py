"""Runtime settings from environment variables (and an optional ``.env``).

``Settings`` is the only reader of the environment; every other module gets plain values from it.
"""

from __future__ import annotations

import re
import socket
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.schedule import QuietHours, parse_clock_time, parse_duration, time_zone
from bot.slack_ids import APPROVER_ID, CHANNEL_ID

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_FORMATS = ("text", "json")

# The placeholders ``.env.example`` and the deploy templates (``CHANGE-ME``) ship with, compared
# without case: a copied, unedited example must not start as if it were configured (it would look
# healthy and fail every poll).
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


_EXAMPLE_VALUES_FOLDED = frozenset(value.casefold() for value in EXAMPLE_VALUES)


def is_example_value(value: object) -> bool:
    """True when ``value`` (a string, a secret or a list of them) holds a placeholder of ``.env.example``
    or of a deploy template, in any case, or is a URL with an example host or a placeholder password."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, list):
        return any(is_example_value(item) for item in value)
    if not isinstance(value, str):
        return False
    if value.strip().casefold() in _EXAMPLE_VALUES_FOLDED:
        return True
    try:
        parts = urlsplit(value)
        return parts.hostname in EXAMPLE_HOSTS or is_example_value(parts.password)
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

    # Commerce and bol.com are each optional (all of a backend's settings, or none of them).
    commerce_base_url: str = ""
    commerce_store_id: str = ""
    commerce_logon_id: str = ""
    commerce_logon_password: SecretStr = SecretStr("")
    commerce_timeout_seconds: float = Field(default=10.0, gt=0)

    bol_client_id: str = ""
    bol_client_secret: SecretStr = SecretStr("")
    bol_api_url: str = "https://api.bol.com"
    bol_token_url: str = "https://login.bol.com/token"  # noqa: S105 - a URL, not a secret
    bol_timeout_seconds: float = Field(default=10.0, gt=0)

    approvals_channel: str = ""
    approvals_routes_file: Path | None = None
    """YAML rules that send cards to other channels, with their own approvers (docs/using/routes.md)."""
    process_status_channel: str = ""
    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    viewers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Who may ``list`` and ``show`` (user and user-group ids); empty: everyone in the workspace."""

    # -- who decides: identity links, run-as, self-approval --------------------------------------------
    decide_as: Literal["bot", "linked-user"] = "bot"
    """``bot``: decisions go to Commerce as the service account; ``linked-user``: as the clicker's
    linked Commerce user (``forUserId``), and an unlinked Slack user cannot decide."""
    allow_self_approval: bool = False
    """Let a linked Slack user decide an approval they submitted themselves."""
    auto_link_by_email: bool = False
    """Link an unlinked approver, at their first decision, to the Commerce approver with their confirmed
    Slack e-mail address (``users:read.email``; only the domains of ``AUTO_LINK_EMAIL_DOMAINS``)."""
    auto_link_email_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """The e-mail domains auto-link trusts (comma-separated, e.g. ``example.com``); required with
    ``AUTO_LINK_BY_EMAIL=true``."""
    require_linked_approvers: bool = False
    """Refuse every decision by a Slack user not linked to a Commerce user, also with ``DECIDE_AS=bot``
    (where the bot cannot otherwise see an unlinked approver approving their own request)."""

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

    # -- the approver's day: reminders, escalation, digest, backlog summaries ----------------------
    approvals_remind_after: timedelta = timedelta(hours=4)
    """How long after its card a pending approval gets its first reminder."""
    approvals_remind_every: timedelta = timedelta(hours=24)
    approvals_remind_max: int = Field(default=3, ge=0)
    approvals_escalate_after: timedelta | None = None
    """How long after its card a pending approval is escalated; unset: never."""
    approvals_escalation_channel: str | None = None
    approvals_escalate_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    reminder_quiet_hours: QuietHours | None = None
    tz: str = "UTC"
    """The ``TZ`` of quiet hours (and of the digest unless ``APPROVALS_DIGEST_TZ`` is set)."""
    approvals_digest_at: time | None = None
    approvals_digest_tz: str | None = None
    approvals_backlog_limit: int = Field(default=20, ge=1)
    """More new approvals than this in one poll (per channel) get one summary instead of cards."""
    approvals_followup_poll_seconds: float = Field(default=60.0, gt=0)
    """How often reminders, escalations and the digest are checked."""

    database_url: str = "sqlite:///./approvals-bot.db"
    database_timeout_seconds: float = Field(default=5.0, gt=0)
    """Time limit of every database call, of connecting, and of the readiness check's write."""
    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces; HOST=127.0.0.1 on a laptop
    port: int = Field(default=3000, ge=0, le=65535)
    request_read_timeout_seconds: float = Field(default=10.0, gt=0)
    """A connection that has not sent a complete request head in this time (of opening, or of its
    previous answer) is closed; a body that has not arrived this long after its head is answered 408."""
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    """When set, ``/metrics`` is served on this port only, and no longer on ``port``."""
    log_level: str = "INFO"

    @field_validator("*")
    @classmethod
    def _not_an_example(cls, value: object) -> object:
        if is_example_value(value):
            raise PydanticCustomError(
                "example_value", "still a placeholder of the example files; replace it with your own value"
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

    replica_id: str = Field(default_factory=socket.gethostname, min_length=1)
    """Names this replica in logs, metrics and ``pg_stat_activity`` (on Kubernetes: the pod name)."""

    log_format: str = "text"
    """``text`` (one readable line per event) or ``json`` (one JSON object per line)."""

    @field_validator("approvers", "viewers", mode="before")
    @classmethod
    def _split_approvers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("auto_link_email_domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lstrip("@").casefold() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _auto_link_has_domains(self) -> Settings:
        if self.auto_link_by_email and not self.auto_link_email_domains:
            raise ValueError(
                "AUTO_LINK_BY_EMAIL is on: set AUTO_LINK_EMAIL_DOMAINS to the e-mail domains it may trust"
            )
        return self

    @field_validator(
        "approvals_escalation_channel", "approvals_digest_tz", "approvals_routes_file", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "approvals_remind_after",
        "approvals_remind_every",
        "approvals_escalate_after",
        "process_stuck_after",
        mode="before",
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        """One reading of durations for every setting: ``4h``, ``90m``, seconds, ``1 day, 4:00:00``;
        anything else (an ISO 8601 ``PT3H``) is left to pydantic."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return parse_duration(value)
        except ValueError:
            if value.strip().upper().startswith("P"):  # ISO 8601, e.g. PT3H: pydantic reads it
                return value
            raise

    @field_validator("approvals_escalate_to", mode="before")
    @classmethod
    def _split_escalate_to(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("reminder_quiet_hours", mode="before")
    @classmethod
    def _quiet_hours(cls, value: object) -> object:
        if isinstance(value, str):
            return QuietHours.parse(value) if value.strip() else None
        return value

    @field_validator("approvals_digest_at", mode="before")
    @classmethod
    def _digest_at(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_clock_time(value) if value.strip() else None
        return value

    @field_validator("tz", "approvals_digest_tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            time_zone(value)
        return value

    @model_validator(mode="after")
    def _escalation_has_a_channel(self) -> Settings:
        if self.approvals_escalate_after is not None and not self.approvals_escalation_channel:
            raise ValueError("APPROVALS_ESCALATE_AFTER is set: set APPROVALS_ESCALATION_CHANNEL too")
        return self

    @model_validator(mode="after")
    def _whole_backends(self) -> Settings:
        problems = backend_problems(self)
        if problems:
            raise PydanticCustomError("backend_settings", "{lines}", {"lines": "\n".join(problems)})
        return self

    @property
    def commerce_configured(self) -> bool:
        """All Commerce settings are set: Commerce approvals are on."""
        return all(_is_set(getattr(self, name)) for name in COMMERCE_SETTINGS)

    @property
    def bol_configured(self) -> bool:
        """Both bol.com credentials are set: process status from bol.com is on."""
        return all(_is_set(getattr(self, name)) for name in BOL_SETTINGS)

    @field_validator("commerce_base_url", "bol_api_url", "bol_token_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("commerce_base_url", "bol_api_url", "bol_token_url", "slack_api_url")
    @classmethod
    def _one_scheme(cls, value: str) -> str:
        if value and (re.match(r"https?://+https?:", value, re.IGNORECASE) or not urlsplit(value).hostname):
            raise PydanticCustomError(
                "url", "is not a URL with one scheme and a host name, e.g. https://host:5443/path"
            )
        return value

    @field_validator("approvals_channel", "process_status_channel", "approvals_escalation_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value and not CHANNEL_ID.fullmatch(value):
            raise PydanticCustomError(
                "channel_id",
                "'{value}' is not a channel id: use the id (C… or G…), not the name; Slack shows it "
                "at the bottom of the channel's details",
                {"value": value},
            )
        return value

    @field_validator("approvers", "viewers", "approvals_escalate_to")
    @classmethod
    def _approver_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not APPROVER_ID.fullmatch(item):
                raise PydanticCustomError(
                    "approver_id",
                    "'{value}' is not a user id (U…, W…) or user-group id (S…): a person's profile "
                    "shows it under ⋮ > Copy member ID, a user group's under its details",
                    {"value": item},
                )
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise PydanticCustomError(
                "bot_token",
                'must be the app\'s bot token (xoxb-…, "Bot User OAuth Token" under OAuth & '
                "Permissions){kind}",
                {"kind": _token_kind(value.get_secret_value())},
            )
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        token = "" if value is None else value.get_secret_value()
        if token and not token.startswith("xapp-"):
            raise PydanticCustomError(
                "app_token",
                "must be an app-level token (xapp-…, under Basic Information > App-Level Tokens){kind}",
                {"kind": _token_kind(token)},
            )
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

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        log_format = value.lower()
        if log_format not in LOG_FORMATS:
            raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
        return log_format

    @field_validator("*", mode="before")
    @classmethod
    def _unquoted(cls, value: object) -> object:
        """One pair of matching quotes around the whole value is taken off: a ``.env`` reader does
        that, ``docker --env-file`` does not, and a value must mean the same from either.

        Defined last, so it runs before every other ``before`` validator."""
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            return value[1:-1]
        return value

    @property
    def zone(self) -> ZoneInfo:
        return time_zone(self.tz)

    @property
    def digest_zone(self) -> ZoneInfo:
        return time_zone(self.approvals_digest_tz or self.tz)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())


COMMERCE_SETTINGS = ("commerce_base_url", "commerce_store_id", "commerce_logon_id", "commerce_logon_password")
BOL_SETTINGS = ("bol_client_id", "bol_client_secret")


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return bool(str(value).strip())


def _names(fields: tuple[str, ...]) -> str:
    return ", ".join(name.upper() for name in fields)


def backend_problems(settings: Settings) -> list[str]:
    """``NAME: problem`` lines for a backend set in part, for neither backend, or for a backend
    without its channel; empty when the settings make sense."""
    problems = []
    for fields, backend in (
        (COMMERCE_SETTINGS, "Commerce approvals"),
        (BOL_SETTINGS, "bol.com process status"),
    ):
        given = [_is_set(getattr(settings, name)) for name in fields]
        if any(given) and not all(given):
            problems += [
                f"{name.upper()}: required with the other {backend.split()[0]} settings "
                f"(or unset them all to run without {backend})"
                for name, is_given in zip(fields, given, strict=True)
                if not is_given
            ]
    commerce, bol = settings.commerce_configured, settings.bol_configured
    if not commerce and not bol and not problems:
        problems.append(
            f"settings: set the Commerce settings ({_names(COMMERCE_SETTINGS)}), "
            f"the bol.com settings ({_names(BOL_SETTINGS)}), or both"
        )
    if commerce and not settings.approvals_channel:
        problems.append("APPROVALS_CHANNEL: required but not set (Commerce approvals are on)")
    if bol and not settings.process_status_channel:
        problems.append("PROCESS_STATUS_CHANNEL: required but not set (bol.com process status is on)")
    return problems


def _token_kind(token: str) -> str:
    """``: this is a user token (xoxp-)`` and the like, or nothing for an unknown kind."""
    kinds = {"xoxp-": "a user token", "xoxb-": "a bot token", "xapp-": "an app-level token"}
    for prefix, kind in kinds.items():
        if token.startswith(prefix):
            return f"; this is {kind} ({prefix})"
    return ""


def describe_errors(error: ValidationError) -> list[str]:
    """One line per bad environment variable, never echoing its value."""
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "settings"
        if item["type"] == "backend_settings":
            lines.extend(str(item.get("ctx", {}).get("lines", item["msg"])).splitlines())
        elif item["type"] == "missing":
            lines.append(f"{name}: required but not set")
        else:
            lines.append(f"{name}: {item['msg']}")
    return lines
