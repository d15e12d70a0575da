"""Two processes on one database writing the same rows at the same moment: every write is an idempotent
upsert, so neither fails on a unique constraint, on SQLite (one file) and on PostgreSQL.

Each side is a Store of its own (its own engine and connections), driven from its own thread, and the
two start each write together (a barrier), many times over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from bot.digest.service import DigestService
from bot.domain.models import Announcement, Judgment, Subscription
from bot.domain.settings import Settings
from bot.domain.taxonomy import feed_key
from storage.store import Store
from tests.conftest import as_paper, sample_papers
from tests.support.chat import MemoryPoster

DAY = dt.date(2025, 3, 6)
ROUNDS = 12
FEED = feed_key(["cs.LG"])


@pytest.fixture
def two_stores(database_url: str) -> Iterator[tuple[Store, Store]]:
    first, second = Store.open(database_url), Store.open(database_url)
    yield first, second
    first.close()
    second.close()


def together(stores: tuple[Store, Store], write: Callable[[Store, int], Any]) -> list[Any]:
    """Run ``write(store, round)`` on both stores at once, ROUNDS times; returns what each side raised."""
    barrier = threading.Barrier(2)
    failures: list[Any] = []

    def side(store: Store) -> None:
        for number in range(ROUNDS):
            barrier.wait()
            try:
                write(store, number)
            except Exception as exc:  # collected: the test shows every failure, not only the first
                failures.append(exc)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(side, store) for store in stores]:
            future.result()
    return failures


def day(number: int, papers: int = 80) -> Announcement:
    chosen = tuple(as_paper(p) for p in sample_papers(papers, start=1 + number * papers))
    return Announcement(DAY + dt.timedelta(days=number), chosen, len(chosen), "rss")


def test_two_stores_saving_the_same_announcement_at_once_both_succeed(two_stores: tuple[Store, Store]) -> None:
    assert together(two_stores, lambda store, n: store.save_announcement(FEED, day(n))) == []
    for number in range(ROUNDS):
        loaded = two_stores[0].load_announcement(FEED, day(number).date)
        assert loaded is not None and [p.arxiv_id for p in loaded.papers] == [p.arxiv_id for p in day(number).papers]


def test_two_stores_starting_and_marking_the_same_run_at_once_keep_one_row(two_stores: tuple[Store, Store]) -> None:
    profile = two_stores[0].ensure_profile("race", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None,
                                           default_criteria="MoE")

    def start(store: Store, number: int) -> None:
        store.start_run(profile.id, DAY + dt.timedelta(days=number), model="m", criteria_key="k")

    def skip(store: Store, number: int) -> None:
        store.mark_run(profile.id, DAY - dt.timedelta(days=1 + number), "skipped", "older than DIGEST_CATCHUP_DAYS")

    assert together(two_stores, start) == [] and together(two_stores, skip) == []
    for number in range(ROUNDS):
        run = two_stores[1].get_run(profile.id, DAY + dt.timedelta(days=number))
        assert run is not None and run.attempts == 2  # both starts counted, on one row
        skipped = two_stores[1].get_run(profile.id, DAY - dt.timedelta(days=1 + number))
        assert skipped is not None and skipped.status == "skipped"


def test_two_stores_saving_the_same_scores_at_once_both_succeed(two_stores: tuple[Store, Store]) -> None:
    two_stores[0].save_papers(day(0).papers)
    ids = [p.arxiv_id for p in day(0).papers]

    def score(store: Store, number: int) -> None:
        store.save_judgments([Judgment(i, 7, 6, "ok") for i in ids], f"key{number}", "m")

    assert together(two_stores, score) == []
    assert len(two_stores[0].get_judgments(ids, "key0", "m")) == len(ids)


class SameDay:
    """The feed as both processes read it: they reach the database together."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier

    async def fetch(self) -> Announcement:
        self.barrier.wait()
        return day(0, papers=120)


def test_two_processes_asked_for_the_same_day_post_one_digest_and_the_other_says_it_is_being_prepared(
    database_url: str,
) -> None:
    setup = Store.open(database_url)
    profile = setup.ensure_profile("chat:C1", categories=["cs.LG"], min_relevance=0, min_novelty=0, top_n=None,
                                   default_criteria="Mixture of experts and quantization.")
    sub: Subscription = setup.subscribe("chat", "T1", "C1", "U1", profile.id)
    setup.close()
    barrier = threading.Barrier(2)
    poster = MemoryPoster()

    def process() -> str:
        store = Store.open(database_url)
        try:
            service = DigestService(Settings(_env_file=None, database_url=database_url), store,
                                    fetcher_for=lambda _: SameDay(barrier), chat_factory=None,
                                    lookup=None)  # type: ignore[arg-type]  # the feed's day needs no API
            service.register(poster)
            return asyncio.run(service.run_channel(sub)).message
        finally:
            store.close()

    with ThreadPoolExecutor(2) as pool:
        answers = sorted(future.result() for future in [pool.submit(process) for _ in range(2)])
    posted = [a for a in answers if a.startswith("Posted the digest")]
    busy = [a for a in answers if "being prepared by another process" in a or "already in this channel" in a]
    assert len(posted) == 1 and len(busy) == 1, answers
    assert sum(kind == "summary" for _, kind, _ in poster.messages) == 1
    assert not any("UNIQUE" in a or "IntegrityError" in a or "duplicate key" in a for a in answers)
