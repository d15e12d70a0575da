"""The APScheduler jobs in a real event loop, with the wall clock moved by time-machine: a channel's
job fires at its local time, once, across daylight-saving changes, and survives restarts without
duplicates. (asyncio's own timers run on the monotonic clock, so jumps of the wall clock only need a
``wakeup()``, as after a machine's sleep.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
import time_machine

from bot.digest.scheduler import DigestScheduler
from tests.bot.conftest import FRI, THU, World, berlin
from tests.conftest import sample_papers
from tests.support.waiting import until

MARCH_28, MARCH_31 = dt.date(2025, 3, 28), dt.date(2025, 3, 31)  # Berlin moves to summer time on the 30th


def scheduled(w: World, body: Callable[[DigestScheduler, time_machine.Coordinates], Awaitable[None]],
              start: dt.datetime, *, catch_up: bool = False) -> None:
    async def main() -> None:
        with time_machine.travel(start, tick=True) as clock:
            scheduler = DigestScheduler(w.daily)
            await scheduler.start(catch_up=catch_up)
            try:
                await body(scheduler, clock)
            finally:
                await scheduler.stop(grace=5)

    asyncio.run(main())


@pytest.mark.slow
def test_a_job_at_nine_in_berlin_fires_once_and_posts_the_day(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(6))

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        job = scheduler.channel_jobs()[f"digest:{w.sub.id}"]
        assert job.next_run_time == berlin(THU)
        await until(lambda: bool(w.summaries()))
        await asyncio.sleep(0.5)
        assert w.summaries() == [THU]
        assert scheduler.channel_jobs()[job.id].next_run_time == berlin(FRI)

    scheduled(w, body, berlin(THU, 8, 59) + dt.timedelta(seconds=59.6))
    assert len(w.summaries()) == 1


@pytest.mark.slow
def test_the_job_follows_berlin_time_across_the_change_to_summer_time(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(MARCH_28, sample_papers(3))

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        await until(lambda: w.summaries() == [MARCH_28])
        job = scheduler.channel_jobs()[f"digest:{w.sub.id}"]
        fires = []
        when = job.next_run_time
        for _ in range(3):
            fires.append(when.astimezone(dt.UTC).strftime("%a %H:%M"))
            when = job.trigger.get_next_fire_time(when, when + dt.timedelta(seconds=1))
        assert fires == ["Sat 08:00", "Sun 07:00", "Mon 07:00"]  # 09:00 CET, then 09:00 CEST
        # Jump to Monday 31 March just before 09:00 summer time (07:00 UTC): it fires then, once.
        fake_arxiv.set_day(MARCH_31, sample_papers(3, start=50))
        clock.move_to(berlin(MARCH_31, 8, 59) + dt.timedelta(seconds=59.6))
        scheduler.scheduler.wakeup()
        await until(lambda: len(w.summaries()) == 2)
        await asyncio.sleep(0.5)

    scheduled(w, body, berlin(MARCH_28, 8, 59) + dt.timedelta(seconds=59.6))
    assert w.summaries() == [MARCH_28, MARCH_31]


def test_a_job_missed_by_hours_still_runs_within_the_grace_time(world, fake_arxiv):
    """The machine slept through 09:00; at 11:30 the job runs late rather than waiting a day."""
    w = world()
    fake_arxiv.set_day(THU, sample_papers(3))

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        clock.move_to(berlin(THU, 11, 30))
        scheduler.scheduler.wakeup()
        await until(lambda: bool(w.summaries()))

    scheduled(w, body, berlin(THU, 8, 0))
    assert w.summaries() == [THU]


def test_start_posts_what_was_due_while_the_process_was_down(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(3))

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        await until(lambda: bool(w.summaries()))

    scheduled(w, body, berlin(THU, 14), catch_up=True)
    assert w.summaries() == [THU]


def test_restarts_and_schedule_changes_never_duplicate_jobs(world, fake_arxiv):
    w = world()
    second = w.store.subscribe("chat", "T1", "C2", "U1", w.sub.profile_id + 0)

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        assert sorted(scheduler.channel_jobs()) == [f"digest:{w.sub.id}", f"digest:{second.id}"]
        health = scheduler.health()
        assert health["scheduler"] == "running" and health["channels"] == 2
        assert health["next_run"] == "2025-03-06T08:00:00+00:00"  # 09:00 in Berlin
        scheduler.sync()
        scheduler.sync()
        assert len(scheduler.channel_jobs()) == 2
        w.store.update_subscription("chat", "C2", schedule_time="18:30", timezone="Asia/Tokyo")
        await w.daily.service.subscriptions_changed()  # what /arxiv schedule does
        job = scheduler.channel_jobs()[f"digest:{second.id}"]
        assert job.next_run_time.astimezone(dt.UTC) == dt.datetime(2025, 3, 6, 9, 30, tzinfo=dt.UTC)
        w.store.update_subscription("chat", "C2", active=False)
        await w.daily.service.subscriptions_changed()
        assert list(scheduler.channel_jobs()) == [f"digest:{w.sub.id}"]

    for _ in range(2):  # a restart builds the same jobs from the database
        scheduled(w, body, berlin(THU, 6))
        w.store.update_subscription("chat", "C2", active=True, schedule_time="", timezone="")


@pytest.mark.slow
def test_sigterm_gives_a_running_digest_its_grace_then_the_next_start_finishes_it(world, fake_arxiv, fake_llm):
    w = world(batch_size=2, concurrency=1)
    fake_arxiv.set_day(THU, sample_papers(6))
    fake_llm.delays.extend([0.4] * 3)

    async def body(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        await until(lambda: len(fake_llm.requests) >= 1)
        await scheduler.stop(grace=0.1)  # too short: the run is cancelled mid-scoring
        assert scheduler.health()["scheduler"] == "stopped"

    scheduled(w, body, berlin(THU, 9, 1), catch_up=True)
    run = w.store.get_run(w.sub.profile_id, THU)
    assert run.status == "started" and w.summaries() == []
    scored_before = len(fake_llm.requests)

    async def finish(scheduler: DigestScheduler, clock: time_machine.Coordinates) -> None:
        await until(lambda: bool(w.summaries()))

    scheduled(w, finish, berlin(THU, 9, 5), catch_up=True)
    assert w.store.get_run(w.sub.profile_id, THU).status == "posted"
    assert len(fake_llm.requests) - scored_before <= 3 and w.store.get_run(w.sub.profile_id, THU).attempts == 2
