"""``/process-status`` text -> a ``ProcessStatusCommand``. Never raises: bad input is ``ShowHelp``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.bol.models import ENTITY_ID, EVENT_TYPES, PROCESS_ID
from bot.slack.inbound.parsing.common import (
    HELP_WORDS,
    MAX_PAGE,
    InvalidInput,
    ShowHelp,
    echo,
    normalise,
    tokens,
    whole_number,
)


@dataclass(frozen=True)
class ShowProcess:
    process_status_id: str


@dataclass(frozen=True)
class WatchProcess:
    process_status_id: str


@dataclass(frozen=True)
class UnwatchProcess:
    process_status_id: str


@dataclass(frozen=True)
class ProcessesByEntity:
    entity_id: str
    event_type: str
    page: int = 1


@dataclass(frozen=True)
class FollowEntity:
    entity_id: str
    event_type: str


@dataclass(frozen=True)
class UnfollowEntity:
    entity_id: str
    event_type: str


@dataclass(frozen=True)
class ListBatches:
    pass


ProcessStatusCommand = (
    ShowProcess
    | WatchProcess
    | UnwatchProcess
    | ProcessesByEntity
    | FollowEntity
    | UnfollowEntity
    | ListBatches
    | ShowHelp
)

_BY_SUBCOMMAND: dict[str, type[ShowProcess | WatchProcess | UnwatchProcess]] = {
    "watch": WatchProcess,
    "unwatch": UnwatchProcess,
    "show": ShowProcess,
}


def parse_process_status_command(text: str) -> ProcessStatusCommand:
    """Parses the text after ``/process-status``. Never raises."""
    try:
        return _parse(normalise(text or ""))
    except InvalidInput as invalid:
        return ShowHelp(error=invalid.message)


def _parse(text: str) -> ProcessStatusCommand:
    words = tokens(text)
    if not words or words[0].lower() in HELP_WORDS:
        if len(words) > 1:
            raise InvalidInput(f"help takes no arguments; unexpected {echo(' '.join(words[1:]))}")
        return ShowHelp()
    sub = words[0].lower()
    if sub in _BY_SUBCOMMAND:
        if len(words) < 2:
            raise InvalidInput(f"{sub} needs a process status id, e.g. `/process-status {sub} 1234567`")
        if len(words) > 2:
            raise InvalidInput(f"{sub} takes one process status id; unexpected {echo(' '.join(words[2:]))}")
        return _BY_SUBCOMMAND[sub](_process_id(words[1]))
    if sub == "entity":
        return _parse_entity(words[1:])
    if sub in ("follow", "unfollow"):
        return _parse_follow(sub, words[1:])
    if sub == "batches":
        if len(words) > 1:
            raise InvalidInput(f"batches takes no arguments; unexpected {echo(' '.join(words[1:]))}")
        return ListBatches()
    if len(words) > 1:
        raise InvalidInput(
            f"Unknown subcommand {echo(words[0])}; "
            "use <id>, watch <id>, unwatch <id>, entity, follow, unfollow, batches or help"
        )
    return ShowProcess(_process_id(words[0]))


def _process_id(value: str) -> str:
    if not PROCESS_ID.match(value):
        raise InvalidInput(
            f"Process status id may only use letters, digits, '-' and '_' (at most 64), got {echo(value)}"
        )
    return value


def _parse_follow(sub: str, args: list[str]) -> FollowEntity | UnfollowEntity:
    if len(args) != 2:
        raise InvalidInput(
            f"{sub} needs an entity id and an event type, "
            f"e.g. `/process-status {sub} 1234567 CREATE_SHIPMENT`"
        )
    entity_id, event_type = _entity_id(args[0]), _event_type(args[1])
    return FollowEntity(entity_id, event_type) if sub == "follow" else UnfollowEntity(entity_id, event_type)


def _entity_id(value: str) -> str:
    if not ENTITY_ID.match(value):
        raise InvalidInput(
            f"Entity id may only use letters, digits, '.', ':', '-' and '_' (at most 100), got {echo(value)}"
        )
    return value


def _event_type(value: str) -> str:
    normalised = value.upper()
    if normalised not in EVENT_TYPES:
        examples = ", ".join(EVENT_TYPES[:5])
        raise InvalidInput(
            f"Unknown event type {echo(value)}; use one of {examples}, … "
            f"({len(EVENT_TYPES)} types, see `/process-status help`)"
        )
    return normalised


def _parse_entity(args: list[str]) -> ProcessesByEntity:
    if len(args) < 2:
        raise InvalidInput(
            "entity needs an entity id and an event type, "
            "e.g. `/process-status entity 1234567 CREATE_SHIPMENT`"
        )
    if len(args) > 3:
        raise InvalidInput(f"entity takes an entity id, an event type and a page; unexpected {echo(args[3])}")
    entity_id, event_type = args[0], args[1]
    if not ENTITY_ID.match(entity_id):
        raise InvalidInput(
            "Entity id may only use letters, digits, '.', ':', '-' and '_' (at most 100), "
            f"got {echo(entity_id)}"
        )
    normalised = event_type.upper()
    if normalised not in EVENT_TYPES:
        examples = ", ".join(EVENT_TYPES[:5])
        raise InvalidInput(
            f"Unknown event type {echo(event_type)}; use one of {examples}, … "
            f"({len(EVENT_TYPES)} types, see `/process-status help`)"
        )
    page = whole_number("page", args[2], 1, MAX_PAGE) if len(args) == 3 else 1
    return ProcessesByEntity(entity_id, normalised, page)
