"""Slash-command text -> typed commands, one module per command. Pure, and never raises on user input.

Anything malformed becomes ``ShowHelp(error=...)`` with a precise message; the listeners answer it
with the help text, the error first.
"""
