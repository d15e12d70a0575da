"""Store calls from async code run on the store's own threads, and finish even when the caller gives up."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bot.domain.statuses import RunStatus
from storage.offload import background
from storage.store import Store

DAY = dt.date(2025, 3, 6)



async def cancelled_once_started(start: Callable[[], Awaitable[object]], started: threading.Event,
                                 release: threading.Event) -> None:
    """Run ``start()`` as a task, cancel it once its blocking call has ``started``, then ``release`` that call."""
    task = asyncio.ensure_future(start())
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    release.set()

def test_a_store_call_from_async_code_runs_on_one_of_the_stores_threads(db: Store) -> None:
    async def body() -> tuple[str, str]:
        return threading.current_thread().name, await db.aio(lambda: threading.current_thread().name)

    loop_thread, call_thread = asyncio.run(body())
    assert call_thread.startswith("db") and call_thread != loop_thread


@pytest.mark.parametrize(("size", "lanes"), [(1, (1, 1)), (2, (1, 1)), (5, (2, 3)), (10, (4, 6))])
def test_a_store_has_a_thread_per_pooled_connection_two_in_five_for_people(tmp_path, size, lanes) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'sized.db'}", pool_size=size, max_overflow=2)
    try:
        assert (store.threads.people, store.threads.background) == lanes
        if size > 1:
            assert sum(lanes) == store.engine.pool.size()  # type: ignore[attr-defined]
    finally:
        store.close()


def test_a_persons_call_does_not_queue_behind_the_runs_calls(db: Store) -> None:
    release = threading.Event()

    @background
    async def run() -> None:  # a digest run whose calls hold every thread of the runs' lane
        await db.aio(release.wait, 10)

    async def body() -> None:
        runs = [asyncio.create_task(run()) for _ in range(db.threads.background + 5)]
        await asyncio.sleep(0.05)
        try:
            await asyncio.wait_for(db.aio(db.get_profile, "chat:C1"), 2)  # a command's look-up: not queued
        finally:
            release.set()
            await asyncio.gather(*runs)

    asyncio.run(body())


def test_a_write_asked_for_is_made_even_when_the_caller_is_cancelled_meanwhile(db: Store) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        started.set()
        release.wait(5)
        profile = db.ensure_profile("chat:C1", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None,
                                    default_criteria="Mixture of experts.")
        db.mark_run(profile.id, DAY, RunStatus.POSTED)

    asyncio.run(cancelled_once_started(lambda: db.aio(slow_write), started, release))
    db.threads.close()  # waits for the call under way
    profile = db.get_profile("chat:C1")
    assert profile is not None and db.get_run(profile.id, DAY) is not None


def test_a_run_lock_taken_from_async_code_is_held_inside_and_let_go_after(db: Store) -> None:
    async def body() -> tuple[bool, bool]:
        async with db.locked_run(1, DAY) as held, db.locked_run(1, DAY) as again:
            return held, again

    assert asyncio.run(body()) == (True, False)
    with db.run_lock(1, DAY) as after:
        assert after


def test_a_run_lock_whose_taker_is_cancelled_while_taking_it_is_let_go(db: Store) -> None:
    entered, release = threading.Event(), threading.Event()
    original = db.run_lock

    @contextlib.contextmanager
    def slow_lock(profile_id: int, date: dt.date) -> Iterator[bool]:
        with original(profile_id, date) as held:
            entered.set()
            release.wait(5)
            yield held

    db.run_lock = slow_lock  # type: ignore[method-assign]

    async def take() -> None:
        async with db.locked_run(1, DAY):
            raise AssertionError("the body never runs: its task was cancelled first")

    asyncio.run(cancelled_once_started(take, entered, release))
    db.threads.close()  # the lock is let go on the store's threads: wait for them
    with original(1, DAY) as held:
        assert held
