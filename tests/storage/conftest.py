"""Every storage test runs on SQLite and, where a server is reachable, PostgreSQL (127.0.0.1:5432, database test)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from storage.store import Store

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        if not _postgres_reachable():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (CI starts it; see .ci/run)")
        pytest.importorskip("psycopg", reason="install the 'postgres' extra for PostgreSQL tests")
        opened = Store.open(POSTGRES_URL)
        SQLModel.metadata.drop_all(opened.engine)
        SQLModel.metadata.create_all(opened.engine)
    yield opened
    if request.param == "postgresql":
        SQLModel.metadata.drop_all(opened.engine)
    opened.close()
