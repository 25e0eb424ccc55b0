"""Slack listeners, split like the bolt-python templates: commands, actions, views, events.

Each listener gets the parts it uses, never the whole runtime; the feature that owns it
(``bot/features/``) builds it and registers it on the Bolt app.
"""
