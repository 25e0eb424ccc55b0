"""The shared parts every feature builds from, and what a feature gives back.

Built once per process by :func:`build_parts`: the clients, the store, the poster, the HTTP session
and the approval core (routes, approvers, cards, decisions, ...) that several features use. A
feature is a function of these parts returning a :class:`Contribution`; the runtime derives every
list it runs (pollers, announcers, listeners, routes) from the contributions, never by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BackgroundWork
from bot.bol.client import BolClient
from bot.clock import Clock
from bot.commerce.client import CommerceClient
from bot.features.backend_parts import bol_client, commerce_client, identity_policy, process_status_service
from bot.logging_setup import SecretMaskingFilter
from bot.metrics import Metrics
from bot.notifier.poller import Poller
from bot.notifier.reconcile import Announcer
from bot.services.budget import DecisionBudget
from bot.services.decisions import DecisionPolicy, DecisionService
from bot.services.identity import Identities
from bot.services.order_details import OrderDetails
from bot.services.process_status import ProcessStatusService
from bot.services.routes_file import read_routes
from bot.services.routing import Routes
from bot.settings import Settings, secret_values
from bot.slack.inbound.app import build_bolt_app
from bot.slack.outbound.approvers import RoutedApproverDirectory, SlackApproverDirectory
from bot.slack.outbound.auth_errors import SlackAuthErrorCounter, SlackToken
from bot.slack.outbound.cards import ApprovalCards
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.emails import SlackUserEmails
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.notices import SlackDirectMessages
from bot.slack.outbound.poster import SlackPoster
from bot.slack.outbound.responses import ResponseUrls
from bot.slack.outbound.user_agent import with_our_user_agent
from bot.slack.outbound.viewers import SlackViewerDirectory
from bot.storage.store import Store

SLACK_RATE_LIMIT_RETRIES = 5
SLACK_TIMEOUT_SECONDS = 10.0
"""Timeout of one Slack Web API call (the SDK's default is 30 s, which would stretch every drain)."""

Listen = Callable[[AsyncApp], None]
"""Registers a feature's Bolt listeners (commands, actions, views, events) on the app."""
Mount = Callable[[web.Application], None]
"""Adds a feature's HTTP routes (and the middlewares they need) to the web app."""


@dataclass(frozen=True)
class Contribution:
    """What one feature adds to the process; every field may be empty."""

    pollers: tuple[Poller, ...] = ()
    """Run by the poller role (the leader replica), each in a task of its own."""
    announcers: tuple[Announcer, ...] = ()
    """Posts whose lost answers ``PostReconciler`` settles (each is usually one of ``pollers`` too)."""
    listeners: tuple[Listen, ...] = ()
    routes: tuple[Mount, ...] = ()


@dataclass(frozen=True)
class ApprovalCore:
    """What the approval features share: who may decide, where cards go, and the decision core."""

    routes: Routes
    approvers: RoutedApproverDirectory
    viewers: SlackViewerDirectory
    cards: ApprovalCards
    order_details: OrderDetails
    identities: Identities
    decisions: DecisionService
    home: AppHome
    digest: DailyDigest
    """What a daily digest says (asked for by ``/approvals digest`` and posted by the digest poller)."""


@dataclass(frozen=True)
class Parts:
    """Built once, shared by every feature."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    store: Store
    http_session: aiohttp.ClientSession
    work: BackgroundWork
    responses: ResponseUrls
    bolt_app: AsyncApp
    slack: AsyncWebClient
    commerce: CommerceClient
    bol: BolClient
    poster: SlackPoster
    approvals: ApprovalCore
    process_status: ProcessStatusService
    """The process-status core the slash command, the ingest API and the CLI share."""
    slack_token: SlackToken
    """Whether Slack refuses the bot token right now (``/readyz``)."""


Feature = Callable[[Parts], Contribution]


# -- clients, also built by the entry points (check, approvers, watch) ---------------------------


def configure_slack_client(
    client: AsyncWebClient,
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
    metrics: Metrics | None = None,
    token: SlackToken | None = None,
) -> AsyncWebClient:
    client.base_url = settings.slack_api_url
    client.headers = with_our_user_agent(client.headers)  # Slack's logs then name our version
    client.timeout = int(SLACK_TIMEOUT_SECONDS)
    # One pooled session for every Web API call (else each call opens a connection of its own).
    client.session = session
    # 429s are retried after Retry-After. Dropped connections are not: Slack may already have
    # created the message, and a retried chat.postMessage would post the card twice.
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)]
    if metrics is not None:
        # Sees every answer and retries none: counts refusals and keeps the token's state for /readyz.
        client.retry_handlers.insert(0, SlackAuthErrorCounter(metrics, token))
    return client


def slack_client(settings: Settings) -> AsyncWebClient:
    return configure_slack_client(AsyncWebClient(token=settings.slack_bot_token.get_secret_value()), settings)


def identities(
    settings: Settings, store: Store, commerce: CommerceClient, slack: AsyncWebClient
) -> Identities:
    """Identity links and what they mean for deciding, with Slack for auto-link by e-mail and notices
    (``approvers link`` builds its ``Identities`` without them)."""
    emails = SlackUserEmails(slack) if settings.auto_link_by_email else None
    return Identities(
        store, commerce, identity_policy(settings), emails=emails, notices=SlackDirectMessages(slack)
    )


# -- the parts of one process ----------------------------------------------------------------------


def approval_core(
    settings: Settings,
    store: Store,
    metrics: Metrics,
    clients: tuple[AsyncWebClient, CommerceClient, SlackPoster],
    clock: Clock,
) -> ApprovalCore:
    """Routes (read again here: the entry point validated the file first; a bad one raises
    ``RoutesFileError``), approvers, cards, the decision core, the App Home and the digest."""
    slack, commerce, poster = clients
    routes = read_routes(settings.approvals_routes_file, settings.approvals_channel)
    approvers = RoutedApproverDirectory(
        slack, settings.approvers, [r.approvers for r in routes.rules if r.approvers is not None]
    )
    cards = ApprovalCards(store, poster)
    order_details = OrderDetails(commerce)
    people = identities(settings, store, commerce, slack)
    decisions = DecisionService(
        commerce,
        store,
        approvers=approvers,
        cards=cards,
        order_details=order_details,
        metrics=metrics,
        policy=DecisionPolicy(DecisionBudget.from_timeout(settings.commerce_timeout_seconds), routes),
        identities=people,
    )
    return ApprovalCore(
        routes=routes,
        approvers=approvers,
        viewers=SlackViewerDirectory(SlackApproverDirectory(slack, settings.viewers), approvers),
        cards=cards,
        order_details=order_details,
        identities=people,
        decisions=decisions,
        home=AppHome(
            slack,
            commerce,
            store,
            approvers,
            settings.approvers,
            listing_user=people.listing_user_id,
            may_decide=decisions.decides,
        ),
        digest=DailyDigest(store, poster, zone=settings.digest_zone, clock=clock),
    )


async def build_parts(settings: Settings, clock: Clock) -> Parts:
    """Opens the store (registering this process) and builds every shared part."""
    metrics = Metrics()
    store = await Store.open(
        settings.database_url,
        clock=clock,
        replica=settings.replica_id,
        time_limit_seconds=settings.database_timeout_seconds,
    )
    await store.register_instance()
    # slack_sdk ignores ``client.timeout`` when it is handed a session: the session's own timeout is
    # what bounds each Slack call (and each response_url post), so it is set here (aiohttp's
    # default would wait 5 minutes for an answer that never comes).
    http_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS))
    mask = SecretMaskingFilter(secret_values(settings)).mask
    bolt_app = build_bolt_app(
        settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()
    )
    slack_token = SlackToken()
    slack = configure_slack_client(bolt_app.client, settings, http_session, metrics, slack_token)
    commerce = commerce_client(settings)
    metrics.commerce_login_paused.set_function(lambda: float(commerce.login_paused))
    poster = SlackPoster(slack, min_interval_seconds=settings.slack_post_interval_seconds, mask=mask)
    return Parts(
        settings=settings,
        clock=clock,
        metrics=metrics,
        store=store,
        http_session=http_session,
        work=BackgroundWork(
            running_limit=settings.max_concurrent_work, waiting_limit=4 * settings.max_concurrent_work
        ),
        responses=ResponseUrls(http_session, mask=mask),
        bolt_app=bolt_app,
        slack=slack,
        commerce=commerce,
        bol=bol_client(settings),
        poster=poster,
        approvals=approval_core(settings, store, metrics, (slack, commerce, poster), clock),
        process_status=process_status_service(store, settings),
        slack_token=slack_token,
    )
