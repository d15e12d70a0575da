"""Each subscribed channel's daily time as an APScheduler job, in the bot's own event loop.

Jobs live in memory and are rebuilt from the subscription table at start and whenever it changes
(here or, every minute, in another replica), so restarts never duplicate them. What a job does is
:meth:`bot.digest.daily.DailyRuns.run_due`, which is safe to repeat; the scheduler only decides when.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.digest.daily import DailyRuns, DueOutcome
from bot.digest.shutdown import finish_within
from bot.digest.weekly import WeeklyResult, WeeklyRoundups, weekly_time
from bot.domain.models import Subscription
from bot.domain.statuses import DayStatus, DeliveryStatus
from bot.domain.weekly import WEEKDAYS

log = logging.getLogger(__name__)
# A day's outcome that gets a log line of its own (a posted day is logged by the service).
NOTEWORTHY = frozenset({*DayStatus, DeliveryStatus.BUSY})

SYNC_SECONDS = 60


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DigestScheduler:
    def __init__(self, daily: DailyRuns, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.daily = daily
        self.store = daily.store
        self.settings = daily.settings
        self.clock = clock
        self.scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,  # a day missed several times runs once
                "max_instances": 1,
                "misfire_grace_time": int(self.settings.misfire_grace_hours * 3600),
            },
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._channel_locks: dict[int, asyncio.Lock] = {}
        self._stopping = False
        self.last_run: dict[str, Any] | None = None
        self.weekly = WeeklyRoundups(daily.service)

    # lifecycle ------------------------------------------------------------------------------

    async def start(self, *, catch_up: bool = True) -> None:
        self.scheduler.start()
        await self.resync()
        # A plain function: APScheduler runs it on a thread, off the event loop.
        self.scheduler.add_job(self.sync, IntervalTrigger(seconds=SYNC_SECONDS), id="sync", replace_existing=True)
        self.daily.service.on_subscriptions_changed(self.resync)
        if catch_up:  # whatever was due while the process was down, oldest first per channel
            self.daily.service.resumes_interrupted = True
            for sub in await self.store.aio(self.store.active_subscriptions):
                self._spawn(self.run_now(sub.id))
                if sub.weekly_day is not None:
                    self._spawn(self.weekly_now(sub.id))
        log.info("Scheduler: %d channel(s) scheduled", len(self.channel_jobs()))

    async def stop(self, grace: float) -> None:
        """Take no more work, give running digests ``grace`` seconds, then cancel them (what they
        stored stays: the next start finishes those runs)."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.pause()
        cut_off = await finish_within(self._tasks, grace, "running digest(s)")
        if cut_off:
            log.warning("Stopped %d digest(s) mid-run; the next start finishes them", cut_off)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    # jobs -------------------------------------------------------------------------------------

    def channel_jobs(self) -> dict[str, Any]:
        return {job.id: job for job in self.scheduler.get_jobs() if job.id.startswith("digest:")}

    def weekly_jobs(self) -> dict[str, Any]:
        return {job.id: job for job in self.scheduler.get_jobs() if job.id.startswith("weekly:")}

    def weekly_trigger_for(self, sub: Subscription) -> CronTrigger:
        assert sub.weekly_day is not None
        time = weekly_time(sub)
        return CronTrigger(day_of_week=WEEKDAYS[sub.weekly_day - 1][:3], hour=time.hour, minute=time.minute,
                           timezone=self.weekly.zone_of(sub))

    def trigger_for(self, sub: Subscription) -> CronTrigger:
        time, zone = self.daily.schedule_of(sub)
        return CronTrigger(hour=time.hour, minute=time.minute, timezone=zone)

    async def resync(self) -> None:
        """:meth:`sync` from async code: the subscriptions are read on the store's threads."""
        self.sync(await self.store.aio(self.store.active_subscriptions))

    def sync(self, active: list[Subscription] | None = None) -> None:
        """Make the jobs match the active subscriptions (read now unless given): add new ones, move changed ones,
        drop old ones."""
        if self._stopping:
            return
        active = self.store.active_subscriptions() if active is None else active
        dropped = self._sync_jobs("digest", self.channel_jobs(), active, self.trigger_for, self._fire)
        for sub_id in dropped:
            self._remove(f"retry:{sub_id}")
        self._sync_jobs("weekly", self.weekly_jobs(), [sub for sub in active if sub.weekly_day is not None],
                        self.weekly_trigger_for, self._fire_weekly)

    def _sync_jobs(self, kind: str, jobs: dict[str, Any], subs: list[Subscription],
                   trigger_for: Callable[[Subscription], CronTrigger], fire: Callable[[int], Any]) -> list[str]:
        """Make the ``kind`` jobs those of ``subs``; returns the subscription IDs whose job was dropped."""
        wanted = {f"{kind}:{sub.id}": sub for sub in subs}
        dropped = []
        for job_id, job in jobs.items():
            if job_id not in wanted:
                job.remove()
                dropped.append(job_id.removeprefix(f"{kind}:"))
        for job_id, sub in wanted.items():
            trigger = trigger_for(sub)
            current = jobs.get(job_id)
            if current is not None and str(current.trigger) == str(trigger):
                continue
            name = f"{sub.platform}:{sub.channel}" if kind == "digest" else f"{kind} {sub.platform}:{sub.channel}"
            self.scheduler.add_job(fire, trigger, args=[sub.id], id=job_id, replace_existing=True, name=name)
        return dropped

    def _remove(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def _track_current(self) -> None:
        """A fired job's task is one that stop() waits for."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _fire(self, subscription_id: int) -> None:
        self._track_current()
        await self.run_now(subscription_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fire_weekly(self, subscription_id: int) -> None:
        self._track_current()
        await self.weekly_now(subscription_id)

    async def weekly_now(self, subscription_id: int) -> WeeklyResult | None:
        """Post the channel's roundup due now, unless it is posted or was due longer ago than the grace time;
        a failure is retried at the next start or the next week (the claim is released)."""
        sub = await self.store.aio(self.store.subscription_by_id, subscription_id)
        if sub is None or not sub.active or sub.weekly_day is None or self._stopping:
            return None
        lock = self._channel_locks.setdefault(sub.id, asyncio.Lock())
        # After the channel's digest when both are due at once; it posts in one of DIGEST_CHANNELS_AT_ONCE slots.
        async with lock, self.daily.service.slots.posting():
            try:
                result = await self.weekly.post_due(
                    sub, self.clock(), within=dt.timedelta(hours=self.settings.misfire_grace_hours))
            except LookupError as exc:  # the channel's platform is not connected in this process
                log.warning("%s:%s: %s", sub.platform, sub.channel, exc)
                return None
            except Exception:
                log.exception("%s:%s: the weekly roundup failed", sub.platform, sub.channel)
                return None
        if result.status == DeliveryStatus.BUSY:
            log.info("%s:%s: %s", sub.platform, sub.channel, result.message)
        return result

    async def run_now(self, subscription_id: int) -> DueOutcome | None:
        """Post whatever the channel is owed now; schedule a retry when arXiv is late or busy."""
        sub = await self.store.aio(self.store.subscription_by_id, subscription_id)
        if sub is None or not sub.active or self._stopping:
            return None
        lock = self._channel_locks.setdefault(sub.id, asyncio.Lock())
        # A run slot from before the day is read until posting starts (the service's slots): a channel pacing its
        # posts holds no one's scoring, and DIGEST_CHANNELS_AT_ONCE channels post side by side.
        async with lock, self.daily.service.slots.running():
            try:
                outcome = await self.daily.run_due(sub, self.clock())
            except LookupError as exc:  # the channel's platform is not connected in this process
                log.warning("%s:%s: %s", sub.platform, sub.channel, exc)
                return None
            except Exception:
                log.exception("%s:%s: the scheduled digest failed", sub.platform, sub.channel)
                outcome = DueOutcome(retry_at=self.clock() + dt.timedelta(minutes=self.settings.feed_retry_minutes))
        for result in outcome.results:
            self.last_run = {"channel": f"{sub.platform}:{sub.channel}", "date": str(result.date),
                             "status": result.status, "at": self.clock().isoformat(timespec="seconds")}
            if result.status in NOTEWORTHY:
                log.info("%s:%s %s %s: %s", sub.platform, sub.channel, result.date, result.status, result.message)
        if outcome.retry_at is not None and not self._stopping:
            self.scheduler.add_job(self._fire, DateTrigger(outcome.retry_at), args=[sub.id], id=f"retry:{sub.id}",
                                   replace_existing=True, name=f"retry {sub.platform}:{sub.channel}")
        return outcome

    def health(self) -> dict[str, Any]:
        """The scheduler's part of /healthz."""
        jobs = self.channel_jobs() if self.scheduler.running else {}
        times = [job.next_run_time for job in jobs.values() if job.next_run_time is not None]
        return {
            "scheduler": "running" if self.scheduler.running and not self._stopping else "stopped",
            "channels": len(jobs),
            "next_run": min(times).astimezone(dt.UTC).isoformat(timespec="seconds") if times else None,
            "running": sum(1 for task in self._tasks if not task.done()),
            "last_run": self.last_run,
        }
