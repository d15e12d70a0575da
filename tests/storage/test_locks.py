"""Run locks: one worker per (profile, day) within a database, and only within it."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage.locks import LOCK_NAMESPACE, run_lock_key
from storage.store import Store
from tests.storage.conftest import POSTGRES_URL, postgres_schema

DAY = dt.date(2025, 3, 6)


def test_a_run_lock_is_held_once_per_database(database_url: str) -> None:
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        with first.run_lock(1, DAY) as held, second.run_lock(1, DAY) as again:
            assert (held, again) == (True, False)
        with second.run_lock(1, DAY) as after_release:
            assert after_release
    finally:
        first.close()
        second.close()


def test_runs_in_two_postgresql_schemas_do_not_take_each_others_locks() -> None:
    # Advisory locks are database-wide; two deployments (or test workers) in separate schemas share them.
    with postgres_schema() as one, postgres_schema() as other:
        first, second = Store.open(one), Store.open(other)
        try:
            with first.run_lock(1, DAY) as held, second.run_lock(1, DAY) as also:
                assert (held, also) == (True, True)
        finally:
            first.close()
            second.close()


def test_one_store_holds_a_runs_lock_once(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        with store.run_lock(1, DAY) as held, store.run_lock(1, DAY) as again, store.run_lock(2, DAY) as other:
            assert (held, again, other) == (True, False, True)
        with store.run_lock(1, DAY) as after_release:
            assert after_release
    finally:
        store.close()


def _our_locks(admin: Engine) -> list[tuple[int, int]]:
    """(backend pid, key) of every advisory lock in our namespace."""
    with admin.connect() as connection:
        return [(int(pid), int(key)) for pid, key in connection.execute(text(
            "SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' AND classid = :ns AND granted"
        ), {"ns": LOCK_NAMESPACE})]


def test_on_postgresql_many_run_locks_share_one_connection_outside_the_pool() -> None:
    # A connection per held lock ran the pool dry at 15 concurrent runs and froze the bot.
    with postgres_schema() as url:
        store = Store.open(url, pool_size=2, max_overflow=0)
        admin = create_engine(POSTGRES_URL)
        try:
            with contextlib.ExitStack() as stack:
                held = [stack.enter_context(store.run_lock(profile, DAY)) for profile in range(1, 41)]
                assert all(held)
                assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
                with store.engine.connect():  # the runs' queries still have the whole pool
                    pass
                ours = [pid for pid, key in _our_locks(admin) if key in _keys(store, 40)]
                assert len(ours) == 40 and len(set(ours)) == 1  # forty locks, one connection
            assert not set(_keys(store, 40)) & {key for _, key in _our_locks(admin)}
        finally:
            store.close()
            admin.dispose()


def _keys(store: Store, profiles: int) -> set[int]:
    schema = store.engine.url.query["options"]
    name = str(schema).removeprefix("-csearch_path=")
    return {run_lock_key(profile, DAY, name) & 0xFFFFFFFF for profile in range(1, profiles + 1)}


def test_a_broken_lock_connection_is_replaced_and_the_runs_under_way_get_their_locks_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with postgres_schema() as url:
        first, second = Store.open(url), Store.open(url)
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            with first.run_lock(1, DAY) as held:
                assert held
                (pid,) = {pid for pid, key in _our_locks(admin) if key in _keys(first, 1)}
                with admin.connect() as connection:  # the server restarts, or the network cuts the connection
                    connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                with caplog.at_level(logging.WARNING, logger="storage.locks"), first.run_lock(2, DAY) as next_run:
                    assert next_run
                assert "run-lock connection to the database broke" in caplog.text
                with second.run_lock(1, DAY) as taken_meanwhile:
                    assert not taken_meanwhile  # the run under way holds its lock again
            with second.run_lock(1, DAY) as after:
                assert after
        finally:
            first.close()
            second.close()
            admin.dispose()
