"""The sandbox: real HTTP servers that speak Slack's Web API, HCL Commerce and bol.com on loopback.

The tests and ``approvals-bot demo`` use these same servers. The bot itself never imports this package
(``lint-imports`` holds that): only the tests, the benchmarks and the ``demo`` command, lazily.
"""

from bot.sandbox.bol import BolEmulator
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.slack import SlackEmulator

__all__ = ["BolEmulator", "CommerceEmulator", "SlackEmulator"]
