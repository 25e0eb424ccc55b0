"""Durations, times of day, quiet hours and the settings that use them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.schedule import QuietHours, parse_clock_time, parse_duration, time_zone
from bot.settings import Settings, describe_errors

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("90", timedelta(seconds=90)),
        ("2D", timedelta(days=2)),
        ("4:00:00", timedelta(hours=4)),
        ("1 day, 0:00:00", timedelta(days=1)),
    ],
)
def test_durations_read_as_operators_write_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "4x", "h4", "4h-", "-4h"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_clock_times_and_their_mistakes() -> None:
    assert parse_clock_time("8") == time(8)
    assert parse_clock_time("09:00") == time(9)
    assert parse_clock_time("19:30") == time(19, 30)
    for bad in ("24", "9:60", "nine", "9.30"):
        with pytest.raises(ValueError, match="time of day"):
            parse_clock_time(bad)


def test_quiet_hours_over_midnight_are_read_on_the_local_wall_clock() -> None:
    quiet = QuietHours.parse("20-08")
    assert str(quiet) == "20:00-08:00"
    # Winter: Amsterdam is UTC+1.
    assert quiet.holds(datetime(2026, 1, 12, 19, 0, tzinfo=UTC), AMSTERDAM)  # 20:00 local
    assert not quiet.holds(datetime(2026, 1, 12, 18, 59, tzinfo=UTC), AMSTERDAM)  # 19:59 local
    assert quiet.holds(datetime(2026, 1, 13, 6, 59, tzinfo=UTC), AMSTERDAM)  # 07:59 local
    assert not quiet.holds(datetime(2026, 1, 13, 7, 0, tzinfo=UTC), AMSTERDAM)  # 08:00 local
    # Summer: UTC+2.
    assert not quiet.holds(datetime(2026, 7, 13, 6, 0, tzinfo=UTC), AMSTERDAM)  # 08:00 local


def test_quiet_hours_within_a_day() -> None:
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch.holds(datetime(2026, 1, 12, 13, 29, tzinfo=UTC), ZoneInfo("UTC"))
    assert not lunch.holds(datetime(2026, 1, 12, 13, 30, tzinfo=UTC), ZoneInfo("UTC"))
    for bad in ("20", "20-20", "20-25"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def test_unknown_time_zones_are_refused() -> None:
    assert time_zone("Europe/Amsterdam") == AMSTERDAM
    with pytest.raises(ValueError, match="unknown time zone"):
        time_zone("Mars/Olympus")


def test_settings_read_the_approvers_day(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        approvals_remind_after="30m",
        approvals_escalate_after="2d",
        approvals_escalation_channel="C_ESC",
        approvals_escalate_to="U1, S2",
        reminder_quiet_hours="20-08",
        tz="Europe/Amsterdam",
        approvals_digest_at="09:00",
    )
    assert settings.approvals_remind_after == timedelta(minutes=30)
    assert settings.approvals_remind_every == timedelta(hours=24)
    assert settings.approvals_escalate_after == timedelta(days=2)
    assert settings.approvals_escalate_to == ["U1", "S2"]
    assert settings.reminder_quiet_hours == QuietHours(time(20), time(8))
    assert settings.approvals_digest_at == time(9)
    assert settings.digest_zone == AMSTERDAM
    assert (
        make_settings(approvals_escalate_after="", reminder_quiet_hours="").approvals_escalate_after is None
    )


def test_bad_settings_name_the_variable_and_say_what_is_wrong(make_settings: Callable[..., Settings]) -> None:
    cases = {
        "APPROVALS_REMIND_EVERY: Value error, must be a duration": {"approvals_remind_every": "daily"},
        "REMINDER_QUIET_HOURS: Value error, '25' is not a time of day": {"reminder_quiet_hours": "25-08"},
        "TZ: Value error, unknown time zone": {"tz": "Mars/Olympus"},
        "set APPROVALS_ESCALATION_CHANNEL too": {"approvals_escalate_after": "1d"},
    }
    for expected, overrides in cases.items():
        with pytest.raises(ValidationError) as raised:
            make_settings(**overrides)
        assert any(expected in line for line in describe_errors(raised.value)), describe_errors(raised.value)
