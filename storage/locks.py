"""One worker per run across processes: a PostgreSQL advisory lock, or a file lock beside SQLite.

Both are released by the operating system or the database server when the holder dies, so a process
killed mid-run never blocks the process that restarts it; the run row says what was done already.

On PostgreSQL every run lock of an engine is a session lock on one connection of its own, outside the
engine's pool (see :class:`AdvisoryLocks`): a thousand runs at once hold a thousand locks on one
connection, and the pool stays free for the runs' queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import threading
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# First half of PostgreSQL's two-int advisory key: "arxv", so our locks are easy to spot in pg_locks.
LOCK_NAMESPACE = 0x61727876
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()
_advisory: weakref.WeakKeyDictionary[Engine, AdvisoryLocks] = weakref.WeakKeyDictionary()
_advisory_guard = threading.Lock()


def run_lock_key(profile_id: int, date: dt.date, schema: str = "") -> int:
    """A stable signed 32-bit key for (profile, day) in one schema (the default schema keeps the key it always
    had, so processes of the previous release still exclude each other during an upgrade)."""
    scope = f"{schema}/" if schema not in ("", "public") else ""
    return zlib.crc32(f"{scope}{profile_id}:{date.isoformat()}".encode()) - 2**31


@contextlib.contextmanager
def try_run_lock(engine: Engine, profile_id: int, date: dt.date) -> Iterator[bool]:
    """Hold the run's lock for the ``with`` block if nobody else does; yields whether we got it."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with advisory_locks(engine).hold(profile_id, date) as held:
            yield held
        return
    key = run_lock_key(profile_id, date)
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        # One open file per run held: a thousand runs at once stay far below the usual descriptor limits.
        with _file_lock(Path(str(engine.url.database)), key) as held:
            yield held
    else:
        with _memory_lock(f"{engine.url}:{key}") as held:
            yield held


def release_all(engine: Engine) -> None:
    """Close ``engine``'s lock connection, if it has one: for when the engine itself is closed."""
    with _advisory_guard:
        locks = _advisory.pop(engine, None)
    if locks is not None:
        locks.close()


def advisory_locks(engine: Engine) -> AdvisoryLocks:
    """The run locks of ``engine``'s database, one holder per engine (so per process in the bot)."""
    with _advisory_guard:
        locks = _advisory.get(engine)
        if locks is None:
            locks = _advisory[engine] = AdvisoryLocks(engine)
        return locks


class AdvisoryLocks:
    """PostgreSQL session advisory locks of one process, all held on one connection outside the pool.

    A session may hold any number of advisory locks, and it takes them again without waiting, so this
    process's own runs exclude each other here (``_held``) and other processes through the server.

    If that connection breaks (the server restarted, a network cut), the server has released every lock
    held on it: until the next lock operation notices, another process may start a run this process is
    still working on. Both then work from the same run row and record each message as it is posted, so
    the cost is at worst a message posted twice, never one lost. The next operation logs a warning, opens
    a new connection and takes the locks of the runs still under way again, warning for any that another
    process holds by then.
    """

    def __init__(self, engine: Engine) -> None:
        self._url = engine.url
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._schema = ""
        self._held: set[int] = set()
        self._guard = threading.Lock()  # one statement at a time on the connection; guards _held

    @contextlib.contextmanager
    def hold(self, profile_id: int, date: dt.date) -> Iterator[bool]:
        key = self._acquire(profile_id, date)
        try:
            yield key is not None
        finally:
            if key is not None:
                self._release(key)

    def close(self) -> None:
        """Drop the connection (the server releases its locks) and forget what was held."""
        with self._guard:
            self._held.clear()
            self._drop()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def _acquire(self, profile_id: int, date: dt.date) -> int | None:
        with self._guard:
            connection = self._connected()
            key = run_lock_key(profile_id, date, self._schema)
            if key in self._held:
                return None
            try:
                taken = self._try_lock(connection, key)
            except DBAPIError as exc:
                self._reconnect(exc)
                taken = self._try_lock(self._connected(), key)
            if not taken:
                return None
            self._held.add(key)
            return key

    def _release(self, key: int) -> None:
        with self._guard:
            self._held.discard(key)
            if self._connection is None:
                return  # the connection broke since: the server let go of the lock with it
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:ns, :key)"),
                                         {"ns": LOCK_NAMESPACE, "key": key})
            except DBAPIError as exc:
                # The lock went with the connection; the runs still under way get theirs back if the server answers.
                with contextlib.suppress(DBAPIError):
                    self._reconnect(exc)

    def _connected(self) -> Connection:
        if self._connection is None:
            if self._engine is None:
                # Its own engine without a pool: the lock connection never takes a place in the runs' pool.
                self._engine = create_engine(self._url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            self._connection = self._engine.connect()
            # Advisory locks are database-wide but runs live in a schema: two deployments (or two test runs)
            # in separate schemas of one database must not take each other's locks.
            self._schema = str(self._connection.execute(text("SELECT current_schema()")).scalar())
        return self._connection

    def _reconnect(self, exc: DBAPIError) -> None:
        """The lock connection broke: say so, open another and take again the locks of runs still under way."""
        log.warning("The run-lock connection to the database broke (%s); the locks of %d run(s) under way were "
                    "released by the server, taking them again on a new connection",
                    type(exc.orig or exc).__name__, len(self._held))
        self._drop()
        connection = self._connected()
        for key in list(self._held):
            if not self._try_lock(connection, key):
                log.warning("Run lock %d is held by another process now; both may work on that run", key)

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close cleanly
                self._connection.close()
            self._connection = None

    @staticmethod
    def _try_lock(connection: Connection, key: int) -> bool:
        return bool(connection.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"),
                                       {"ns": LOCK_NAMESPACE, "key": key}).scalar())


@contextlib.contextmanager
def _file_lock(database: Path, key: int) -> Iterator[bool]:
    folder = database.parent / f"{database.name}.locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"run-{key & 0xFFFFFFFF:08x}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _memory_lock(name: str) -> Iterator[bool]:
    with _memory_guard:
        lock = _memory_locks.setdefault(name, threading.Lock())
    held = lock.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            lock.release()
