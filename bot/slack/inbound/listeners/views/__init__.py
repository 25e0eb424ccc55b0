"""Modal submissions; each registered by its feature (``bot/features/``)."""
