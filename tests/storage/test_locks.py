"""Run locks: one worker per (profile, day) within a database, and only within it."""

from __future__ import annotations

import datetime as dt

from storage.store import Store
from tests.storage.conftest import postgres_schema

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
