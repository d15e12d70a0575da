"""Channel runs as jobs on a queue (DIGEST_RUNS=queue): the clock enqueues them, `arxiv-digest worker`s run them.

The core sees the queue through the :class:`RunQueue` port; the job queue itself (PostgreSQL) is an adapter.
A job names a channel and the announcement day it was due for; its lock is the profile's day, so one (profile,
day) is worked on by one worker at a time, and its queueing lock keeps a channel's day from waiting twice.
What a job does is what the scheduler does inline (:meth:`DailyRuns.run_due`, or the feed's newest day for
``/arxiv run``), so running it again after a crash is safe: the storage run lock, the posted parts and the
recovery of half-posted days stay the guarantee against duplicates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from apscheduler.triggers.date import DateTrigger

from bot.digest.daily import DailyRuns, DueOutcome
from bot.digest.scheduler import NOTEWORTHY, DigestScheduler, utc_now
from bot.digest.service import Delivery
from bot.domain.models import Subscription
from bot.domain.statuses import DeliveryStatus
from storage.offload import background

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedRun:
    """One channel's run of one announcement day, as a job carries it."""

    subscription_id: int
    profile_id: int
    date: dt.date  # the announcement day it was due for (the feed's newest for /arxiv run)
    requested: bool = False  # /arxiv run: the feed's newest day, not the days the channel is owed
    platform: str = ""  # the channel's chat platform: only a worker with its token takes the job ("": any worker)

    @property
    def lock(self) -> str:
        """One job at a time per (profile, day), whichever channel or process enqueued it."""
        return f"digest:{self.profile_id}:{self.date.isoformat()}"

    @property
    def queueing_lock(self) -> str:
        """At most one waiting job per channel and day (and kind): the clock may fire again before it runs."""
        kind = "run" if self.requested else "due"
        return f"{kind}:{self.subscription_id}:{self.date.isoformat()}"


class RunQueue(Protocol):
    """The job queue, as the core uses it."""

    async def enqueue(self, run: QueuedRun, *, at: dt.datetime | None = None) -> bool:
        """Queue ``run`` (to start no sooner than ``at``); False when the same run is waiting already."""
        ...


class QueueingScheduler(DigestScheduler):
    """The clock of DIGEST_RUNS=queue: each channel's time (and catch-up at start) enqueues its run."""

    def __init__(self, daily: DailyRuns, queue: RunQueue, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        super().__init__(daily, clock=clock)
        self.queue = queue

    async def run_now(self, subscription_id: int) -> DueOutcome | None:
        sub = await self.store.aio(self.store.subscription_by_id, subscription_id)
        if sub is None or not sub.active or self._stopping:
            return None
        run = due_run(self.daily, sub, self.clock())
        try:
            queued = await self.queue.enqueue(run)
        except Exception as exc:  # the database is away: try again later, as a failed inline run would
            retry_at = self.clock() + dt.timedelta(minutes=self.settings.feed_retry_minutes)
            log.warning("%s:%s: could not queue the digest of %s (%s); trying again at %s", sub.platform,
                        sub.channel, run.date, type(exc).__name__, f"{retry_at:%H:%M} UTC")
            self.scheduler.add_job(self._fire, DateTrigger(retry_at), args=[sub.id], id=f"retry:{sub.id}",
                                   replace_existing=True, name=f"retry {sub.platform}:{sub.channel}")
            return DueOutcome(retry_at=retry_at)
        if queued:
            log.info("%s:%s: the digest of %s is queued", sub.platform, sub.channel, run.date)
        return DueOutcome()


def due_run(daily: DailyRuns, sub: Subscription, now: dt.datetime) -> QueuedRun:
    """The job for the channel's run due at ``now``: the announcement its latest scheduled time made due."""
    return QueuedRun(sub.id, sub.profile_id, daily.calendar.latest_mailing(daily.last_fire(sub, now)),
                     platform=sub.platform)


def requested_runs(daily: DailyRuns, queue: RunQueue, *,
                   clock: Callable[[], dt.datetime] = utc_now) -> Callable[[Subscription], Awaitable[Delivery]]:
    """``/arxiv run`` with DIGEST_RUNS=queue: the run is queued and the requester told so."""

    async def enqueue(sub: Subscription) -> Delivery:
        run = QueuedRun(sub.id, sub.profile_id, daily.calendar.latest_mailing(clock()), requested=True,
                        platform=sub.platform)
        queued = await queue.enqueue(run)
        what = "is queued" if queued else "was queued already"
        return Delivery(DeliveryStatus.QUEUED, run.date, 0,
                        f"The digest {what}: a worker posts what this channel does not have yet in a moment.")

    return enqueue


class RunWorker:
    """What a worker does with a job: the channel's run, as the scheduler would have done it inline."""

    def __init__(self, daily: DailyRuns, queue: RunQueue, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.daily = daily
        self.store = daily.store
        self.queue = queue
        self.clock = clock

    @background
    async def run(self, run: QueuedRun) -> None:
        """Run the job; errors propagate so that the queue retries it with backoff. A day arXiv has not
        announced yet, or another process holds, comes back as a new job at the time the run asks for."""
        sub = await self.store.aio(self.store.subscription_by_id, run.subscription_id)
        if sub is None or not sub.active:
            log.info("Job for subscription %s dropped: the channel unsubscribed", run.subscription_id)
            return
        if run.requested:
            delivery = await self.daily.service.run_channel(sub)
            if delivery.status == DeliveryStatus.BUSY:
                await self.queue.enqueue(run, at=self.clock() + BUSY_AGAIN)
            return
        outcome = await self.daily.run_due(sub, self.clock())
        for result in outcome.results:
            if result.status in NOTEWORTHY:  # a posted day has its run line from the service
                log.info("%s:%s %s %s: %s", sub.platform, sub.channel, result.date, result.status,
                         result.message)
        if outcome.retry_at is not None:
            await self.queue.enqueue(due_run(self.daily, sub, self.clock()), at=outcome.retry_at)


BUSY_AGAIN = dt.timedelta(minutes=2)  # a requested day another process holds: look again then
