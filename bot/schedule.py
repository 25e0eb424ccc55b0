"""Durations, times of day and quiet hours as operators write them (``4h``, ``09:00``, ``20-08``).

A leaf: settings parse with it, pollers decide with it. Every datetime here is aware; local times
are read in an explicit ``ZoneInfo``, never the process's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_UNIT = {
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_CLOCK_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::00)?$")


_TIMEDELTA_STR = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})$")


def parse_duration(text: str) -> timedelta:
    """``4h``, ``30m``, ``1d12h``, ``90s``, a bare number of seconds, or Python's own ``1 day, 4:00:00``;
    ``ValueError`` otherwise."""
    cleaned = text.strip().lower()
    python_form = _TIMEDELTA_STR.match(cleaned)
    if python_form is not None:
        days, hours, minutes, seconds = (int(part or 0) for part in python_form.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    cleaned = cleaned.replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", cleaned):
        return timedelta(seconds=float(cleaned))
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(f"{n}{u}" for n, u in parts) != cleaned:
        raise ValueError("must be a duration like 4h, 30m, 1d or 1h30m")
    return sum((float(number) * _UNIT[unit] for number, unit in parts), timedelta())


def parse_clock_time(text: str) -> time:
    """``8``, ``08`` or ``08:30``; ``ValueError`` otherwise."""
    match = _CLOCK_TIME.match(text.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
        raise ValueError(f"{text.strip()!r} is not a time of day like 08 or 08:30")
    return time(int(match.group(1)), int(match.group(2) or 0))


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Amsterdam``, ``UTC``); ``ValueError`` for an unknown one."""
    try:
        return ZoneInfo(name.strip().lstrip(":"))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name.strip()!r} (use a name like Europe/Amsterdam)") from error


@dataclass(frozen=True)
class QuietHours:
    """A daily window (``20-08`` wraps midnight) in which reminders wait for its end."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError("must be a window like 20-08 or 19:30-07:00")
        quiet = cls(parse_clock_time(start), parse_clock_time(end))
        if quiet.start == quiet.end:
            raise ValueError("start and end must differ")
        return quiet

    def holds(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether ``moment`` falls inside the window, read on the wall clock of ``zone``."""
        local = moment.astimezone(zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        """``20:00-08:00``: parses back to the same window."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of ``day`` in ``zone`` (aware)."""
    return datetime.combine(day, time(0), tzinfo=zone)
