"""``arxiv-digest worker``: takes channel runs off the job queue (DIGEST_RUNS=queue) until SIGTERM/SIGINT.

Any number of workers, on any machines, share one PostgreSQL database with one clock (``arxiv-digest run``).
A stop lets the running digests finish within DIGEST_SHUTDOWN_GRACE_SECONDS; those cut off go back to the queue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.bootstrap import build_core, job_queue, posting_platforms
from bot.chat.commands import CommandCore
from bot.digest.daily import DailyRuns
from bot.digest.queue import RunWorker
from bot.domain.platform import Platform
from bot.domain.settings import Settings
from bot.entrypoints.runner import Stopped, StopRequests, close_all, open_store, unless
from storage.store import Store

if TYPE_CHECKING:
    from bot.bootstrap import JobQueue

log = logging.getLogger(__name__)


async def work(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run jobs until ``stop`` is set (SIGTERM/SIGINT set it). A setting, the database or a token that cannot
    work raises its DigestError (or the database's error) before any job is taken."""
    stop = stop or asyncio.Event()
    requests = StopRequests(stop)
    requests.install()
    queue: JobQueue | None = None
    store: Store | None = None
    core: CommandCore | None = None
    started: list[Platform] = []
    try:
        queue = job_queue(settings)  # first: a DATABASE_URL that is not PostgreSQL is refused at once
        store = await open_store(settings, stop)
        core = build_core(settings, store)
        for platform in posting_platforms(core):
            started.append(platform)
            await unless(platform.start(), stop)
        await unless(queue.open(), stop)
        core.service.resumes_interrupted = True  # a run a stop cut off is finished by the job's next attempt
        runs = RunWorker(DailyRuns(core.service, settings.calendar), queue)
        core.service.health_sources.append(lambda: {"worker": {
            "platforms": sorted(core.service.posters), "runs_at_once": settings.worker_concurrency}})
        log.info("arxiv-digest worker is taking digests (%d at once) for %s", settings.worker_concurrency,
                 ", ".join(sorted(core.service.posters)))
        await queue.work(runs.run, platforms=sorted(core.service.posters), concurrency=settings.worker_concurrency,
                         heartbeat=settings.worker_heartbeat_seconds, stalled=settings.worker_stalled_seconds,
                         grace=settings.shutdown_grace_seconds, stop=stop)
    except Stopped:
        pass
    finally:
        if stop.is_set():
            log.info("Worker stopped")
        await close_all(started, core, queue, store)
        requests.remove()
