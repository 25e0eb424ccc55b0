"""Slack side of the bot: Block Kit builders, command parsing, Bolt listeners."""
