"""Runs an object in a process of its own and calls its methods over a pipe.

The bot, each baseline server and the emulators run in separate processes, so that the CPU time and
RSS read in a server's process are that server's alone, and a fresh process per size starts with a
fresh peak RSS.

With ``BENCH_PROFILE=<folder>`` in the environment, each host that names its event loop
(``ProcessFigures.profiled_loop``) runs under cProfile on that loop's thread, and its statistics are
written to ``<folder>/<host>-<pid>.prof`` when it stops (read them with ``python -m pstats``).
"""

from __future__ import annotations

import asyncio
import cProfile
import multiprocessing
import os
import resource
import threading
import time
import traceback
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("spawn")
_STOP = "__stop__"


class RemoteError(RuntimeError):
    """A call in the child process raised; the message is the child's traceback."""


class Remote:
    """``factory(*args)`` built in a fresh (spawned) process; ``call(name, ...)`` runs its methods."""

    def __init__(self, factory: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        self._conn, child = _CONTEXT.Pipe()
        self._process = _CONTEXT.Process(target=_serve, args=(child, factory, args, kwargs), daemon=True)
        self._process.start()
        child.close()
        self._receive()  # the object is built (or its error raised here)

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((method, args, kwargs))
        return self._receive()

    def close(self) -> None:
        if self._process.is_alive():
            try:
                self._conn.send((_STOP, (), {}))
                self._receive()
            except (EOFError, OSError, RemoteError):
                pass
            self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._conn.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _receive(self) -> Any:
        ok, value = self._conn.recv()
        if not ok:
            raise RemoteError(value)
        return value


def _serve(
    conn: Connection, factory: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    try:
        target = factory(*args, **kwargs)
    except BaseException:
        conn.send((False, traceback.format_exc()))
        return
    conn.send((True, None))
    profile = _Profile.start(target)
    while True:
        try:
            method, call_args, call_kwargs = conn.recv()
        except EOFError:  # the bench went away
            return
        if method == _STOP:
            if profile is not None:
                profile.stop()
            close = getattr(target, "close", None)
            try:
                if close is not None:
                    close()
            finally:
                conn.send((True, None))
            return
        try:
            conn.send((True, getattr(target, method)(*call_args, **call_kwargs)))
        except BaseException:
            conn.send((False, traceback.format_exc()))


class _Profile:
    """cProfile on a host's event-loop thread (a profiler sees only the thread that enabled it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        self._loop = loop
        self._path = path
        self._profiler = cProfile.Profile()
        self._on_loop(self._profiler.enable)

    @classmethod
    def start(cls, target: object) -> _Profile | None:
        folder = os.environ.get("BENCH_PROFILE")
        loop_of = getattr(target, "profiled_loop", None)
        loop = loop_of() if folder and loop_of is not None else None
        if loop is None:
            return None
        assert folder is not None
        os.makedirs(folder, exist_ok=True)
        return cls(loop, os.path.join(folder, f"{type(target).__name__}-{os.getpid()}.prof"))

    def stop(self) -> None:
        self._on_loop(self._profiler.disable)
        self._profiler.dump_stats(self._path)

    def _on_loop(self, action: Callable[[], None]) -> None:
        done = threading.Event()

        def run() -> None:
            action()
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(30)


class LoopThread:
    """An event loop running in a daemon thread; ``call`` runs a coroutine on it and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bench-loop", daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 600) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class ProcessFigures:
    """What a host reports about its own process (CPU of all its threads, RSS now and at peak)."""

    def profiled_loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop ``BENCH_PROFILE`` profiles (None: nothing to profile)."""
        return None

    def cpu_seconds(self) -> float:
        return time.process_time()

    def rss_mib(self) -> float:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * resource.getpagesize() / 2**20

    def peak_rss_mib(self) -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
