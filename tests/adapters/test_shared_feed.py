"""Channels of the same feed due at the same moment read it once; the feed is parsed off the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

import adapters.arxiv_rss as arxiv_rss
from adapters.shared_feed import FeedReads
from bot.bootstrap import feed_fetcher
from bot.domain.errors import FeedError
from bot.domain.models import Announcement
from bot.domain.settings import Settings
from tests.support import ArxivStandIn, make_paper

DAY = dt.date(2025, 3, 25)


class CountingFetcher:
    """A feed that takes a moment to read; ``failures`` reads fail first."""

    def __init__(self, failures: int = 0) -> None:
        self.reads = 0
        self.failures = failures

    async def fetch(self) -> Announcement:
        self.reads += 1
        await asyncio.sleep(0.02)
        if self.failures:
            self.failures -= 1
            raise FeedError("arXiv is down")
        return Announcement(DAY, (), 0, "feed")


def test_concurrent_fetches_of_one_feed_read_it_once_and_a_minute_later_read_it_again():
    now = [0.0]
    fetcher = CountingFetcher()

    async def main() -> list[Announcement]:
        reads = FeedReads(reuse_seconds=60, clock=lambda: now[0])
        feeds = [reads.shared("cs.LG", fetcher) for _ in range(20)]
        got = await asyncio.gather(*(feed.fetch() for feed in feeds))
        now[0] = 30
        await feeds[0].fetch()
        assert fetcher.reads == 1
        now[0] = 61
        await feeds[0].fetch()
        return got

    got = asyncio.run(main())
    assert fetcher.reads == 2
    assert all(announcement is got[0] for announcement in got)


def test_a_failed_read_is_shared_by_its_waiters_but_never_kept():
    fetcher = CountingFetcher(failures=1)

    async def main() -> list[Any]:
        reads = FeedReads()
        first = await asyncio.gather(*(reads.read("cs.LG", fetcher) for _ in range(5)), return_exceptions=True)
        return [*first, await reads.read("cs.LG", fetcher)]

    results = asyncio.run(main())
    assert all(isinstance(result, FeedError) for result in results[:5])
    assert isinstance(results[5], Announcement)
    assert fetcher.reads == 2


def test_waiters_read_the_feed_themselves_when_the_run_reading_it_is_cancelled():
    fetcher = CountingFetcher()

    async def main() -> Announcement:
        reads = FeedReads()
        reader = asyncio.create_task(reads.read("cs.LG", fetcher))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(reads.read("cs.LG", fetcher))
        await asyncio.sleep(0)
        reader.cancel()
        return await waiter

    assert isinstance(asyncio.run(main()), Announcement)
    assert fetcher.reads == 2


def test_the_bots_fetchers_share_one_http_read_per_feed_parsed_off_the_loop(
        arxiv: ArxivStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    arxiv.set_day(DAY, [make_paper("2503.00001"), make_paper("2503.00002")])
    settings = Settings(_env_file=None, arxiv_rss_url=arxiv.rss_url, database_url=f"sqlite:///{tmp_path / 'x.db'}",
                        retry_base_delay=0.01)
    threads: list[str] = []
    parse = arxiv_rss.parse_feed

    def recording_parse(*args: Any, **kwargs: Any) -> Announcement:
        threads.append(threading.current_thread().name)
        return parse(*args, **kwargs)

    monkeypatch.setattr(arxiv_rss, "parse_feed", recording_parse)
    fetcher_for = feed_fetcher(settings)

    async def main() -> list[Announcement]:
        return await asyncio.gather(*(fetcher_for(categories).fetch()
                                      for categories in [["cs.LG"]] * 10 + [["cs.AI"]] * 5))

    got = asyncio.run(main())
    assert {a.date for a in got} == {DAY}
    assert len(arxiv.requests) == 2  # one read of cs.LG, one of cs.AI
    assert len(threads) == 2 and threading.main_thread().name not in threads
