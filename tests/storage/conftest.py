"""Every storage test runs on SQLite and, where a server is reachable, PostgreSQL (127.0.0.1:5432, database test).

On PostgreSQL each test gets a schema of its own (search_path in the URL), dropped afterwards: tables and
alembic_version never leak from one test into the next.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from storage.store import Store

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections work in a new, empty schema; the schema and all in it go at the end."""
    if not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (CI starts it; see .ci/run)")
    pytest.importorskip("psycopg", reason="install the 'postgres' extra for PostgreSQL tests")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql("SET lock_timeout = '10s'")  # a leaked transaction fails the test, not CI
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    yield opened
    opened.close()
