"""The weekly roundup's APScheduler job, with the wall clock moved by time-machine (as in test_scheduler.py): it
fires at the channel's day and time, once; a start catches up a roundup missed within the grace time, once."""

from __future__ import annotations

import asyncio
import datetime as dt

import time_machine

from bot.digest.scheduler import DigestScheduler
from tests.bot.conftest import FRI, THU, World, berlin
from tests.bot.digest.test_scheduler import scheduled
from tests.bot.digest.test_weekly import posted_week, roundups, weekly_on
from tests.support.waiting import until


def test_the_weekly_job_fires_on_the_channels_day_and_time_and_posts_once(world, fake_arxiv):
    w = world()
    posted_week(w, fake_arxiv)
    weekly_on(w)

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        job = scheduler.weekly_jobs()[f"weekly:{w.sub.id}"]
        assert job.next_run_time == berlin(FRI, 16)
        await until(lambda: bool(roundups(w)))
        await asyncio.sleep(0.3)
        assert scheduler.weekly_jobs()[job.id].next_run_time == berlin(FRI + dt.timedelta(days=7), 16)

    scheduled(w, body, berlin(FRI, 15, 59) + dt.timedelta(seconds=59.6))
    scheduled(w, lambda s, c: asyncio.sleep(0.3), berlin(FRI, 16, 30), catch_up=True)  # a restart: nothing new
    assert len(roundups(w)) == 1


def test_a_start_posts_the_roundup_missed_while_down_but_not_one_due_days_ago(world, fake_arxiv):
    w = world()
    posted_week(w, fake_arxiv)
    weekly_on(w, weekly_time="10:00")

    async def wait_for_it(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        await until(lambda: bool(roundups(w)))

    scheduled(w, wait_for_it, berlin(FRI, 14), catch_up=True)
    assert [r.last for r in roundups(w)] == [FRI]

    other = World(w.settings, w.store, w.poster, w.daily, w.sub, w.arxiv, w.llm)
    other.sub = w.store.update_subscription("chat", "C1", weekly_day=4, post_empty_days=True)
    # Sunday 16 March: the roundup of Thursday the 13th (another ISO week) was due three days ago.
    scheduled(other, lambda s, c: asyncio.sleep(0.3), berlin(FRI + dt.timedelta(days=9), 12), catch_up=True)
    assert len(roundups(w)) == 1


def test_turning_the_roundup_off_or_moving_it_changes_the_job(world):
    w = world()
    weekly_on(w)

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        assert list(scheduler.weekly_jobs()) == [f"weekly:{w.sub.id}"]
        w.store.update_subscription("chat", "C1", weekly_day=1, weekly_time="08:15", timezone="Asia/Tokyo")
        await w.daily.service.subscriptions_changed()
        job = scheduler.weekly_jobs()[f"weekly:{w.sub.id}"]
        assert job.next_run_time.astimezone(dt.UTC) == dt.datetime(2025, 3, 9, 23, 15, tzinfo=dt.UTC)
        w.store.update_subscription("chat", "C1", weekly_day=None)
        await w.daily.service.subscriptions_changed()
        assert scheduler.weekly_jobs() == {}

    scheduled(w, body, berlin(THU, 6))
