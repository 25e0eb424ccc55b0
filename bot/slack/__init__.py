"""Slack at the edges: ``inbound`` (listeners, parsers) above the core, ``outbound`` (builders,
poster, cards) below it. Nothing here is imported by ``bot.services``."""
