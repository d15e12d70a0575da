"""One worker per run across processes: a PostgreSQL advisory lock, or a file lock beside SQLite.

Both are released by the operating system or the database server when the holder dies, so a process
killed mid-run never blocks the process that restarts it; the run row says what was done already.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

# First half of PostgreSQL's two-int advisory key: "arxv", so our locks are easy to spot in pg_locks.
LOCK_NAMESPACE = 0x61727876
_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


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
        with _pg_lock(engine, profile_id, date) as held:
            yield held
        return
    key = run_lock_key(profile_id, date)
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with _file_lock(Path(str(engine.url.database)), key) as held:
            yield held
    else:
        with _memory_lock(f"{engine.url}:{key}") as held:
            yield held


@contextlib.contextmanager
def _pg_lock(engine: Engine, profile_id: int, date: dt.date) -> Iterator[bool]:
    # A session lock on a connection of its own, held while the run works in other short transactions.
    with engine.connect() as connection:
        # Advisory locks are database-wide but runs live in a schema: two deployments (or two test runs)
        # in separate schemas of one database must not take each other's locks.
        key = run_lock_key(profile_id, date, str(connection.execute(text("SELECT current_schema()")).scalar()))
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"),
                                       {"ns": LOCK_NAMESPACE, "key": key}).scalar())
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": key})
                connection.commit()


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
