"""Engine creation: SQLite in WAL mode with a busy timeout, or PostgreSQL from ``DATABASE_URL``.

A DATABASE_URL that cannot be used (not a URL, an unknown scheme, a driver that is not installed, a
server that does not answer) is a :class:`StorageError` or is described by :func:`explain`: one line
that says what to change, with the password hidden.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import create_engine

from bot.domain.errors import StorageError
from bot.domain.settings import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE

SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_TIMEOUT_S = 300
EXAMPLES = "sqlite:///arxiv_digest.db or postgresql+psycopg://user:password@host:5432/dbname"


def parse_url(url: str) -> URL:
    """DATABASE_URL as SQLAlchemy reads it (the URL itself is not echoed: it may hold a password)."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"DATABASE_URL is not a database URL; set it to a URL such as {EXAMPLES}.") from exc


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, fit for a message."""
    try:
        return (url if isinstance(url, URL) else make_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(DATABASE_URL)"


def make_engine(url: str, *, pool_size: int = DEFAULT_DB_POOL_SIZE,
                max_overflow: int = DEFAULT_DB_MAX_OVERFLOW) -> Engine:
    """The engine of ``url``: its pool keeps ``pool_size`` connections and opens ``max_overflow`` more at need."""
    parsed = parse_url(url)
    try:
        return _create(parsed, pool_size, max_overflow)
    except NoSuchModuleError as exc:
        hint = " (write postgresql+psycopg:// for PostgreSQL)" if parsed.drivername == "postgres" else ""
        raise StorageError(
            f"DATABASE_URL's scheme {parsed.drivername!r} is not a database arxiv-digest can use{hint}; "
            f"use SQLite or PostgreSQL, e.g. {EXAMPLES}."
        ) from exc
    except ImportError as exc:  # the dialect is known but its driver module is not installed
        module = getattr(exc, "name", None) or "its driver"
        raise StorageError(
            f"DATABASE_URL ({parsed.drivername}) needs the Python module {module!r}, which is not installed. "
            f"Use postgresql+psycopg://… (installed with arxiv-digest) or SQLite, or install the package that "
            f"provides {module!r} into the same environment."
        ) from exc
    except OSError as exc:  # SQLite's folder could not be made
        raise StorageError(
            f"Cannot create the folder of the SQLite database {parsed.database}: {exc.strerror or exc}. "
            "Point DATABASE_URL at a folder you can write to."
        ) from exc


def explain(exc: BaseException, url: str) -> str | None:
    """One line saying what went wrong with the database and what to do, or None if ``exc`` is not about it."""
    if isinstance(exc, StorageError):
        return str(exc)
    if isinstance(exc, DBAPIError):  # the driver's own words, first line only: no SQL, no parameters
        reason = str(exc.orig if exc.orig is not None else exc).strip().splitlines()[0]
        return (
            f"Database error with {safe_url(url)}: {reason}. Check DATABASE_URL and that the server is running."
        )
    if isinstance(exc, SQLAlchemyError):
        reason = str(exc).strip().splitlines()[0]
        return f"Database error: {reason}. Check DATABASE_URL and the server."
    return None


def _create(parsed: URL, pool_size: int, max_overflow: int) -> Engine:
    # Waiting for a connection happens on the store's threads, never on the event loop (see storage.offload):
    # a long queue of runs waits as long as it takes rather than failing after the default 30 s.
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": POOL_TIMEOUT_S}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **pool)
    in_memory = parsed.database in (None, "", ":memory:")
    if parsed.database and not in_memory:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30},
                           **({} if in_memory else pool))

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # The busy timeout waits instead of failing; WAL lets the bot read while a run writes.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enter_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _enter_wal(cursor: sqlite3.Cursor) -> None:
    """Switching a new database to WAL needs an exclusive lock and SQLite answers "database is locked" at
    once, without the busy timeout, while another connection switches it: wait for that one instead."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
