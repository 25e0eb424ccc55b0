"""A real, throwaway PostgreSQL for the test session, started from the machine's own binaries.

Fixtures:

* ``postgres_url`` (session): ``postgresql://postgres@127.0.0.1:PORT/approvals_test`` on a private
  cluster (initdb into a temp dir, trust auth, loopback only, fsync off), stopped and deleted at the end.
* ``fresh_postgres_url`` (function): a new, empty database on that cluster for one test.
* ``sqlite_url`` (function): ``sqlite:///<tmp_path>/bot.db``.
* ``database_url`` (function, params ``sqlite``/``postgresql``): runs a test once per backend.

Missing binaries skip the PostgreSQL variants, unless ``CI`` is set: then they fail.
Running as root (CI, containers), initdb/pg_ctl run as the ``postgres`` system user (or ``nobody``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SUPERUSER = "postgres"
TEST_DATABASE = "approvals_test"
START_ATTEMPTS = 3


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, else the highest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    candidates = [
        d
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if os.access(Path(d) / "initdb", os.X_OK) and os.access(Path(d) / "pg_ctl", os.X_OK)
    ]
    if not candidates:
        return None
    return Path(max(candidates, key=_version_key))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run: {message} (CI is set, so this is an error)", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {message}")


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    _unavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")
    return None  # unreachable


@dataclass
class PostgresServer:
    bin_dir: Path
    base: Path
    user: pwd.struct_passwd | None
    port: int = 0
    users: int = field(default=0)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def log_file(self) -> Path:
        return self.base / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _command(self, *args: str) -> list[str]:
        if self.user is None:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", self.user.pw_name, "--", *args]

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = env["LANG"] = "C"
        # cwd: the server user must be able to enter it (root's cwd often isn't accessible).
        return subprocess.run(
            self._command(*args),
            cwd=self.base,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no server log)"

    def init(self) -> None:
        if self.user is not None:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self.base.chmod(0o755)
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def start(self, *, port: int | None = None) -> None:
        """Starts the server on ``port`` (a restart keeps its clients' URLs), else on a free port."""
        errors: list[str] = []
        for _ in range(START_ATTEMPTS):  # the free port may be taken before the server binds it
            self.port = port or _free_port()
            options = (
                f"-k {self.base} -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            done = self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
            if done.returncode == 0:
                return
            errors.append(f"pg_ctl start ({done.returncode}): {done.stdout}{done.stderr}\n{self._log_tail()}")
        raise RuntimeError("could not start PostgreSQL:\n" + "\n".join(errors))

    def halt(self) -> None:
        """Stops the server (its clients' sessions end) and keeps its data for ``start(port=...)``."""
        done = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed ({done.returncode}): {done.stdout}{done.stderr}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def private_server(database: str = TEST_DATABASE) -> Iterator[PostgresServer]:
    """A cluster of its own with ``database`` in it, for a test that stops and restarts PostgreSQL."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        _unavailable("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
    assert bin_dir is not None
    server = PostgresServer(bin_dir, Path(tempfile.mkdtemp(prefix="approvals-pg-")), _run_as())
    try:
        server.init()
        server.start()
        server.create_database(database)
        yield server
    finally:
        server.stop()


# One server per test session even when several modules import these fixtures (each import registers
# its own session-scoped fixture): reference-counted, stopped when the last user is done.
_server: PostgresServer | None = None


def _acquire_server() -> PostgresServer:
    global _server  # noqa: PLW0603
    if _server is None:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            _unavailable("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
        assert bin_dir is not None
        user = _run_as()
        if user is not None and not (shutil.which("runuser") or Path("/usr/sbin/runuser").exists()):
            _unavailable("running as root but runuser is missing")
        server = PostgresServer(bin_dir, Path(tempfile.mkdtemp(prefix="approvals-pg-")), user)
        try:
            server.init()
            server.start()
            server.create_database(TEST_DATABASE)
        except BaseException:
            server.stop()
            raise
        _server = server
    _server.users += 1
    return _server


def _release_server(server: PostgresServer) -> None:
    global _server  # noqa: PLW0603
    server.users -= 1
    if server.users == 0:
        server.stop()
        _server = None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = _acquire_server()
    try:
        yield server.url(TEST_DATABASE)
    finally:
        _release_server(server)


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    assert _server is not None
    server = _server
    name = f"t_{uuid.uuid4().hex[:16]}"
    server.create_database(name)
    yield server.url(name)
    with contextlib.suppress(psycopg.Error):
        server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"
    return str(request.getfixturevalue(fixture))
