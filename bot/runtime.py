"""Builds and owns every long-lived part of the bot: clients, store, services, listeners, pollers.

The one place that reads ``Settings``: everything it builds gets plain values and the parts it uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.bol.client import BolClient
from bot.commerce.client import CommerceClient
from bot.metrics import Metrics
from bot.notifier.approvals import ApprovalsNotifier
from bot.notifier.leadership import PollerRole
from bot.notifier.poller import Poller
from bot.notifier.process_status import ProcessStatusNotifier
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.settings import Settings
from bot.slack.inbound.app import build_bolt_app
from bot.slack.inbound.listeners import register_listeners
from bot.slack.outbound.approvers import SlackApproverDirectory
from bot.slack.outbound.cards import ApprovalCards
from bot.slack.outbound.poster import SlackPoster
from bot.storage.leader_lock import LeaderLock, PostgresLeaderLock, SoleReplica
from bot.storage.store import Store

SLACK_RATE_LIMIT_RETRIES = 5

# The poller lock is checked four times per shortest poll interval (at most every 5 s), and a check
# may take up to that long (at least 1 s, so a busy machine does not hand the role around).
LEADER_CHECKS_PER_INTERVAL = 4
LEADER_CHECK_MAX_SECONDS = 5.0
LEADER_TIMEOUT_MIN_SECONDS = 1.0


def configure_slack_client(client: AsyncWebClient, settings: Settings) -> AsyncWebClient:
    client.base_url = settings.slack_api_url
    # 429s are retried after Retry-After. Dropped connections are not: Slack may already have
    # created the message, and a retried chat.postMessage would post the card twice.
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)]
    return client


def slack_client(settings: Settings) -> AsyncWebClient:
    return configure_slack_client(AsyncWebClient(token=settings.slack_bot_token.get_secret_value()), settings)


def commerce_client(settings: Settings) -> CommerceClient:
    return CommerceClient(
        settings.commerce_base_url,
        settings.commerce_store_id,
        settings.commerce_logon_id,
        settings.commerce_logon_password,
        timeout=settings.commerce_timeout_seconds,
    )


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
    )


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    store: Store
    bolt_app: AsyncApp
    slack: AsyncWebClient
    commerce: CommerceClient
    bol: BolClient
    poster: SlackPoster
    cards: ApprovalCards
    order_details: OrderDetails
    decisions: DecisionService
    pollers: tuple[Poller, ...]
    poller_role: PollerRole
    leader_lock: LeaderLock

    @classmethod
    async def create(cls, settings: Settings) -> Runtime:
        metrics = Metrics()
        store = await Store.open(settings.database_url)
        bolt_app = build_bolt_app(
            settings.slack_bot_token.get_secret_value(), settings.slack_signing_secret.get_secret_value()
        )
        slack = configure_slack_client(bolt_app.client, settings)
        commerce = commerce_client(settings)
        bol = bol_client(settings)
        poster = SlackPoster(slack, min_interval_seconds=settings.slack_post_interval_seconds)
        approvers = SlackApproverDirectory(slack, settings.approvers)
        cards = ApprovalCards(store, poster)
        order_details = OrderDetails(commerce)
        decisions = DecisionService(
            commerce, store, approvers=approvers, cards=cards, order_details=order_details, metrics=metrics
        )
        register_listeners(
            bolt_app,
            commerce=commerce,
            bol=bol,
            store=store,
            decisions=decisions,
            approvers=approvers,
            order_details=order_details,
            poster=poster,
            metrics=metrics,
            process_status_channel=settings.process_status_channel,
        )
        pollers: tuple[Poller, ...] = (
            ApprovalsNotifier(
                commerce,
                store,
                cards,
                metrics,
                channel=settings.approvals_channel,
                order_details=order_details,
                interval_seconds=settings.approvals_poll_seconds,
            ),
            ProcessStatusNotifier(
                bol,
                store,
                poster,
                metrics,
                fallback_channel=settings.process_status_channel,
                interval_seconds=settings.process_status_poll_seconds,
            ),
        )
        role, lock = poller_role(settings, store, pollers, metrics)
        return cls(
            settings=settings,
            metrics=metrics,
            store=store,
            bolt_app=bolt_app,
            slack=slack,
            commerce=commerce,
            bol=bol,
            poster=poster,
            cards=cards,
            order_details=order_details,
            decisions=decisions,
            pollers=pollers,
            poller_role=role,
            leader_lock=lock,
        )

    def poller(self, name: str) -> Poller:
        """The poller called ``name``; ``KeyError`` when there is none."""
        for poller in self.pollers:
            if poller.name == name:
                return poller
        raise KeyError(name)

    async def close(self) -> None:
        await self.leader_lock.close()
        await self.commerce.aclose()
        await self.bol.aclose()
        await self.store.close()
