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

from pydantic import (
    Field,
    JsonValue,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.callers import ApiCaller, callers_from_file, callers_from_text, check_unique, with_names
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
        "CHANGE-ME-to-32-or-more-characters",
    }
)
EXAMPLE_HOSTS = frozenset({"commerce.example.com"})


_EXAMPLE_VALUES_FOLDED = frozenset(value.casefold() for value in EXAMPLE_VALUES)


def is_example_value(value: object) -> bool:
    """True when ``value`` (a string, a secret or a list of them) holds a placeholder of ``.env.example``
    or of a deploy template, in any case, or is a URL with an example host or a placeholder password."""
    if isinstance(value, ApiCaller):
        value = value.token
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


# The Required column of the configuration reference (``python -m bot.docs``) for the backends' settings.
COMMERCE_SETTING: dict[str, JsonValue] = {"required_with": "the other Commerce settings (all four or none)"}
BOL_SETTING: dict[str, JsonValue] = {"required_with": "the other bol.com setting (both or neither)"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # A setting's ``description`` is the docs' (``python -m bot.docs``). Not
        # ``use_attribute_docstrings``: it reads and parses this file's source at every start.
    )

    # -- Slack -----------------------------------------------------------------------------------------
    slack_bot_token: SecretStr = Field(
        description="The app's *Bot User OAuth Token* (`xoxb-…`).", examples=["xoxb-your-bot-token"]
    )
    slack_signing_secret: SecretStr = Field(
        description="The app's *Signing Secret* (Basic Information): proves that a request comes from Slack.",
        examples=["your-signing-secret"],
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        description="An app-level token (`xapp-…`, scope `connections:write`); when set the bot uses "
        "Socket Mode and needs no public URL.",
        examples=["xapp-your-app-token"],
    )
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, description="Slack Web API base URL.")
    slack_post_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Gap between Slack's answer to one message posted in a channel and the next "
        "message posted there (Slack allows about one per second per channel).",
    )

    # -- HCL Commerce ----------------------------------------------------------------------------------
    # Commerce and bol.com are each optional (all of a backend's settings, or none of them).
    commerce_base_url: str = Field(
        default="",
        description="Commerce's REST base URL, ending in `/wcs/resources`. Unset with the other Commerce "
        "settings: no Commerce approvals.",
        examples=["https://commerce.example.com:5443/wcs/resources"],
        json_schema_extra=COMMERCE_SETTING,
    )
    commerce_store_id: str = Field(
        default="", description="The store id.", examples=["10801"], json_schema_extra=COMMERCE_SETTING
    )
    commerce_logon_id: str = Field(
        default="",
        description="The Commerce user the bot logs in as: it must be allowed to approve (buyer approver "
        "and order approver roles).",
        examples=["approver"],
        json_schema_extra=COMMERCE_SETTING,
    )
    commerce_logon_password: SecretStr = Field(
        default=SecretStr(""),
        description="That user's password.",
        examples=["change-me"],
        json_schema_extra=COMMERCE_SETTING,
    )
    commerce_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Time limit of one request to Commerce; a decision waits on Commerce for at most "
        "twice this in all.",
    )

    # -- bol.com ---------------------------------------------------------------------------------------
    bol_client_id: str = Field(
        default="",
        description="bol.com Retailer API client id. Unset with the secret: no bol.com process status.",
        examples=["your-client-id"],
        json_schema_extra=BOL_SETTING,
    )
    bol_client_secret: SecretStr = Field(
        default=SecretStr(""),
        description="bol.com Retailer API client secret.",
        examples=["your-client-secret"],
        json_schema_extra=BOL_SETTING,
    )
    bol_api_url: str = Field(default="https://api.bol.com", description="bol.com API base URL.")
    bol_token_url: str = Field(
        default="https://login.bol.com/token",
        description="bol.com token URL (client credentials).",
    )
    bol_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one request to bol.com."
    )

    # -- channels and who may do what ------------------------------------------------------------------
    approvals_channel: str = Field(
        default="",
        description="Channel id where approval cards are posted (those no route sends elsewhere); "
        "invite the bot there.",
        examples=["C0123456789"],
        json_schema_extra={"required_with": "Commerce"},
    )
    approvals_routes_file: Path | None = Field(
        default=None,
        description="Path of a YAML file of [routes](using/routes.md): cards of some approvals go to "
        "other channels, decided by their own approvers, some by two people. A bad file stops `serve` "
        "and `check` (exit code 2) with its line and the problem.",
        examples=["/etc/approvals-bot/routes.yaml"],
    )
    process_status_channel: str = Field(
        default="",
        description="Default channel id for process-status messages and batch cards.",
        examples=["C0123456789"],
        json_schema_extra={"required_with": "bol.com"},
    )
    approvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Slack user ids (`U…`) and user-group ids (`S…`) allowed to approve "
        "and reject. Empty: nobody may.",
        examples=["U0123456789,S0123456789"],
    )
    viewers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated user ids (`U…`) and user-group ids (`S…`) allowed to "
        "`/approvals list`, `show` and `digest` (approvers always may). Empty: everyone in the "
        "workspace may.",
        examples=["U0123456789,S0123456789"],
    )

    # -- who decides: identity links, run-as, self-approval --------------------------------------------
    decide_as: Literal["bot", "linked-user"] = Field(
        default="bot",
        description="Who Commerce sees deciding: `bot` (the service account) or `linked-user` (the "
        "clicker's linked Commerce user, sent as `forUserId`; unlinked users cannot decide). See "
        "[Who decides](using/who-decides.md).",
    )
    allow_self_approval: bool = Field(
        default=False,
        description="`true` lets a linked Slack user approve or reject an approval they submitted "
        "themselves.",
    )
    auto_link_by_email: bool = Field(
        default=False,
        description="`true` links an unlinked approver, at their first decision, to the Commerce approver "
        "with their Slack-confirmed e-mail address in a domain of `AUTO_LINK_EMAIL_DOMAINS` (needs the "
        "`users:read` and `users:read.email` scopes). See [Who decides](using/who-decides.md).",
    )
    auto_link_email_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated e-mail domains auto-link trusts; required with "
        "`AUTO_LINK_BY_EMAIL=true`.",
        examples=["example.com"],
    )
    require_linked_approvers: bool = Field(
        default=False,
        description="`true` refuses every decision by a Slack user not linked to a Commerce user, also "
        "with `DECIDE_AS=bot` (where their self-approval cannot be detected).",
    )

    # -- polling -----------------------------------------------------------------------------------------
    approvals_poll_seconds: float = Field(
        default=30.0, gt=0, description="How often Commerce is polled for pending approvals."
    )
    commerce_page_size: int = Field(
        default=200,
        ge=1,
        le=1000,
        description="Approvals per page when the notifier lists every pending approval (an incomplete "
        "listing never closes cards).",
    )
    process_status_poll_seconds: float = Field(
        default=15.0, gt=0, description="How often watched bol.com processes are polled."
    )
    notifier_enabled: bool = Field(
        default=True,
        description="Run the pollers (cards, process statuses, reminders, digest) in this process.",
    )

    max_concurrent_work: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Slack requests worked on at once after the ack (up to 4 times more wait, beyond that "
        "users are told the bot is busy), and requests in flight to Commerce and to bol.com each (more "
        "wait their turn in order).",
    )

    check_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit for each line of `approvals-bot check`."
    )

    retention_days: int = Field(
        default=90,
        ge=1,
        description="Closed cards, finished watches and done decision claims are deleted this many days "
        "after they ended (checked hourly).",
    )
    audit_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Audit rows older than this many days are deleted; unset keeps the audit log forever.",
    )

    # -- the approver's day: reminders, escalation, digest, backlog summaries ----------------------
    approvals_remind_after: timedelta = Field(
        default=timedelta(hours=4),
        description="A pending approval gets a reminder in its card's thread this long after its card "
        "was posted (`30m`, `4h`, `1d`, `1h30m`, or seconds).",
    )
    approvals_remind_every: timedelta = Field(
        default=timedelta(hours=24), description="Then again this often."
    )
    approvals_remind_max: int = Field(
        default=3, ge=0, description="At most this many reminders per approval (`0`: none)."
    )
    approvals_escalate_after: timedelta | None = Field(
        default=None,
        description="Escalate an approval still pending this long after its card; unset: never.",
        examples=["2d"],
    )
    approvals_escalation_channel: str | None = Field(
        default=None,
        description="Channel id where escalations are posted (invite the bot); required with "
        "`APPROVALS_ESCALATE_AFTER`.",
        examples=["C0123456789"],
        json_schema_extra={"required_with": "`APPROVALS_ESCALATE_AFTER`"},
    )
    approvals_escalate_to: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated user ids (`U…`) and user-group ids (`S…`) mentioned in escalations.",
        examples=["U0123456789,S0123456789"],
    )
    reminder_quiet_hours: QuietHours | None = Field(
        default=None,
        description="e.g. `20-08` or `19:30-07:00`: reminders and escalations due then wait for the "
        "end, in `TZ`.",
        examples=["20-08"],
    )
    tz: str = Field(
        default="UTC",
        description="Time zone of quiet hours (and of the digest unless `APPROVALS_DIGEST_TZ` is set).",
        examples=["Europe/Amsterdam"],
    )
    approvals_digest_at: time | None = Field(
        default=None,
        description="e.g. `09:00`: the daily digest is posted in the approvals channel at this time; "
        "unset: no daily digest.",
        examples=["09:00"],
    )
    approvals_digest_tz: str | None = Field(
        default=None,
        description='Time zone of `APPROVALS_DIGEST_AT` and of "yesterday" in the digest; unset: `TZ`.',
        examples=["Europe/Amsterdam"],
    )
    approvals_backlog_limit: int = Field(
        default=20,
        ge=1,
        description="More new approvals than this in one poll (per channel) get one summary message "
        "instead of a card each; more reminders due at once than this get one message instead of a "
        "thread reply each.",
    )
    approvals_followup_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often reminders, escalations and the digest are checked."
    )

    # -- database and HTTP server ----------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite:///./approvals-bot.db",
        description="Where the bot keeps its state: `sqlite:///./approvals-bot.db` (a relative SQLite "
        "path is under the working directory; a missing directory is created only there), in the "
        "container `sqlite:////data/approvals-bot.db` (the `/data` volume), or "
        "`postgresql://user:pass@host:5432/db` (needed for several replicas).",
        examples=["sqlite:////data/approvals-bot.db", "postgresql://user:pass@host:5432/db"],
    )
    database_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Time limit of every database call, of connecting to PostgreSQL (and waiting for a "
        "pooled connection) and of `/readyz`'s write: a database that never answers makes commands fail "
        "with a plain error and `/readyz` answer 503, instead of hanging.",
    )
    host: str = Field(
        default="0.0.0.0",  # noqa: S104 - a container listens on all interfaces; HOST=127.0.0.1 on a laptop
        description="Interface to listen on (all of them by default, as a container needs); `127.0.0.1` "
        "keeps the bot and `/metrics` on loopback.",
    )
    port: int = Field(default=3000, ge=0, le=65535, description="HTTP port.")
    request_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A connection must send a complete request head this soon after opening (or after "
        "its previous answer), and the body this soon after the head; otherwise it is closed (a late "
        "body gets `408`).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="When set, `/metrics` is served on this port only (and no longer on `PORT`).",
        examples=["9100"],
    )
    log_level: str = Field(default="INFO", description="`DEBUG`, `INFO`, `WARNING` or `ERROR`.")

    @field_validator("*")
    @classmethod
    def _not_an_example(cls, value: object) -> object:
        if is_example_value(value):
            raise PydanticCustomError(
                "example_value", "still a placeholder of the example files; replace it with your own value"
            )
        return value

    # -- process-status ingest API, batch cards, entity follows ----------------------------------------
    api_tokens: Annotated[list[ApiCaller], NoDecode] = Field(
        default_factory=list,
        description="The callers of the [ingest API](using/ingest-api.md) (`/api/v1/...`): a JSON list of "
        '`{"name", "token", "channels", "scope"}` (a token is at least 32 characters; `channels` default '
        "to `PROCESS_STATUS_CHANNEL` only; `scope` is `read` or `write`, the default), or bare "
        "comma-separated tokens (each named `token-<hash>`, default channel, `write`). A short or "
        "repeated token stops the bot at start. Empty, with no `API_TOKENS_FILE`: the API is off "
        "(its routes answer 404).",
    )
    api_tokens_file: Path | None = Field(
        default=None,
        description="A YAML or JSON file with more API callers, in the list form `API_TOKENS` takes "
        "(or under a `callers:` key).",
    )
    api_follows_per_caller: int = Field(
        default=20,
        ge=0,
        description="How many entity follows one API caller may hold (each costs one bol.com call a "
        "round); more are answered 409.",
    )
    api_follows_total: int = Field(
        default=100,
        ge=0,
        description="How many entity follows there may be in all (the API and `/process-status follow`).",
    )
    process_status_notify: Literal["failures", "all"] = Field(
        default="failures",
        description="Default `notify` of a batch: `failures` (a thread reply per FAILURE or TIMEOUT) or "
        "`all` (one per finished process).",
    )
    process_failure_mention: str | None = Field(
        default=None,
        description="A user (`U…`) or user group (`S…`) mentioned when a batch completes with failures.",
        examples=["S0123456789"],
    )
    process_stuck_after: timedelta = Field(
        default=timedelta(hours=3),
        gt=timedelta(0),
        description="A batch's process still PENDING this long after the batch started is marked stuck "
        "on the card (`3h`, seconds or ISO 8601 `PT3H`).",
    )

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _api_callers(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = callers_from_text(value)
            except ValueError as error:  # json.JSONDecodeError included; its text never holds a token
                raise ValueError(f"not a JSON list of callers nor comma-separated tokens ({error})") from None
        if isinstance(value, list):
            return with_names(value)
        return value

    @model_validator(mode="after")
    def _callers_from_file(self) -> Settings:
        if self.api_tokens_file is not None:
            try:
                entries = callers_from_file(self.api_tokens_file)
            except (OSError, ValueError) as error:
                raise ValueError(f"API_TOKENS_FILE: {type(error).__name__}: cannot be read") from None
            try:
                from_file = [ApiCaller.model_validate(entry) for entry in with_names(entries)]
            except ValidationError as error:
                raise ValueError(f"API_TOKENS_FILE: {_first_error(error)}") from None
            self.api_tokens = [*self.api_tokens, *from_file]
        check_unique(self.api_tokens)
        return self

    @field_validator("process_failure_mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        if value is not None and value.strip() == "":
            return None
        if value is not None and not re.fullmatch(r"[US][A-Z0-9_]{1,40}", value.strip()):
            raise ValueError("must be a user id (U…) or a user-group id (S…)")
        return value.strip() if value is not None else None

    replica_id: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        description="Names this replica in logs, in the `notifier_leader` metric and in PostgreSQL's "
        "`pg_stat_activity` (on Kubernetes the host name is the pod name); each replica needs its own.",
        json_schema_extra={"shown_default": "the host name"},
    )

    log_format: str = Field(
        default="text",
        description="`text` (one readable line per event) or `json` (one JSON object per line, for log "
        "collectors).",
    )

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
        "approvals_escalation_channel",
        "approvals_digest_tz",
        "approvals_routes_file",
        "api_tokens_file",
        mode="before",
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


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for masking in logs and in what users see.

    Leaves out a secret whose value is also a plain setting (a store id, a logon id): masking it
    would blank that setting in every line (``/store/***/loginidentity``) and hide nothing, as the
    value is shown as the plain setting anyway.
    """
    secrets = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.commerce_logon_password,
        settings.bol_client_secret,
    ]
    if settings.slack_app_token is not None:
        secrets.append(settings.slack_app_token)
    secrets.extend(caller.token for caller in settings.api_tokens)
    plain = {str(value) for value in settings.model_dump().values() if isinstance(value, str)}
    return [s.get_secret_value() for s in secrets if s.get_secret_value() not in plain]


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


def _first_error(error: ValidationError) -> str:
    """The first problem of a caller entry, naming the field but never echoing a value."""
    item = error.errors()[0]
    return f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}"
