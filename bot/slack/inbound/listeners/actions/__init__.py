"""Buttons; each registered by its feature (``bot/features/``)."""
