"""DIGEST_RUNS=queue in the core: the clock enqueues a channel's run instead of running it, /arxiv run is queued
and says so, and a worker's job runs the day as the scheduler would, coming back later when arXiv is late."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.digest.queue import QueuedRun, QueueingScheduler, RunWorker, requested_runs
from bot.domain.statuses import DeliveryStatus
from tests.bot.conftest import THU, World, berlin
from tests.conftest import sample_papers


class MemoryQueue:
    """The RunQueue port in memory, with the queueing lock's rule: one waiting job per channel and day."""

    def __init__(self) -> None:
        self.jobs: list[tuple[QueuedRun, dt.datetime | None]] = []

    async def enqueue(self, run: QueuedRun, *, at: dt.datetime | None = None) -> bool:
        if any(waiting.queueing_lock == run.queueing_lock for waiting, _ in self.jobs):
            return False
        self.jobs.append((run, at))
        return True


def test_a_run_is_locked_per_profile_and_day_and_waits_once_per_channel_day_and_kind() -> None:
    due = QueuedRun(subscription_id=7, profile_id=3, date=THU)
    asked = QueuedRun(subscription_id=7, profile_id=3, date=THU, requested=True)
    other_channel = QueuedRun(subscription_id=8, profile_id=3, date=THU)
    assert due.lock == asked.lock == other_channel.lock == "digest:3:2025-03-06"
    assert len({due.queueing_lock, asked.queueing_lock, other_channel.queueing_lock}) == 3


def test_the_clock_enqueues_the_channels_due_day_and_posts_nothing_itself(world: World) -> None:
    w = world()
    queue = MemoryQueue()
    scheduler = QueueingScheduler(w.daily, queue, clock=lambda: berlin(THU, 9, 1))

    async def fire_twice() -> None:
        await scheduler.run_now(w.sub.id)
        await scheduler.run_now(w.sub.id)  # the clock again before a worker took it: still one job

    asyncio.run(fire_twice())
    assert queue.jobs == [(QueuedRun(w.sub.id, w.sub.profile_id, THU, platform="chat"), None)]
    assert w.poster.messages == [] and w.rss_reads() == 0


def test_a_worker_runs_the_queued_day_and_posts_it_once(world: World, fake_arxiv) -> None:
    w = world()
    fake_arxiv.set_day(THU, sample_papers(4))
    queue = MemoryQueue()
    worker = RunWorker(w.daily, queue, clock=lambda: berlin(THU, 9, 1))
    run = QueuedRun(w.sub.id, w.sub.profile_id, THU)
    asyncio.run(worker.run(run))
    asyncio.run(worker.run(run))  # the same job again (a retry after a crash): nothing more is posted
    assert w.summaries() == [THU]
    assert queue.jobs == []


def test_a_late_feed_sends_the_job_back_for_the_time_the_run_asks(world: World, fake_arxiv) -> None:
    w = world()
    fake_arxiv.set_day(dt.date(2025, 3, 5), sample_papers(3))  # the feed still shows Wednesday
    queue = MemoryQueue()
    now = berlin(THU, 9, 1)
    asyncio.run(RunWorker(w.daily, queue, clock=lambda: now).run(QueuedRun(w.sub.id, w.sub.profile_id, THU)))
    assert w.summaries() == []
    [(again, at)] = queue.jobs
    assert again == QueuedRun(w.sub.id, w.sub.profile_id, THU, platform="chat")  # for a worker that posts there
    assert at == now + dt.timedelta(minutes=w.settings.feed_retry_minutes)


def test_a_job_for_a_channel_that_left_is_dropped(world: World, fake_arxiv) -> None:
    w = world()
    fake_arxiv.set_day(THU, sample_papers(2))
    w.store.update_subscription(w.sub.platform, w.sub.channel, active=False)
    queue = MemoryQueue()
    asyncio.run(RunWorker(w.daily, queue, clock=lambda: berlin(THU, 9, 1)).run(
        QueuedRun(w.sub.id, w.sub.profile_id, THU)))
    assert w.poster.messages == [] and queue.jobs == []


def test_arxiv_run_is_queued_and_the_requester_told_so(world: World, fake_arxiv) -> None:
    w = world()
    fake_arxiv.set_day(THU, sample_papers(3))
    queue = MemoryQueue()
    w.daily.service.queue_requested = requested_runs(w.daily, queue, clock=lambda: berlin(THU, 10))
    first = asyncio.run(w.daily.service.run_requested(w.sub))
    second = asyncio.run(w.daily.service.run_requested(w.sub))
    assert first.status == second.status == DeliveryStatus.QUEUED
    assert first.message.startswith("The digest is queued")
    assert second.message.startswith("The digest was queued already")
    assert queue.jobs == [(QueuedRun(w.sub.id, w.sub.profile_id, THU, requested=True, platform="chat"), None)]
    assert w.poster.messages == []
    asyncio.run(RunWorker(w.daily, queue, clock=lambda: berlin(THU, 10)).run(queue.jobs[0][0]))
    assert w.summaries() == [THU]


class DownQueue:
    async def enqueue(self, run: QueuedRun, *, at: dt.datetime | None = None) -> bool:
        raise ConnectionError("the database is away")


def test_a_run_the_clock_could_not_queue_is_tried_again_later(world: World) -> None:
    w = world()
    now = berlin(THU, 9, 1)
    scheduler = QueueingScheduler(w.daily, DownQueue(), clock=lambda: now)

    async def fire() -> tuple[object, object]:
        scheduler.scheduler.start(paused=True)
        try:
            outcome = await scheduler.run_now(w.sub.id)
            return outcome, scheduler.scheduler.get_job(f"retry:{w.sub.id}")
        finally:
            scheduler.scheduler.shutdown(wait=False)

    outcome, retry = asyncio.run(fire())
    expected = now + dt.timedelta(minutes=w.settings.feed_retry_minutes)
    assert outcome.retry_at == expected  # type: ignore[attr-defined]
    assert retry is not None and retry.trigger.run_date == expected  # type: ignore[attr-defined]
