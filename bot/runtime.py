"""Builds and owns every long-lived part of the bot: the shared parts, then each feature's contribution.

The composition root (with ``bot/features/``, the only readers of ``Settings``): every part gets plain
values and the parts it uses. Every list the process runs (the poller role's pollers, the reconciler's
announcers, the Bolt listeners, the HTTP routes) is derived from ``FEATURES``, never kept by hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.bol.client import BolClient
from bot.clock import Clock, utcnow
from bot.commerce.client import CommerceClient
from bot.features import enabled_features, reconciliation
from bot.features.parts import Contribution, Feature, Parts, build_parts
from bot.metrics import Metrics
from bot.notifier.leadership import PollerRole
from bot.notifier.poller import Poller
from bot.notifier.reconcile import Announcer
from bot.services.decisions import DecisionService
from bot.services.order_details import OrderDetails
from bot.services.process_status import ProcessStatusService
from bot.settings import Settings
from bot.slack.inbound.backends_off import answer_off_backends
from bot.slack.outbound.auth_errors import TOKEN_ERRORS, SlackToken, token_refusal
from bot.slack.outbound.cards import ApprovalCards
from bot.slack.outbound.poster import SlackPoster, slack_error_code
from bot.storage.instances import HEARTBEAT_EVERY
from bot.storage.leader_lock import LeaderLock, PostgresLeaderLock, SoleReplica
from bot.storage.store import Store

log = logging.getLogger(__name__)

FEATURES: tuple[Feature, ...] = enabled_features()
"""Every feature (listed once, in ``bot/features/__init__.py``), in the order its listeners and routes
are registered. Post reconciliation comes after them all (``reconciliation.contribute``): it settles
the posts of every announcer they return."""

# The poller lock is checked four times per shortest poll interval (at most every 5 s), and a check
# may take up to that long (at least 1 s, so a busy machine does not hand the role around).
LEADER_CHECKS_PER_INTERVAL = 4
LEADER_CHECK_MAX_SECONDS = 5.0
LEADER_TIMEOUT_MIN_SECONDS = 1.0


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


def features_for(settings: Settings) -> tuple[Feature, ...]:
    """``FEATURES`` less those of a backend this deployment runs without (Commerce or bol.com)."""
    return enabled_features(commerce=settings.commerce_configured, bol=settings.bol_configured)


def backends_line(settings: Settings) -> str:
    """Which backends are on, for the start-up log line."""
    commerce = "on" if settings.commerce_configured else "off (its COMMERCE_ settings are not set)"
    bol = "on" if settings.bol_configured else "off (BOL_CLIENT_ID and BOL_CLIENT_SECRET are not set)"
    return f"Commerce approvals {commerce}; bol.com process status {bol}"


def contributions(parts: Parts, features: tuple[Feature, ...] = FEATURES) -> tuple[Contribution, ...]:
    """What each feature contributes, then the reconciler of every announcer among them."""
    contributed = tuple(feature(parts) for feature in features)
    announcers = [announcer for c in contributed for announcer in c.announcers]
    return (*contributed, reconciliation.contribute(parts, announcers))


def every_poller(contributed: tuple[Contribution, ...]) -> tuple[Poller, ...]:
    return tuple(poller for c in contributed for poller in c.pollers)


@dataclass
class Runtime:
    parts: Parts
    contributions: tuple[Contribution, ...]
    """Each feature's contribution; every list below is derived from these."""
    poller_role: PollerRole
    leader_lock: LeaderLock

    @classmethod
    async def create(cls, settings: Settings, *, clock: Clock = utcnow) -> Runtime:
        """Builds every part; ``clock`` is what the store and the timed pollers read as now."""
        parts = await build_parts(settings, clock)
        contributed = contributions(parts, features_for(settings))
        # The off backend's commands get a plain line (their listeners are not registered). With
        # both on, no middleware: every one costs each request its argument injection.
        if not (settings.commerce_configured and settings.bol_configured):
            parts.bolt_app.use(
                answer_off_backends(commerce=settings.commerce_configured, bol=settings.bol_configured)
            )
        for contribution in contributed:
            for listen in contribution.listeners:
                listen(parts.bolt_app)
        role, lock = poller_role(settings, parts.store, every_poller(contributed), parts.metrics)
        return cls(parts=parts, contributions=contributed, poller_role=role, leader_lock=lock)

    @property
    def pollers(self) -> tuple[Poller, ...]:
        """Every poller the features contribute: what the poller role runs."""
        return every_poller(self.contributions)

    @property
    def announcers(self) -> tuple[Announcer, ...]:
        return tuple(announcer for c in self.contributions for announcer in c.announcers)

    def mount_routes(self, app: web.Application) -> None:
        """Adds every feature's HTTP routes to ``app`` (beside Slack's, health and metrics)."""
        for contribution in self.contributions:
            for mount in contribution.routes:
                mount(app)

    # -- the shared parts, by name (the server and the tests reach for these) ---------------------
    @property
    def settings(self) -> Settings:
        return self.parts.settings

    @property
    def metrics(self) -> Metrics:
        return self.parts.metrics

    @property
    def store(self) -> Store:
        return self.parts.store

    @property
    def http_session(self) -> aiohttp.ClientSession:
        return self.parts.http_session

    @property
    def bolt_app(self) -> AsyncApp:
        return self.parts.bolt_app

    @property
    def commerce(self) -> CommerceClient:
        return self.parts.commerce

    @property
    def bol(self) -> BolClient:
        return self.parts.bol

    @property
    def poster(self) -> SlackPoster:
        return self.parts.poster

    @property
    def cards(self) -> ApprovalCards:
        return self.parts.approvals.cards

    @property
    def order_details(self) -> OrderDetails:
        return self.parts.approvals.order_details

    @property
    def decisions(self) -> DecisionService:
        return self.parts.approvals.decisions

    @property
    def process_status(self) -> ProcessStatusService:
        return self.parts.process_status

    @property
    def slack_token(self) -> SlackToken:
        return self.parts.slack_token

    async def check_slack_token(self) -> None:
        """Asks Slack once whether it takes the bot token; a refusal is logged and shows in ``/readyz``
        (the bot still starts: the token can be fixed in Slack without a restart, e.g. a reinstall)."""
        try:
            await self.parts.slack.auth_test()
        except SlackApiError as error:
            code = slack_error_code(error)
            if code in TOKEN_ERRORS:
                log.error("Slack refused the bot token: %s", token_refusal(code))
            else:
                log.warning("auth.test failed at start: %s", code)
        except Exception as error:
            log.warning(
                "could not ask Slack about the bot token at start: %s: %s", type(error).__name__, error
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
