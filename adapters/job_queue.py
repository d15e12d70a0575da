"""The job queue of DIGEST_RUNS=queue: procrastinate on the deployment's PostgreSQL (the RunQueue port).

Its tables live beside ours (the first schema of DATABASE_URL's search_path) and are created at start by
whichever process comes first. A job is one channel's run of one day (bot.digest.queue.QueuedRun): locked per
(profile, day), retried with backoff when it fails or a shutdown cuts it off. Workers send heartbeats; each
worker also looks for jobs of workers that went silent (killed, machine gone) and puts them back in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from sqlalchemy.engine import make_url

from bot.digest.queue import QueuedRun
from bot.domain.errors import StorageError
from storage.db import safe_url

log = logging.getLogger(__name__)

TASK = "arxiv_digest.channel_run"
DEFAULT_QUEUE = "default"  # procrastinate's; jobs enqueued before they named their platform wait there


def queue_name(platform: str) -> str:
    """A platform's jobs have a queue of their own: a worker without that platform's token never takes them
    (it would fail them through every retry while a worker with the token stood idle)."""
    return f"digests-{platform}" if platform else DEFAULT_QUEUE


# 5 s + 3^n s before each of 5 more attempts: 8 s, 14 s, 32 s, 86 s, 248 s; the clock enqueues the next day anyway.
RETRY = procrastinate.RetryStrategy(max_attempts=5, wait=5, exponential_wait=3)
SCHEMA_LOCK = 0x61727869  # advisory lock key while a process creates or upgrades the queue's tables
MIGRATIONS = Path(procrastinate.schema.SchemaManager.get_migrations_path())  # procrastinate's, named in version order
APPLIED = "arxiv_digest_queue_migrations"  # which of them the queue's tables have
POOL_SIZE = 4  # the listener, heartbeats, fetching and finishing jobs; the runs use the Store's own pool


def conninfo(database_url: str) -> str:
    """DATABASE_URL (SQLAlchemy's form, e.g. postgresql+psycopg://…?options=-csearch_path%3Dx) as libpq's."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise StorageError(
            "The job queue (DIGEST_RUNS=queue, arxiv-digest worker) needs PostgreSQL: set DATABASE_URL to "
            "postgresql+psycopg://user:password@host/db, or with SQLite leave DIGEST_RUNS=inline and run "
            "arxiv-digest run alone."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


RunHandler = Callable[[QueuedRun], Awaitable[None]]


class JobQueue:
    """procrastinate's App with our one task. The clock only enqueues; a worker also runs jobs (:meth:`work`)."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = conninfo(database_url)
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=self._conninfo, min_size=1, max_size=POOL_SIZE)
        )
        self._handler: RunHandler | None = None
        self._open = False
        self.task = self.app.task(name=TASK, retry=RETRY)(self._run)

    async def _run(self, subscription_id: int, profile_id: int, date: str, requested: bool, platform: str = "") -> None:
        assert self._handler is not None, "jobs run only in a worker"
        await self._handler(QueuedRun(subscription_id, profile_id, dt.date.fromisoformat(date), requested, platform))

    # lifecycle --------------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, and create the queue's tables if this database has none yet."""
        try:
            await self.ensure_schema()
            await self.app.open_async()
        except psycopg.Error as exc:  # the driver's first line only: no SQL, no password
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StorageError(f"Cannot open the job queue on {safe_url(self._conninfo)}: {reason}. Check "
                               "DATABASE_URL and that the server is running.") from None
        self._open = True

    async def close(self) -> None:
        if self._open:
            self._open = False
            await self.app.close_async()

    async def ensure_schema(self) -> None:
        """The queue's tables: made by the first process to start, and brought up to the installed procrastinate's
        schema when it brings migrations the tables do not have. Under an advisory lock, as workers may start
        together; each migration in a transaction of its own, recorded as it is applied."""
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                await self._ensure_schema(connection)
            finally:
                await connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    async def _ensure_schema(self, connection: psycopg.AsyncConnection[Any]) -> None:
        migrations = sorted(MIGRATIONS.glob("*.sql"))
        found = await (await connection.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
        await connection.execute(f"CREATE TABLE IF NOT EXISTS {APPLIED} (migration text PRIMARY KEY)")
        if found is None or found[0] is None:
            async with connection.transaction():
                await connection.execute(self.app.schema_manager.get_schema())
                await self._record(connection, migrations)  # the schema is the newest migration's
            log.info("Created the job queue's tables (procrastinate)")
            return
        applied = {name for (name,) in await (await connection.execute(f"SELECT migration FROM {APPLIED}")).fetchall()}
        if not applied:  # made before they were recorded, by a procrastinate of this code's range: up to date
            async with connection.transaction():
                await self._record(connection, migrations)
            return
        newest = max(applied)
        pending = [path for path in migrations if path.name > newest]
        for path in pending:
            async with connection.transaction():
                await connection.execute(path.read_text(encoding="utf-8"))  # procrastinate's SQL, shipped with it
                await self._record(connection, [path])
        if pending:
            log.info("Upgraded the job queue's tables to procrastinate %s: %d migration(s), %s to %s",
                     procrastinate.__version__, len(pending), pending[0].name, pending[-1].name)

    @staticmethod
    async def _record(connection: psycopg.AsyncConnection[Any], migrations: list[Path]) -> None:
        for path in migrations:
            await connection.execute(f"INSERT INTO {APPLIED} (migration) VALUES (%s) ON CONFLICT DO NOTHING",
                                     (path.name,))

    # the port ---------------------------------------------------------------------------------------------

    async def enqueue(self, run: QueuedRun, *, at: dt.datetime | None = None) -> bool:
        job = self.task.configure(lock=run.lock, queueing_lock=run.queueing_lock, schedule_at=at,
                                  queue=queue_name(run.platform))
        try:
            await job.defer_async(subscription_id=run.subscription_id, profile_id=run.profile_id,
                                  date=run.date.isoformat(), requested=run.requested, platform=run.platform)
        except AlreadyEnqueued:
            return False
        return True

    # the worker -------------------------------------------------------------------------------------------

    async def work(self, handler: RunHandler, *, platforms: Sequence[str], concurrency: int, heartbeat: float,
                   stalled: float, grace: float, stop: asyncio.Event) -> None:
        """Take the jobs of channels on ``platforms`` (those the worker can post to) until ``stop`` is set, then
        give running ones ``grace`` seconds (those cut off are retried). Meanwhile, every ``heartbeat`` seconds,
        put back the jobs of workers silent for ``stalled`` seconds."""
        self._handler = handler
        worker = asyncio.create_task(self.app.run_worker_async(
            queues=[*map(queue_name, platforms), queue_name("")],
            concurrency=concurrency, install_signal_handlers=False, update_heartbeat_interval=heartbeat,
            stalled_worker_timeout=stalled, shutdown_graceful_timeout=grace, delete_jobs="successful",
            fetch_job_polling_interval=min(5.0, heartbeat),
        ), name="job-queue-worker")
        rescuer = asyncio.create_task(self._rescue_stalled(heartbeat, stalled), name="job-queue-stalled")
        waiter = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({worker, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            rescuer.cancel()
            waiter.cancel()
            if not worker.done():
                worker.cancel()  # procrastinate's graceful stop: running jobs get ``grace`` seconds
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            with contextlib.suppress(asyncio.CancelledError):
                await rescuer

    async def _rescue_stalled(self, every: float, stalled: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.retry_stalled(stalled)
            except ConnectorException as exc:  # the database blinked: look again next time
                log.warning("Could not look for stalled jobs: %s", exc)

    async def retry_stalled(self, stalled: float) -> int:
        """Put the running jobs of workers without a heartbeat for ``stalled`` seconds back in the queue."""
        manager = self.app.job_manager
        count = 0
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled):
            try:
                await manager.retry_job(job)
            except ConnectorException:  # another worker put it back first
                continue
            count += 1
            log.warning("Job %s (%s) was running on a worker that stopped answering; it goes to another worker",
                        job.id, _describe(job.task_kwargs))
        return count


def _describe(kwargs: dict[str, Any]) -> str:
    return f"subscription {kwargs.get('subscription_id')}, {kwargs.get('date')}"
