"""The database never holds up the event loop: with every store call slowed down (and refused on the loop's
thread), channels' runs and people's commands proceed at once while a heartbeat on the loop stays on time; on
PostgreSQL, far more concurrent runs than the pool has connections all finish (each run's lock used to hold a
pooled connection for the whole run, and 15 runs froze the bot)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.chat.commands import CommandCore, parse
from bot.digest.service import Delivery
from bot.domain.errors import FAILED
from bot.domain.models import Subscription
from bot.domain.settings import DEFAULT_DB_POOL_SIZE, Settings
from bot.domain.statuses import DeliveryStatus
from bot.learning import training
from storage.store import Store
from tests.conftest import sample_papers
from tests.storage.conftest import postgres_schema
from tests.support.chat import MemoryPoster
from tests.support.fakes import FakeArxiv, FakeChat, PlainMarkup, caller, fake_core, fake_settings

TICK = 0.01  # the heartbeat's period
ON_TIME = 0.05  # how late 99% of heartbeats may be (a machine shared with other work has its own hiccups)
SLOW = 0.2  # each slowed store call: a single one made on the loop would make a heartbeat this late
COMMANDS = ("criteria", "criteria history", "stats", "search experts", "following", "feedback", "threshold")
NOT_QUERIES = {"aio", "locked_run", "close", "open"}  # the store's own async plumbing


@dataclass
class Outcome:
    deliveries: list[Delivery]
    replies: list[str]
    lateness: list[float]  # of each heartbeat, in seconds, sorted
    seconds: float

    @property
    def worst(self) -> float:
        return self.lateness[-1]

    @property
    def p99(self) -> float:
        return self.lateness[int(len(self.lateness) * 0.99)]


def slowed(store: Store, seconds: float) -> list[str]:
    """Make every query of ``store`` take ``seconds`` longer; gives the list of the calls made, as they are."""
    calls: list[str] = []
    for name in dir(Store):
        if name.startswith("_") or name in NOT_QUERIES or not callable(getattr(store, name)):
            continue

        setattr(store, name, _slow(getattr(store, name), name, seconds, calls))
    return calls


def _slow(method: Callable[..., Any], name: str, seconds: float, calls: list[str]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        assert threading.current_thread() is not threading.main_thread(), f"{name} ran on the event loop"
        time.sleep(seconds)
        calls.append(name)
        return method(*args, **kwargs)

    return wrapped


def channels(store: Store, settings: Settings, n: int, prefix: str = "C") -> list[Subscription]:
    """``n`` channels, each subscribed with a profile and criteria of its own."""
    subs = []
    for i in range(n):
        profile = store.ensure_profile(
            f"chat:{prefix}{i}", categories=settings.categories, min_relevance=7, min_novelty=6, top_n=None,
            default_criteria=f"Mixture of experts and quantization, for team {prefix}{i}.",
        )
        subs.append(store.subscribe("chat", "T1", f"{prefix}{i}", "U1", profile.id))
    return subs


async def _heartbeat(stop: asyncio.Event, lateness: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(TICK)
        lateness.append(loop.time() - before - TICK)


def run_all(core: CommandCore, subs: list[Subscription]) -> Outcome:
    """Every channel's run at once, and commands in every channel meanwhile, under a heartbeat."""

    async def body() -> Outcome:
        stop, lateness = asyncio.Event(), list[float]()
        beating = asyncio.create_task(_heartbeat(stop, lateness))
        started = time.monotonic()
        runs = asyncio.gather(*(core.service.run_channel(sub) for sub in subs))
        commands = asyncio.gather(*(
            core.execute(caller("U1", admin=True, channel=sub.channel), parse(text), PlainMarkup())
            for sub in subs for text in COMMANDS
        ))
        deliveries, replies = await asyncio.wait_for(asyncio.gather(runs, commands), 120)
        seconds = time.monotonic() - started
        stop.set()
        await beating
        return Outcome(deliveries, [reply.text for reply in replies], sorted(lateness), seconds)

    # A full garbage collection of the test process's heap (pytest's and every earlier test's objects) stops
    # every thread for 100-250 ms: not the database's doing, so the heap found now is left out of collections.
    gc.collect()
    gc.freeze()
    try:
        return asyncio.run(body())
    finally:
        gc.unfreeze()


def on_fakes(settings: Settings, store: Store, arxiv: FakeArxiv, llm: FakeChat) -> tuple[CommandCore, MemoryPoster]:
    """A core on the fakes, warmed up by one channel's run: what a process does once (imports, compiled
    patterns) is not what this measures."""
    core = fake_core(settings, store, arxiv, llm)
    poster = MemoryPoster()
    core.service.register(poster)
    arxiv.set_day(arxiv.day, sample_papers(30))
    (warm,) = channels(store, settings, 1, prefix="W")
    assert asyncio.run(core.service.run_channel(warm)).status == DeliveryStatus.POSTED
    poster.messages.clear()
    return core, poster


@pytest.fixture
def no_retraining(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prefilter's retraining after each run is CPU work on a thread, not a database call; twelve at once
    hold the GIL long enough to make the loop late by themselves, so they are left out of what this measures."""
    monkeypatch.setattr(training, "retrain", lambda *_args: None)


def assert_every_channel_posted(outcome: Outcome, poster: MemoryPoster, subs: list[Subscription]) -> None:
    """Each run posted its channel's digest, and no command answered with the failure text."""
    assert [d.status for d in outcome.deliveries] == [DeliveryStatus.POSTED] * len(subs)
    assert {channel for channel, kind, _ in poster.messages if kind == "summary"} == {sub.channel for sub in subs}
    assert not [reply for reply in outcome.replies if reply.startswith(FAILED[:20])], outcome.replies

@pytest.mark.usefixtures("no_retraining")
def test_slow_database_calls_never_hold_up_the_event_loop(
    fresh_database: Callable[[], str], fake_arxiv: FakeArxiv, fake_llm: FakeChat,
) -> None:
    settings = fake_settings(fresh_database())
    store = Store.open(settings.database_url)
    try:
        core, poster = on_fakes(settings, store, fake_arxiv, fake_llm)
        subs = channels(store, settings, 8)
        calls = slowed(store, SLOW)
        outcome = run_all(core, subs)
    finally:
        store.close()
    assert_every_channel_posted(outcome, poster, subs)
    late = f"the event loop was held up {outcome.worst * 1000:.0f} ms (99%: {outcome.p99 * 1000:.0f} ms)"
    assert outcome.p99 < ON_TIME and outcome.worst < SLOW, late
    # The runs and commands overlapped: one after the other, their slowed calls alone would take far longer.
    assert outcome.seconds < len(calls) * SLOW / 3, (outcome.seconds, len(calls))


@pytest.mark.usefixtures("no_retraining")
def test_on_postgresql_forty_concurrent_runs_all_finish_with_the_pool_at_its_default_size(
    fake_arxiv: FakeArxiv, fake_llm: FakeChat,
) -> None:
    with postgres_schema() as url:
        settings = fake_settings(url)
        store = Store.open(url)
        try:
            assert store.engine.pool.size() == DEFAULT_DB_POOL_SIZE  # type: ignore[attr-defined]
            core, poster = on_fakes(settings, store, fake_arxiv, fake_llm)
            subs = channels(store, settings, 40)
            outcome = run_all(core, subs)
        finally:
            store.close()
    assert_every_channel_posted(outcome, poster, subs)

