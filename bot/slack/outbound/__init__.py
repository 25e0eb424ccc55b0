"""Slack going out: Block Kit builders, the poster, approval cards and the approver directory.

Below the core: the core reaches these only through the interfaces in ``bot.services.ports``.
"""
