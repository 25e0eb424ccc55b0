"""Builds and owns every long-lived part of the bot: clients, store, services, notifiers."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.bol.client import BolClient
from bot.commerce.client import CommerceClient
from bot.metrics import Metrics
from bot.notifier.approvals import ApprovalsNotifier
from bot.notifier.process_status import ProcessStatusNotifier
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.settings import Settings
from bot.slack.approvers import ApproverDirectory
from bot.slack.cards import CardUpdater
from bot.slack.poster import SlackPoster
from bot.storage.store import Store

SLACK_RATE_LIMIT_RETRIES = 5


def slack_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        # 429s are retried after Retry-After. Dropped connections are not: Slack may already have
        # created the message, and a retried chat.postMessage would post the card twice.
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)],
    )


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
    slack: AsyncWebClient
    commerce: CommerceClient
    bol: BolClient
    poster: SlackPoster
    approvers: ApproverDirectory
    cards: CardUpdater
    order_details: OrderDetails
    decisions: DecisionService
    approvals_notifier: ApprovalsNotifier
    process_notifier: ProcessStatusNotifier

    @classmethod
    async def create(cls, settings: Settings) -> Runtime:
        metrics = Metrics()
        store = await Store.open(settings.database_url)
        slack = slack_client(settings)
        commerce = commerce_client(settings)
        bol = bol_client(settings)
        poster = SlackPoster(slack, min_interval_seconds=settings.slack_post_interval_seconds)
        approvers = ApproverDirectory(slack, settings.approvers)
        cards = CardUpdater(store, poster)
        order_details = OrderDetails(commerce)
        return cls(
            settings=settings,
            metrics=metrics,
            store=store,
            slack=slack,
            commerce=commerce,
            bol=bol,
            poster=poster,
            approvers=approvers,
            cards=cards,
            order_details=order_details,
            decisions=DecisionService(
                commerce,
                store,
                approvers=approvers,
                cards=cards,
                order_details=order_details,
                metrics=metrics,
            ),
            approvals_notifier=ApprovalsNotifier(
                commerce,
                store,
                poster,
                cards,
                metrics,
                channel=settings.approvals_channel,
                order_details=order_details,
            ),
            process_notifier=ProcessStatusNotifier(
                bol, store, poster, metrics, fallback_channel=settings.process_status_channel
            ),
        )

    async def close(self) -> None:
        await self.commerce.aclose()
        await self.bol.aclose()
        await self.store.close()
