"""The parts that talk to Commerce and bol.com, and the identity and process-status cores built on
them, from ``Settings``: nothing here loads Slack's libraries.

Apart from ``parts.py`` because the commands that never speak to Slack build them too
(``approvers link``, ``watch``, ``check``'s Commerce and bol.com lines); ``tests/test_start_light.py``
checks that those commands do not load Slack.
"""

from __future__ import annotations

from bot.backend.transport import HttpOptions
from bot.bol.client import BolClient
from bot.bol.rate_limit import RateLimitPacer
from bot.commerce.client import CommerceClient
from bot.services.identity import DecideAs, IdentityPolicy
from bot.services.process_status import ProcessStatusService
from bot.settings import Settings
from bot.storage.records import Notify
from bot.storage.store import Store


def commerce_client(settings: Settings) -> CommerceClient:
    return CommerceClient(
        settings.commerce_base_url,
        settings.commerce_store_id,
        settings.commerce_logon_id,
        settings.commerce_logon_password,
        http=HttpOptions(settings.commerce_timeout_seconds, settings.max_concurrent_work),
    )


def bol_client(settings: Settings) -> BolClient:
    return BolClient(
        settings.bol_api_url,
        settings.bol_token_url,
        settings.bol_client_id,
        settings.bol_client_secret,
        http=HttpOptions(settings.bol_timeout_seconds, settings.max_concurrent_work),
        pacer=RateLimitPacer(),  # one client, so one pacer, for the whole process
    )


def identity_policy(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        decide_as=DecideAs(settings.decide_as),
        allow_self_approval=settings.allow_self_approval,
        service_logon_id=settings.commerce_logon_id,
        require_linked=settings.require_linked_approvers,
        auto_link_domains=frozenset(settings.auto_link_email_domains),
    )


def process_status_service(store: Store, settings: Settings) -> ProcessStatusService:
    """The process-status core the slash command, the ingest API and the CLI share."""
    return ProcessStatusService(
        store,
        default_channel=settings.process_status_channel,
        default_notify=Notify(settings.process_status_notify),
        follows_total=settings.api_follows_total,
    )
