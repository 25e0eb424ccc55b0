"""``approvals-bot check``: one pass/fail line per dependency, all checked at once.

Every check gets the same time limit (``CHECK_TIMEOUT_SECONDS``), and a failure names its cause in
plain words (a DNS lookup, a refused connection, no answer in time) rather than an exception class.
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bol.errors import BolError
from bot.commerce.errors import CommerceAuthError, CommerceError
from bot.commerce.models import ApprovalQuery
from bot.error_text import one_line
from bot.features.backend_parts import bol_client, commerce_client, identity_policy
from bot.features.parts import slack_client
from bot.services.linked_approvers import link_warnings
from bot.services.routes_file import read_routes
from bot.settings import Settings
from bot.slack.outbound.approvers import RoutedApproverDirectory
from bot.slack.outbound.auth_errors import TOKEN_ERRORS, token_refusal
from bot.slack.outbound.poster import slack_error_code
from bot.storage.engine import safe_url
from bot.storage.store import Store


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    off: bool = False
    """Not checked: the deployment runs without this backend (its settings are not set)."""
    warn: bool = False
    """Passes, but says something the operator should know (``WARN``)."""

    def line(self) -> str:
        verdict = "OFF" if self.off else "FAIL" if not self.ok else "WARN" if self.warn else "PASS"
        return f"{verdict} {self.name}: {self.detail}"


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Settings], Coroutine[Any, Any, CheckResult]]


@dataclass(frozen=True)
class StoreCheck:
    """A check that reads the bot's database: it runs on the store the database check opened, once
    that check passed, so a new database is created by one check, not raced for by several."""

    name: str
    run: Callable[[Settings, Store], Coroutine[Any, Any, CheckResult]]


@dataclass(frozen=True)
class DatabaseCheck:
    """The database check (:func:`open_database`); one per run, first of the checks that read it."""

    name: str = "database"


DATABASE = DatabaseCheck.name
NOT_OPENED = "not checked: the database did not open (see the database line)"


# -- causes ------------------------------------------------------------------------------------------


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.hostname or url, port


def describe_failure(error: BaseException, url: str, seconds: float) -> str:
    """Why talking to ``url`` failed, in plain words, from the first cause in ``error``'s chain that is known.

    Falls back to the client's own message (Commerce, bol.com) or to the exception itself.
    """
    host, port = _host_port(url)
    address = f"{host}:{port}" if port else host
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup of {host} failed"
        if isinstance(cause, ConnectionRefusedError):
            return f"connection refused by {address}"
        if isinstance(cause, ConnectionResetError):
            return f"connection reset by {address}"
        if isinstance(cause, TimeoutError):
            return f"no answer within {seconds:g} s"
        if isinstance(cause, ssl.SSLError):
            return f"TLS with {address} failed: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, CommerceError | BolError):
        return error.message
    return f"{type(error).__name__}: {error}"


# -- checks ------------------------------------------------------------------------------------------


async def check_slack(settings: Settings) -> CheckResult:
    """``auth.test``, then whether the bot is in every channel it posts in: one line, since a channel
    it is not in fails every post there with ``not_in_channel``."""
    seconds = settings.check_timeout_seconds
    client = slack_client(settings)
    client.timeout = math.ceil(seconds)  # its own limit must not come first; ours below is exact
    call = "auth.test"
    try:
        async with asyncio.timeout(seconds):
            response = await client.auth_test()
            bot_name = response.get("user") or "approvals-bot"
            call = "conversations.info"
            problem = await _channel_problem(client, settings, bot_name)
    except SlackApiError as error:
        code = slack_error_code(error)
        cause = token_refusal(code) if code in TOKEN_ERRORS else str(code)
        if code == "missing_scope":
            cause += ": add the channels:read and groups:read scopes (manifest.yml) and reinstall the app"
        return CheckResult("slack", False, f"{call} failed: {cause}")
    except Exception as error:
        cause = describe_failure(error, settings.slack_api_url, seconds)
        return CheckResult("slack", False, f"cannot reach {settings.slack_api_url}: {cause}")
    who = f"authenticated as {bot_name} in team {response.get('team')}"
    if problem is not None:
        return CheckResult("slack", False, f"{who}, but {problem}")
    return CheckResult("slack", True, f"{who}, in {', '.join(posting_channels(settings))}")


def posting_channels(settings: Settings) -> list[str]:
    """Every channel the bot posts in: approvals, process status, the routes' and escalation's."""
    channels = [settings.process_status_channel] if settings.bol_configured else []
    if settings.commerce_configured:
        routes = read_routes(settings.approvals_routes_file, settings.approvals_channel)
        channels += [route.channel for route in routes.every_route]
        if settings.approvals_escalation_channel:
            channels.append(settings.approvals_escalation_channel)
    return list(dict.fromkeys(channels))


async def _channel_problem(client: AsyncWebClient, settings: Settings, bot_name: str) -> str | None:
    """``conversations.info`` of each channel the bot posts in: the channels it is not a member of (and
    the ``/invite`` to type there) and those not found; ``None`` when it is in them all."""
    outside: list[str] = []
    missing: list[str] = []
    for channel in posting_channels(settings):
        try:
            info = (await client.conversations_info(channel=channel)).get("channel") or {}
        except SlackApiError as error:
            if slack_error_code(error) != "channel_not_found":
                raise
            missing.append(channel)
            continue
        if not info.get("is_member"):
            outside.append(f"#{info.get('name') or channel} ({channel})")
    problems = []
    if outside:
        problems.append(f"the bot is not in {', '.join(outside)}: type /invite @{bot_name} in each")
    if missing:
        problems.append(
            f"{', '.join(missing)} not found (a wrong id, or a private channel the bot is not in: "
            f"/invite @{bot_name} there)"
        )
    return "; ".join(problems) or None


async def check_commerce(settings: Settings) -> CheckResult:
    seconds = settings.check_timeout_seconds
    client = commerce_client(settings.model_copy(update={"commerce_timeout_seconds": seconds}))
    try:
        async with asyncio.timeout(seconds):
            await client.login()
    except Exception as error:
        cause = describe_failure(error, settings.commerce_base_url, seconds)
        if isinstance(error, CommerceAuthError):
            cause += " (the bot pauses its logins after a refused one, 30 s doubling up to 30 min)"
        return CheckResult("commerce", False, f"login at {settings.commerce_base_url} failed: {cause}")
    finally:
        await client.aclose()
    return CheckResult(
        "commerce", True, f"logged in as {settings.commerce_logon_id} (store {settings.commerce_store_id})"
    )


async def check_bol(settings: Settings) -> CheckResult:
    seconds = settings.check_timeout_seconds
    client = bol_client(settings.model_copy(update={"bol_timeout_seconds": seconds}))
    try:
        async with asyncio.timeout(seconds):
            await client.fetch_token()
    except Exception as error:
        cause = describe_failure(error, settings.bol_token_url, seconds)
        return CheckResult("bol", False, f"token from {settings.bol_token_url} failed: {cause}")
    finally:
        await client.aclose()
    return CheckResult("bol", True, "client credentials accepted")


async def open_database(settings: Settings) -> tuple[CheckResult, Store | None]:
    """The database check: opens the store (creating or upgrading the schema) and writes to it. The
    store stays open for the checks that read it (:class:`StoreCheck`); ``None`` when it did not open."""
    seconds = settings.check_timeout_seconds
    where = safe_url(settings.database_url)
    try:
        async with asyncio.timeout(seconds):
            store = await Store.open(settings.database_url)
    except TimeoutError:
        return CheckResult(DATABASE, False, f"cannot open {where}: no answer within {seconds:g} s"), None
    except Exception as error:
        return CheckResult(DATABASE, False, f"cannot open {where}: {one_line(error)}"), None
    try:
        async with asyncio.timeout(seconds):
            ok = await store.ping()
    except TimeoutError:
        ok = False
    except BaseException:
        await store.close()
        raise
    if not ok:
        await store.close()
        return CheckResult(DATABASE, False, f"{where} did not answer"), None
    return CheckResult(DATABASE, True, f"{where} ready"), store


RUN_AS_ROLES = (
    "a customer-service role in the buyers' organizations, Customer Service Representative or "
    "Customer Service Supervisor (or Operations Manager, Sales Manager or Seller), and the approval "
    "commands in the forUser access-control policies"
)
"""The Commerce roles that may act for other users, as the README lists them."""


async def check_run_as(settings: Settings, store: Store) -> CheckResult:
    """``DECIDE_AS=linked-user``: one harmless read (a page of one pending approval) as a linked user,
    so a service account without the authority to act for others fails here, not on a click."""
    seconds = settings.check_timeout_seconds
    client = commerce_client(settings.model_copy(update={"commerce_timeout_seconds": seconds}))
    try:
        async with asyncio.timeout(seconds):
            links = await store.identity_links()
            if not links:
                return CheckResult(
                    "run-as",
                    False,
                    "DECIDE_AS=linked-user, but no Slack user is linked yet, so nobody can decide: "
                    "approvals-bot approvers link <slack-user-id> <commerce-logon-id>",
                )
            link = links[0]
            await client.list_approvals(ApprovalQuery(page_size=1), for_user_id=link.commerce_user_id)
    except Exception as error:
        cause = describe_failure(error, settings.commerce_base_url, seconds)
        return CheckResult(
            "run-as",
            False,
            f"reading approvals as a linked user failed: {cause} (the service account "
            f"{settings.commerce_logon_id} needs authority to act on behalf of other users: {RUN_AS_ROLES}; "
            "see docs/using/who-decides.md)",
        )
    finally:
        await client.aclose()
    return CheckResult(
        "run-as",
        True,
        f"{settings.commerce_logon_id} may act as linked users (read approvals as {link.commerce_logon_id})",
    )


async def check_approver_links(settings: Settings, store: Store) -> CheckResult:
    """Which approvers (groups expanded) are not linked, and what that means under ``DECIDE_AS``,
    ``REQUIRE_LINKED_APPROVERS`` and two-person routes (``bot.services.linked_approvers``)."""
    seconds = settings.check_timeout_seconds
    routes = read_routes(settings.approvals_routes_file, settings.approvals_channel)
    client = slack_client(settings)
    client.timeout = math.ceil(seconds)
    directory = RoutedApproverDirectory(
        client, settings.approvers, [r.approvers for r in routes.rules if r.approvers is not None]
    )
    try:
        async with asyncio.timeout(seconds):
            warnings = await link_warnings(routes, directory, store, identity_policy(settings))
    except Exception as error:
        cause = describe_failure(error, settings.slack_api_url, seconds)
        return CheckResult("approver-links", False, f"cannot compare approvers with links: {cause}")
    if not warnings:
        return CheckResult("approver-links", True, "every approver is linked to a Commerce user")
    return CheckResult("approver-links", True, "; ".join(warnings), warn=True)


COMMERCE_OFF = (
    "not set up (COMMERCE_BASE_URL, COMMERCE_STORE_ID, COMMERCE_LOGON_ID, COMMERCE_LOGON_PASSWORD unset): "
    "no approval cards, reminders or digest; /approvals answers that it is not set up"
)
BOL_OFF = (
    "not set up (BOL_CLIENT_ID, BOL_CLIENT_SECRET unset): no process-status messages or batch cards; "
    "/process-status answers that it is not set up"
)


async def commerce_off(settings: Settings) -> CheckResult:
    return CheckResult("commerce", True, COMMERCE_OFF, off=True)


async def bol_off(settings: Settings) -> CheckResult:
    return CheckResult("bol", True, BOL_OFF, off=True)


def checks_for(settings: Settings) -> tuple[Check | StoreCheck | DatabaseCheck, ...]:
    """Every check; a backend that is not configured gets an ``OFF`` line instead of its check, and the
    run-as check comes with Commerce when decisions go out as linked users."""
    checks: list[Check | StoreCheck | DatabaseCheck] = [
        Check("slack", check_slack),
        Check("commerce", check_commerce if settings.commerce_configured else commerce_off),
        Check("bol", check_bol if settings.bol_configured else bol_off),
        DatabaseCheck(),
    ]
    if settings.commerce_configured:
        checks.append(StoreCheck("approver-links", check_approver_links))
    if settings.decide_as == "linked-user" and settings.commerce_configured:
        checks.append(StoreCheck("run-as", check_run_as))
    return tuple(checks)


async def run_checks(settings: Settings) -> AsyncIterator[CheckResult]:
    """Runs every check at once and yields each result as soon as it is in (so in no fixed order).

    The database check alone opens the database (creating or upgrading a schema); the checks that
    read it wait for it and share its store, or are not run when it did not open. The store is closed
    when the last result is in.
    """
    opened: asyncio.Future[Store | None] = asyncio.get_running_loop().create_future()

    async def run(check: Check | StoreCheck | DatabaseCheck) -> CheckResult:
        if isinstance(check, DatabaseCheck):
            try:
                result, store = await open_database(settings)
            except BaseException:
                opened.set_result(None)
                raise
            opened.set_result(store)
            return result
        if isinstance(check, StoreCheck):
            store = await asyncio.shield(opened)
            if store is None:
                return CheckResult(check.name, False, NOT_OPENED)
            return await check.run(settings, store)
        return await check.run(settings)

    tasks = [asyncio.create_task(run(check)) for check in checks_for(settings)]
    try:
        for finished in asyncio.as_completed(tasks):
            yield await finished
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        store = opened.result() if opened.done() and not opened.cancelled() else None
        if store is not None:
            await store.close()
