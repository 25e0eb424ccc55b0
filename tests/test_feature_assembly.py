"""Every poller and announcer a feature contributes is run by the poller role, whichever features are on.

The bot is started as ``serve`` starts it (``BotServer``, notifier on) for every combination of the
feature settings that turn something on; each feature's pollers must be the role's and take a
round, and each announcer must be one the reconciler settles. A poller built beside the role's
list (as the reminder and digest pollers once were) fails here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from bot.notifier.reconcile import PostReconciler
from bot.runtime import FEATURES
from tests.bot_runner import RunningBot
from tests.routes_helpers import routes_file
from tests.waiting import wait_for

API_TOKEN = "assembly-test-token-0123456789"

TOGGLES: dict[str, Callable[[Path], dict[str, object]]] = {
    "digest": lambda _: {"approvals_digest_at": "08:00"},
    "escalation": lambda _: {
        "approvals_escalate_after": "2h",
        "approvals_escalation_channel": "C_ESCALATE",
        "reminder_quiet_hours": "20-08",
    },
    "routes": lambda directory: {"approvals_routes_file": routes_file(directory)},
    "api": lambda _: {"api_tokens": API_TOKEN},
}
COMBINATIONS = [
    frozenset(on) for size in range(len(TOGGLES) + 1) for on in itertools.combinations(TOGGLES, size)
]


def polls_taken(bot: RunningBot, poller: str) -> float:
    registry = bot.runtime.metrics.registry
    return sum(
        registry.get_sample_value("notifier_polls_total", {"poller": poller, "outcome": outcome}) or 0.0
        for outcome in ("ok", "error")
    )


@pytest.mark.parametrize("on", COMBINATIONS, ids=lambda on: "+".join(sorted(on)) or "defaults")
def test_the_poller_role_runs_every_poller_and_announcer_the_features_contribute(
    on: frozenset[str], start_bot: Callable[..., RunningBot], tmp_path: Path
) -> None:
    overrides: dict[str, object] = {"notifier_enabled": True}
    for name in on:
        overrides.update(TOGGLES[name](tmp_path))
    bot = start_bot(**overrides)
    runtime = bot.runtime
    assert len(runtime.contributions) == len(FEATURES) + 1  # every feature, then the reconciler

    contributed = [poller for c in runtime.contributions for poller in c.pollers]
    role_pollers = runtime.poller_role.pollers
    missing = [p.name for p in contributed if not any(p is r for r in role_pollers)]
    assert missing == [], f"contributed but not run by the poller role: {missing}"
    names = [p.name for p in contributed]
    assert len(names) == len(set(names)), f"two pollers share a name: {names}"
    assert ("digest" in names) == ("digest" in on)
    assert {"approvals", "announcements", "reminders", "process_status", "reconcile_posts"} <= set(names)

    (reconciler,) = [p for p in role_pollers if isinstance(p, PostReconciler)]
    announcers = [a for c in runtime.contributions for a in c.announcers]
    unsettled = [a.announces.value for a in announcers if not any(a is s for s in reconciler.announcers)]
    assert unsettled == [], f"announcers the reconciler does not settle: {unsettled}"

    for name in names:  # the role really runs each one: a round of it is counted
        wait_for(partial(polls_taken, bot, name), what=f"a round of the {name} poller")
