"""Store calls cancelled part-way (a shutdown cancels the pollers wherever they are; a call over its
time limit is cancelled) leave no SQLite connection behind: each one left open keeps the file open,
and one left inside a transaction keeps the write lock, so every later write in any process waits
out SQLite's busy timeout and fails."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.storage.store import Store

CANCELLATIONS = 200


def open_files_on(database: Path) -> list[str]:
    """This process's open files that are the database or its WAL and shared-memory files."""
    names = {str(database), f"{database}-wal", f"{database}-shm"}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target in names:
            found.append(target)
    return found


def test_store_calls_cancelled_at_any_point_leave_no_connection_open(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    stop = threading.Event()

    def another_writer() -> None:
        """Takes the write lock now and then, so some calls are cancelled while they wait for it."""
        other = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            while not stop.wait(0.01):
                other.execute("BEGIN IMMEDIATE")
                stop.wait(0.02)
                other.execute("COMMIT")
        finally:
            other.close()

    async def scenario() -> list[str]:
        store = await Store.open(f"sqlite:///{database}")
        await store.register_instance()
        writer = threading.Thread(target=another_writer)
        writer.start()
        try:
            for n in range(CANCELLATIONS):
                call = asyncio.ensure_future(store.beat())
                await asyncio.sleep((n % 50) / 1000)  # cancelled from before its connect to after its commit
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
        finally:
            stop.set()
            writer.join()
        await store.beat()  # the store still writes
        await store.close()
        return open_files_on(database)

    assert asyncio.run(scenario()) == []
    # And nothing holds the write lock: another process's write goes through at once.
    probe = sqlite3.connect(database, timeout=1, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    finally:
        probe.close()


def write_lock_is_free(database: Path) -> bool:
    """Whether another connection takes the write lock within a second."""
    probe = sqlite3.connect(database, timeout=1, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def test_a_store_call_cancelled_between_a_read_and_its_rows_leaves_the_write_lock_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiosqlite reads a statement's rows in a second hand-over to its thread. A call cancelled
    between the two leaves that statement open; its connection is then closed, and Python's sqlite3
    (3.11 on) keeps a closed connection with an open statement alive, write lock and all, until the
    garbage collector frees the statement: for minutes, or for good."""
    database = tmp_path / "bot.db"
    reached, release, fetchall = asyncio.Event(), asyncio.Event(), aiosqlite.Cursor.fetchall

    async def rows_that_come_late(cursor: aiosqlite.Cursor) -> Any:
        reached.set()
        await release.wait()
        return await fetchall(cursor)

    async def scenario() -> tuple[bool, bool]:
        store = await Store.open(f"sqlite:///{database}")
        try:
            assert await store.claim_reminder("10001", 0, 1)
            monkeypatch.setattr(aiosqlite.Cursor, "fetchall", rows_that_come_late)
            # A reminder's claim: in its write transaction it first reads the approval's row (one row:
            # the statement stays open until its rows are read).
            call = asyncio.ensure_future(store.claim_reminder("10001", 1, 2))
            await reached.wait()
            call.cancel()
            # Its caller still holds the error (a poller's round does until it ends), and the error
            # the frames it went through.
            outcome = await asyncio.gather(call, return_exceptions=True)
            release.set()
            free = await asyncio.to_thread(write_lock_is_free, database)  # nothing collected meanwhile
            del outcome
            monkeypatch.setattr(aiosqlite.Cursor, "fetchall", fetchall)
            claimed = await store.claim_reminder("10002", 0, 1)  # and the store still writes
            return free, claimed
        finally:
            await store.close()

    gc.disable()  # as between two collections of a running bot
    try:
        assert asyncio.run(scenario()) == (True, True)
    finally:
        gc.enable()
