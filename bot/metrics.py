"""Prometheus metrics, on a registry of our own so several bots can live in one process (tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "approvals_decisions",
            "Approve/reject attempts from Slack, by decision and outcome.",
            ["decision", "outcome"],
            registry=self.registry,
        )
        self.cards_posted = Counter(
            "approvals_cards_posted", "Approval cards posted to Slack.", registry=self.registry
        )
        self.cards_closed = Counter(
            "approvals_cards_closed_elsewhere",
            "Cards updated because the approval was decided in Commerce.",
            registry=self.registry,
        )
        self.listings_incomplete = Counter(
            "approvals_listings_incomplete",
            "Pending-approval listings that stopped short (no card was closed in those rounds).",
            registry=self.registry,
        )
        self.polls = Counter(
            "notifier_polls",
            "Notifier poll rounds, by poller and outcome.",
            ["poller", "outcome"],
            registry=self.registry,
        )
        self.process_notifications = Counter(
            "process_status_notifications",
            "Messages posted for finished bol.com processes, by final state.",
            ["state"],
            registry=self.registry,
        )
        self.watches = Gauge(
            "process_status_watches_active", "Process statuses being watched.", registry=self.registry
        )
        self.api_auth_failures = Counter(
            "api_auth_failures",
            "Ingest API requests refused before a token matched: unauthorized (401) or throttled (429).",
            ["outcome"],
            registry=self.registry,
        )
        self.commands = Counter(
            "slack_commands",
            "Slash commands received, by command and subcommand.",
            ["command", "subcommand"],
            registry=self.registry,
        )
        self.poller_leader = Gauge(
            "notifier_leader",
            "1 on the replica that runs the pollers (holds the poller lock), 0 on the others.",
            ["replica"],
            registry=self.registry,
        )

        self.followups = Counter(
            "approvals_followups",
            "Messages after the cards: backlog summaries, reminders, escalations, digests, by kind.",
            ["kind"],
            registry=self.registry,
        )

        self.slack_auth_errors = Counter(
            "slack_auth_errors",
            "Slack Web API answers refusing the bot token (invalid_auth, token_revoked, ...), by error.",
            ["error"],
            registry=self.registry,
        )

        self.commerce_login_paused = Gauge(
            "commerce_login_paused",
            "1 while Commerce logins are paused (doubling back-off) after Commerce refused one.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
