"""On SQLite, what a round writes for ended watches is found by primary key: no statement of it
searches the index of every active process, so a finish costs the same with 1,000 or 100,000 watched
(``EXPLAIN QUERY PLAN`` of each statement as it ran)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bot.messaging import Announced
from bot.storage.records import WatchEnding
from bot.storage.store import Store
from tests.store_helpers import active_watches

EVERY_ACTIVE_PROCESS = "ix_batch_processes_unfinished_by_id"


@contextmanager
def statements() -> Iterator[list[tuple[str, Any]]]:
    """Every statement any engine of this process runs meanwhile, with its parameters."""
    ran: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        ran.extend((statement, p) for p in (parameters if many else [parameters]))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield ran
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def plans(database: Path, ran: list[tuple[str, Any]]) -> list[str]:
    """The query plan lines of each statement that writes or reads a watch's rows."""
    lines = []
    with closing(sqlite3.connect(database)) as conn:
        for statement, parameters in ran:
            if "batch_processes" not in statement and "post_attempts" not in statement:
                continue
            for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()):
                lines.append(f"{row[-1]}  <- {statement.split()[0]} {statement[:60]!r}")
    return lines


def test_finishing_and_recording_ended_watches_reads_no_index_of_every_active_process(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"

    async def main() -> list[tuple[str, Any]]:
        store = await Store.open(f"sqlite:///{database}")
        try:
            for n in range(20):
                assert await store.add_watch(f"P{n}", "C1", "U1")
            ended = [w for w in await active_watches(store) if w.process_status_id in ("P3", "P7")]
            endings = [
                WatchEnding(w.batch_id or "", w.process_status_id, w.channel, "SUCCESS") for w in ended
            ]
            kind = Announced.PROCESS_STATUS.value
            with statements() as ran:
                finished = await store.finish_watches(endings, announcement=kind)
                await store.record_watch_messages([(b, "1.1") for b in sorted(finished)], announcement=kind)
            assert len(finished) == 2
            return ran
        finally:
            await store.close()

    ran = asyncio.run(main())
    lines = plans(database, ran)
    assert lines, "the statements were seen"
    assert not [line for line in lines if EVERY_ACTIVE_PROCESS in line], "\n".join(lines)
