"""The ingest API under ``/api/v1`` (named callers from ``API_TOKENS``; no routes without one)."""

from __future__ import annotations

from bot.features.parts import Contribution, Parts
from bot.web.process_api import ProcessStatusApi


def contribute(parts: Parts) -> Contribution:
    api = ProcessStatusApi(
        parts.process_status,
        callers=parts.settings.api_tokens,
        follows_per_caller=parts.settings.api_follows_per_caller,
        metrics=parts.metrics,
        clock=parts.clock,
    )
    return Contribution(routes=(api.register,))
