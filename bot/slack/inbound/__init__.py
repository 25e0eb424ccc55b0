"""Slack coming in: the Bolt app, its listeners and the slash-command parsers. Above the core."""
