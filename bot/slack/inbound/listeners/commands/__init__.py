"""Slash commands; each registered by its feature (``bot/features/``)."""
