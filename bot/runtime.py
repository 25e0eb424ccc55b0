"""Builds and owns every long-lived part of the bot: clients, store, services, listeners, pollers.

The one place that reads ``Settings``: everything it builds gets plain values and the parts it uses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import BackgroundWork
from bot.bol.client import BolClient
from bot.bol.rate_limit import RateLimitPacer
from bot.commerce.client import CommerceClient
from bot.logging_setup import SecretMaskingFilter
from bot.metrics import Metrics
from bot.notifier.announcements import CardAnnouncer
from bot.notifier.approvals import ApprovalsNotifier
from bot.notifier.batch_cards import BatchCards
from bot.notifier.digest import DigestNotifier
from bot.notifier.entity_follows import EntityFollowNotifier
from bot.notifier.leadership import PollerRole
from bot.notifier.poller import Poller
from bot.notifier.process_batches import BatchProgress
from bot.notifier.process_status import ProcessStatusNotifier
from bot.notifier.reconcile import Announcer, PostReconciler
from bot.notifier.reminders import Escalation, ReminderNotifier, ReminderPolicy
from bot.notifier.retention import RetentionPruner
from bot.services.budget import DecisionBudget
from bot.services.decisions import DecisionService
from bot.services.identity import DecideAs, Identities, IdentityPolicy
from bot.services.order_details import OrderDetails
from bot.services.process_batches import BatchIngest
from bot.services.routes_file import read_routes
from bot.settings import Settings
from bot.slack.inbound.app import build_bolt_app
from bot.slack.inbound.listeners import register_listeners
from bot.slack.outbound.approvers import RoutedApproverDirectory, SlackApproverDirectory
from bot.slack.outbound.auth_errors import SlackAuthErrorCounter
from bot.slack.outbound.cards import ApprovalCards
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.emails import SlackUserEmails
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.notices import SlackDirectMessages
from bot.slack.outbound.poster import SlackPoster
from bot.slack.outbound.responses import ResponseUrls
from bot.slack.outbound.viewers import SlackViewerDirectory
from bot.storage.db import utcnow
from bot.storage.instances import HEARTBEAT_EVERY
from bot.storage.leader_lock import LeaderLock, PostgresLeaderLock, SoleReplica
from bot.storage.records import Notify
from bot.storage.rows import Clock
from bot.storage.store import Store

log = logging.getLogger(__name__)

SLACK_RATE_LIMIT_RETRIES = 5
SLACK_TIMEOUT_SECONDS = 10.0
"""Timeout of one Slack Web API call (the SDK's default is 30 s, which would stretch every drain)."""
MIN_ANNOUNCE_INTERVAL_SECONDS = 0.2

# The poller lock is checked four times per shortest poll interval (at most every 5 s), and a check
# may take up to that long (at least 1 s, so a busy machine does not hand the role around).
LEADER_CHECKS_PER_INTERVAL = 4
LEADER_CHECK_MAX_SECONDS = 5.0
LEADER_TIMEOUT_MIN_SECONDS = 1.0


def configure_slack_client(
    client: AsyncWebClient,
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
    metrics: Metrics | None = None,
) -> AsyncWebClient:
    client.base_url = settings.slack_api_url
    client.timeout = int(SLACK_TIMEOUT_SECONDS)
    # One pooled session for every Web API call (else each call opens a connection of its own).
    client.session = session
    # 429s are retried after Retry-After. Dropped connections are not: Slack may already have
    # created the message, and a retried chat.postMessage would post the card twice.
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)]
    if metrics is not None:
        client.retry_handlers.insert(0, SlackAuthErrorCounter(metrics))  # sees every answer, retries none
    return client


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for masking in logs and in what users see."""
    secrets = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.commerce_logon_password,
        settings.bol_client_secret,
    ]
    if settings.slack_app_token is not None:
        secrets.append(settings.slack_app_token)
    secrets.extend(settings.api_tokens)
    return [s.get_secret_value() for s in secrets]


def slack_client(settings: Settings) -> AsyncWebClient:
    return configure_slack_client(AsyncWebClient(token=settings.slack_bot_token.get_secret_value()), settings)


def commerce_client(settings: Settings) -> CommerceClient:
    return CommerceClient(
        settings.commerce_base_url,
        settings.commerce_store_id,
        settings.commerce_logon_id,
        settings.commerce_logon_password,
        timeout=settings.commerce_timeout_seconds,
        max_concurrent_requests=settings.max_concurrent_work,
    )


def identity_policy(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        decide_as=DecideAs(settings.decide_as),
        allow_self_approval=settings.allow_self_approval,
        service_logon_id=settings.commerce_logon_id,
        require_linked=settings.require_linked_approvers,
        auto_link_domains=frozenset(settings.auto_link_email_domains),
    )


def identities(
    settings: Settings, store: Store, commerce: CommerceClient, slack: AsyncWebClient | None
) -> Identities:
    """Identity links and what they mean for deciding; auto-link by e-mail only with a Slack client."""
    policy = identity_policy(settings)
    emails = SlackUserEmails(slack) if settings.auto_link_by_email and slack is not None else None
    notices = SlackDirectMessages(slack) if slack is not None else None
    return Identities(store, commerce, policy, emails=emails, notices=notices)


def poller_role(
    settings: Settings, store: Store, pollers: tuple[Poller, ...], metrics: Metrics
) -> tuple[PollerRole, LeaderLock]:
    """With PostgreSQL, the replica holding the advisory lock polls; with SQLite, this one does."""
    check_seconds = min(
        LEADER_CHECK_MAX_SECONDS, min(p.interval_seconds for p in pollers) / LEADER_CHECKS_PER_INTERVAL
    )
    timeout_seconds = max(check_seconds, LEADER_TIMEOUT_MIN_SECONDS)
    lock: LeaderLock = SoleReplica()
    if store.engine.dialect.name == "postgresql":
        lock = PostgresLeaderLock(
            settings.database_url,
            replica_id=settings.replica_id,
            timeout_seconds=timeout_seconds,
            # Longer than a pause plus a slow check, so the server never ends a healthy leader's session.
            idle_session_timeout_seconds=2 * (check_seconds + timeout_seconds),
        )
    role = PollerRole(pollers, lock, metrics, replica_id=settings.replica_id, check_seconds=check_seconds)
    return role, lock


def bol_client(settings: Settings) -> BolClient:
    return BolClient(
        settings.bol_api_url,
        settings.bol_token_url,
        settings.bol_client_id,
        settings.bol_client_secret,
        timeout=settings.bol_timeout_seconds,
        max_concurrent_requests=settings.max_concurrent_work,
        pacer=RateLimitPacer(),  # one client, so one pacer, for the whole process
    )


def batch_ingest(store: Store, settings: Settings) -> BatchIngest:
    """Takes process ids from other systems (the API, the CLI) as batches."""
    return BatchIngest(
        store,
        default_channel=settings.process_status_channel,
        default_notify=Notify(settings.process_status_notify),
    )


def batch_progress(store: Store, poster: SlackPoster, metrics: Metrics, settings: Settings) -> BatchProgress:
    """The live batch cards, their thread replies and summaries, inside the process-status round."""
    return BatchProgress(
        store,
        poster,
        metrics,
        clock=utcnow,
        fallback_channel=settings.process_status_channel,
        failure_mention=settings.process_failure_mention,
        stuck_after=settings.process_stuck_after,
    )


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    store: Store
    http_session: aiohttp.ClientSession
    work: BackgroundWork
    bolt_app: AsyncApp
    slack: AsyncWebClient
    commerce: CommerceClient
    bol: BolClient
    poster: SlackPoster
    cards: ApprovalCards
    order_details: OrderDetails
    decisions: DecisionService
    pollers: tuple[Poller, ...]
    batch_ingest: BatchIngest
    poller_role: PollerRole
    leader_lock: LeaderLock

    @classmethod
    async def create(cls, settings: Settings, *, clock: Clock = utcnow) -> Runtime:
        """Builds every part; ``clock`` is what the store and the timed pollers read as now."""
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
        work = BackgroundWork(
            running_limit=settings.max_concurrent_work, waiting_limit=4 * settings.max_concurrent_work
        )
        mask = SecretMaskingFilter(secret_values(settings)).mask
        responses = ResponseUrls(http_session, mask=mask)
        bolt_app = build_bolt_app(
            settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()
        )
        slack = configure_slack_client(bolt_app.client, settings, http_session, metrics)
        commerce = commerce_client(settings)
        metrics.commerce_login_paused.set_function(lambda: float(commerce.login_paused))
        bol = bol_client(settings)
        poster = SlackPoster(slack, min_interval_seconds=settings.slack_post_interval_seconds, mask=mask)
        # Read again here (the entry point validated it first): a bad file raises RoutesFileError.
        routes = read_routes(settings.approvals_routes_file, settings.approvals_channel)
        approvers = RoutedApproverDirectory(
            slack, settings.approvers, [r.approvers for r in routes.rules if r.approvers is not None]
        )
        viewers = SlackViewerDirectory(SlackApproverDirectory(slack, settings.viewers), approvers)
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
            routes=routes,
            budget=DecisionBudget.from_timeout(settings.commerce_timeout_seconds),
            identities=people,
            notices=SlackDirectMessages(slack),
        )
        digest = DailyDigest(store, poster, zone=settings.digest_zone, clock=clock)
        home = AppHome(
            slack,
            commerce,
            store,
            approvers,
            settings.approvers,
            listing_user=people.listing_user_id,
            may_decide=decisions.may_decide,
        )
        cards.after_decision(home.refresh)
        register_listeners(
            bolt_app,
            commerce=commerce,
            bol=bol,
            store=store,
            decisions=decisions,
            approvers=approvers,
            viewers=viewers,
            order_details=order_details,
            poster=poster,
            metrics=metrics,
            process_status_channel=settings.process_status_channel,
            digest=digest,
            home=home,
            work=work,
            responses=responses,
        )
        announcer = CardAnnouncer(
            commerce,
            store,
            cards,
            metrics,
            order_details=order_details,
            interval_seconds=max(settings.slack_post_interval_seconds, MIN_ANNOUNCE_INTERVAL_SECONDS),
        )
        batches = batch_progress(store, poster, metrics, settings)
        process_status = ProcessStatusNotifier(
            bol,
            store,
            poster,
            metrics,
            fallback_channel=settings.process_status_channel,
            interval_seconds=settings.process_status_poll_seconds,
            batches=batches,
        )
        follows = EntityFollowNotifier(
            bol, store, poster, metrics, interval_seconds=settings.process_status_poll_seconds
        )
        digests = (
            DigestNotifier(
                store,
                poster,
                digest,
                metrics,
                channel=settings.approvals_channel,
                at=settings.approvals_digest_at,
                zone=settings.digest_zone,
                clock=clock,
                interval_seconds=settings.approvals_followup_poll_seconds,
            )
            if settings.approvals_digest_at is not None
            else None
        )
        announcers: list[Announcer] = [
            announcer,
            process_status,
            batches,
            batches.replies,
            batches.summaries,
            follows,
        ]
        if digests is not None:
            announcers.append(digests)
        pollers: tuple[Poller, ...] = (
            ApprovalsNotifier(
                commerce,
                store,
                cards,
                metrics,
                announcer=announcer,
                channel=settings.approvals_channel,
                routes=routes,
                decisions=decisions,
                order_details=order_details,
                interval_seconds=settings.approvals_poll_seconds,
                page_size=settings.commerce_page_size,
                backlog_limit=settings.approvals_backlog_limit,
            ),
            announcer,
            process_status,
            BatchCards(batches),
            # Before anything is posted again after a lost answer or a kill, it is looked up in Slack.
            PostReconciler(store, poster, announcers),
            follows,
            RetentionPruner(
                store,
                keep_for=timedelta(days=settings.retention_days),
                keep_audit_for=(
                    timedelta(days=settings.audit_retention_days) if settings.audit_retention_days else None
                ),
            ),
        )
        pollers += (
            ReminderNotifier(
                store,
                poster,
                metrics,
                policy=ReminderPolicy(
                    remind_after=settings.approvals_remind_after,
                    remind_every=settings.approvals_remind_every,
                    remind_max=settings.approvals_remind_max,
                    escalate_after=settings.approvals_escalate_after,
                    quiet_hours=settings.reminder_quiet_hours,
                    zone=settings.zone,
                ),
                approvers=settings.approvers,
                routes=routes,
                escalation=(
                    Escalation(settings.approvals_escalation_channel, tuple(settings.approvals_escalate_to))
                    if settings.approvals_escalation_channel
                    else None
                ),
                backlog_limit=settings.approvals_backlog_limit,
                clock=clock,
                interval_seconds=settings.approvals_followup_poll_seconds,
            ),
        )
        if digests is not None:
            pollers += (digests,)
        role, lock = poller_role(settings, store, pollers, metrics)
        return cls(
            settings=settings,
            metrics=metrics,
            store=store,
            http_session=http_session,
            work=work,
            bolt_app=bolt_app,
            slack=slack,
            commerce=commerce,
            bol=bol,
            poster=poster,
            cards=cards,
            order_details=order_details,
            decisions=decisions,
            pollers=pollers,
            batch_ingest=batch_ingest(store, settings),
            poller_role=role,
            leader_lock=lock,
        )

    def poller(self, name: str) -> Poller:
        """The poller called ``name``; ``KeyError`` when there is none."""
        for poller in self.pollers:
            if poller.name == name:
                return poller
        raise KeyError(name)

    async def beat_forever(self) -> None:
        """Registers this process and keeps its heartbeat fresh, so the decision claims it holds count
        as live (on every replica, whether or not it runs the pollers)."""
        while True:
            try:
                await self.store.beat()
            except Exception as error:
                log.warning("heartbeat failed: %s: %s", type(error).__name__, error)
            await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())

    async def close(self) -> None:
        await self.http_session.close()
        await self.leader_lock.close()
        await self.cards.drain()
        await self.commerce.aclose()
        await self.bol.aclose()
        await self.store.close()
