"""Two schedulers starting together on one database (a restart racing a slow shutdown): a channel's holiday
or late-feed line is posted once between them, and neither job fails on a unique constraint (the digests
themselves: tests/storage/test_concurrency.py)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.digest.daily import DailyRuns, DueOutcome
from bot.domain.models import Digest, RankedPaper
from bot.domain.platform import Place
from tests.bot.conftest import THU, WED, berlin
from tests.conftest import sample_papers
from tests.support.chat import MemoryPoster


class SharedChannel(MemoryPoster):
    """One channel both processes post to; every post takes a moment, as on a real platform."""

    def __init__(self) -> None:
        super().__init__()
        self.guard = threading.Lock()

    def _post(self, channel: str, kind: str, content: Any) -> str:
        with self.guard:
            return "shared-" + super()._post(channel, kind, content)  # IDs apart from the world's poster

    async def post_text(self, place: Place, text: str) -> str:
        await asyncio.sleep(0.2)
        return await super().post_text(place, text)

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        await asyncio.sleep(0.05)
        return await super().post_paper(place, parent, digest, item)


def test_two_schedulers_starting_together_post_the_holiday_line_once_and_neither_fails(world, fake_arxiv):
    w = world(arxiv_holidays=[WED], holiday_message="No arXiv today; back on {date:%a}.")
    fake_arxiv.set_day(WED, sample_papers(6))
    w.run(berlin(WED))  # Wednesday's digest went out; Wednesday evening is a holiday
    channel = SharedChannel()
    barrier = threading.Barrier(2)

    def scheduler() -> DueOutcome:
        return w.as_another_process(
            channel, barrier, lambda service: DailyRuns(service, w.settings.calendar).run_due(w.sub, berlin(THU, 9, 1)))

    with ThreadPoolExecutor(2) as pool:
        outcomes = [future.result() for future in [pool.submit(scheduler) for _ in range(2)]]
    texts = [content for _, kind, content in channel.messages if kind == "text"]
    assert texts == ["No arXiv today; back on Thu."], texts
    statuses = sorted(r.status for outcome in outcomes for r in outcome.results)
    assert "failed" not in statuses, [r for o in outcomes for r in o.results]
