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
from bot.notifier.digest import DigestNotifier
from bot.notifier.poller import Poller
from bot.notifier.process_status import ProcessStatusNotifier
from bot.notifier.reminders import Escalation, ReminderNotifier, ReminderPolicy
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.settings import Settings
from bot.slack.inbound.app import build_bolt_app
from bot.slack.inbound.listeners import register_listeners
from bot.slack.outbound.approvers import SlackApproverDirectory
from bot.slack.outbound.cards import ApprovalCards
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.home import AppHome
from bot.slack.outbound.poster import SlackPoster
from bot.storage.db import utcnow
from bot.storage.rows import Clock
from bot.storage.store import Store

SLACK_RATE_LIMIT_RETRIES = 5


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

    @classmethod
    async def create(cls, settings: Settings, *, clock: Clock = utcnow) -> Runtime:
        """Builds every part; ``clock`` is what the store and the timed pollers read as now."""
        metrics = Metrics()
        store = await Store.open(settings.database_url, clock=clock)
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
        digest = DailyDigest(store, poster, zone=settings.digest_zone, clock=clock)
        home = AppHome(slack, commerce, store, approvers, settings.approvers)
        cards.after_decision(home.refresh)
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
            digest=digest,
            home=home,
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
                backlog_limit=settings.approvals_backlog_limit,
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
        if settings.approvals_digest_at is not None:
            pollers += (
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
                ),
            )
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
        )

    def poller(self, name: str) -> Poller:
        """The poller called ``name``; ``KeyError`` when there is none."""
        for poller in self.pollers:
            if poller.name == name:
                return poller
        raise KeyError(name)

    async def close(self) -> None:
        await self.cards.drain()
        await self.commerce.aclose()
        await self.bol.aclose()
        await self.store.close()
