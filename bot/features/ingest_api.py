"""The ingest API under ``/api/v1`` (bearer tokens from ``API_TOKENS``; no routes without one)."""

from __future__ import annotations

from bot.features.parts import Contribution, Parts
from bot.web.process_api import ProcessStatusApi


def contribute(parts: Parts) -> Contribution:
    api = ProcessStatusApi(
        parts.batch_ingest,
        parts.store,
        tokens=[token.get_secret_value() for token in parts.settings.api_tokens],
        default_channel=parts.settings.process_status_channel,
    )
    return Contribution(routes=(api.register,))
