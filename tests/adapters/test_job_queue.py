"""adapters/job_queue.py on a real PostgreSQL schema: its tables made once, the queueing lock, jobs run by a worker
and retried when they fail, and the jobs of a worker that went silent put back for another."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from adapters.job_queue import APPLIED, MIGRATIONS, JobQueue, conninfo
from bot.digest.queue import QueuedRun
from bot.domain.errors import StorageError
from tests.storage.conftest import postgres_schema
from tests.support.unreachable import closed_port

DAY = dt.date(2025, 3, 6)


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema() as schema_url:
        yield schema_url


def statuses(url: str) -> list[tuple[str, int]]:
    with psycopg.connect(conninfo(url)) as connection:
        return [(str(status), int(attempts)) for status, attempts in
                connection.execute("SELECT status, attempts FROM procrastinate_jobs ORDER BY id").fetchall()]


def recorded_migrations(url: str) -> list[str]:
    with psycopg.connect(conninfo(url)) as connection:
        return [name for (name,) in connection.execute(f"SELECT migration FROM {APPLIED} ORDER BY 1")]


def test_a_database_other_than_postgresql_is_refused_in_one_line() -> None:
    with pytest.raises(StorageError, match=r"^The job queue \(DIGEST_RUNS=queue, arxiv-digest worker\) needs "
                                           r"PostgreSQL") as raised:
        JobQueue("sqlite:///digest.db")
    assert "\n" not in str(raised.value)


def test_the_url_keeps_its_schema_and_loses_sqlalchemys_driver_name() -> None:
    assert conninfo("postgresql+psycopg://u:pw@db:5432/d?options=-csearch_path%3Dx") == (
        "postgresql://u:pw@db:5432/d?options=-csearch_path%3Dx")


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    queue = JobQueue(f"postgresql+psycopg://bot:hunter2@127.0.0.1:{closed_port()}/digest")
    with pytest.raises(StorageError, match=r"^Cannot open the job queue on postgresql://bot:\*\*\*@") as raised:
        asyncio.run(queue.open())
    assert "hunter2" not in str(raised.value) and "\n" not in str(raised.value)


def test_processes_starting_together_make_the_tables_once_and_a_run_waits_once(url: str) -> None:
    async def main() -> list[bool]:
        queues = [JobQueue(url) for _ in range(3)]
        await asyncio.gather(*(queue.open() for queue in queues))
        try:
            run = QueuedRun(subscription_id=1, profile_id=1, date=DAY)
            return [await queues[0].enqueue(run), await queues[1].enqueue(run),
                    await queues[2].enqueue(QueuedRun(1, 1, DAY, requested=True))]
        finally:
            for queue in queues:
                await queue.close()

    assert asyncio.run(main()) == [True, False, True]
    assert statuses(url) == [("todo", 0), ("todo", 0)]


def test_tables_of_an_older_procrastinate_are_upgraded_once_and_then_run_jobs(url: str) -> None:
    migrations = sorted(MIGRATIONS.glob("*.sql"))
    older = [path for path in migrations if path.name < "03.04"]  # the tables procrastinate 3.3 made
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        for path in older:
            with connection.transaction():
                connection.execute(path.read_text(encoding="utf-8"))
        connection.execute(f"CREATE TABLE {APPLIED} (migration text PRIMARY KEY)")
        for path in older:
            connection.execute(f"INSERT INTO {APPLIED} VALUES (%s)", (path.name,))
    ran: list[QueuedRun] = []

    async def handler(run: QueuedRun) -> None:
        ran.append(run)

    async def main() -> None:
        queues = [JobQueue(url) for _ in range(2)]
        await asyncio.gather(*(queue.open() for queue in queues))  # two processes start: one upgrades
        try:
            await queues[0].enqueue(QueuedRun(1, 1, DAY))
            stop = asyncio.Event()
            working = asyncio.create_task(queues[1].work(handler, platforms=(), concurrency=1, heartbeat=0.2,
                                                         stalled=5, grace=1, stop=stop))
            for _ in range(100):
                if ran:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.wait_for(working, 10)
        finally:
            for queue in queues:
                await queue.close()

    asyncio.run(main())
    assert [run.subscription_id for run in ran] == [1]
    with psycopg.connect(conninfo(url)) as connection:
        assert connection.execute("SELECT to_regproc('procrastinate_retry_job_v2')").fetchone() != (None,)
    assert recorded_migrations(url) == [path.name for path in migrations]  # each applied once, in order


def test_tables_made_before_migrations_were_recorded_are_taken_as_current(url: str) -> None:
    async def open_close() -> None:
        queue = JobQueue(url)
        await queue.open()
        await queue.close()

    asyncio.run(open_close())
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute(f"DROP TABLE {APPLIED}")  # as a deployment of the previous version left them
    asyncio.run(open_close())
    assert recorded_migrations(url) == sorted(path.name for path in MIGRATIONS.glob("*.sql"))


def test_a_worker_runs_each_job_and_a_failing_one_is_tried_again_later(url: str) -> None:
    ran: list[QueuedRun] = []

    async def handler(run: QueuedRun) -> None:
        ran.append(run)
        if run.subscription_id == 2:
            raise RuntimeError("arXiv is down")

    async def main() -> None:
        queue = JobQueue(url)
        await queue.open()
        try:
            await queue.enqueue(QueuedRun(1, 1, DAY))
            await queue.enqueue(QueuedRun(2, 2, DAY))
            stop = asyncio.Event()
            working = asyncio.create_task(queue.work(handler, platforms=(), concurrency=2, heartbeat=0.5,
                                                     stalled=5, grace=1, stop=stop))
            for _ in range(100):
                if len(ran) == 2:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.wait_for(working, 10)
        finally:
            await queue.close()

    asyncio.run(main())
    assert sorted(run.subscription_id for run in ran) == [1, 2]
    assert statuses(url) == [("todo", 1)]  # the success is deleted; the failure waits for its second attempt


def test_a_worker_takes_only_the_jobs_of_the_platforms_it_can_post_to(url: str) -> None:
    async def drain(queue: JobQueue, platforms: list[str], ran: list[QueuedRun]) -> None:
        async def handler(run: QueuedRun) -> None:
            ran.append(run)

        stop = asyncio.Event()
        working = asyncio.create_task(queue.work(handler, platforms=platforms, concurrency=2, heartbeat=0.2,
                                                 stalled=5, grace=1, stop=stop))
        await asyncio.sleep(1.5)  # several of the worker's polls
        stop.set()
        await asyncio.wait_for(working, 10)

    async def main() -> tuple[list[QueuedRun], list[QueuedRun]]:
        queue = JobQueue(url)
        await queue.open()
        try:
            await queue.enqueue(QueuedRun(1, 1, DAY, platform="slack"))
            await queue.enqueue(QueuedRun(2, 2, DAY, platform="discord"))
            await queue.enqueue(QueuedRun(3, 3, DAY))  # enqueued before jobs named their platform
            only_slack: list[QueuedRun] = []
            await drain(queue, ["slack"], only_slack)
            left = statuses(url)
            then_discord: list[QueuedRun] = []
            await drain(queue, ["discord"], then_discord)
            assert left == [("todo", 0)] and statuses(url) == []
            return only_slack, then_discord
        finally:
            await queue.close()

    only_slack, then_discord = asyncio.run(main())
    assert sorted((run.subscription_id, run.platform) for run in only_slack) == [(1, "slack"), (3, "")]
    assert [(run.subscription_id, run.platform) for run in then_discord] == [(2, "discord")]


def test_the_job_of_a_worker_that_went_silent_goes_back_and_a_live_ones_stays(url: str) -> None:
    async def main() -> int:
        queue = JobQueue(url)
        await queue.open()
        try:
            await queue.enqueue(QueuedRun(1, 1, DAY))
            await queue.enqueue(QueuedRun(2, 2, DAY))
            manager = queue.app.job_manager
            silent, alive = await manager.register_worker(), await manager.register_worker()
            assert await manager.fetch_job(queues=None, worker_id=silent) is not None
            assert await manager.fetch_job(queues=None, worker_id=alive) is not None
            with psycopg.connect(conninfo(url), autocommit=True) as connection:
                connection.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' "
                                   "WHERE id = %s", (silent,))
            return await queue.retry_stalled(30)
        finally:
            await queue.close()

    assert asyncio.run(main()) == 1
    assert sorted(statuses(url)) == [("doing", 0), ("todo", 1)]
