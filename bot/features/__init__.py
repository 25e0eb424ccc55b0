"""The bot's features, one module each, and the shared parts they are built from (``parts.py``).

A feature module has ``contribute(parts) -> Contribution``: the pollers, announcers, Bolt listeners
and HTTP routes it adds. ``bot/runtime.py`` lists the features once and derives every list it runs
from their contributions. This package is part of the composition root: it may read ``Settings``.
"""
