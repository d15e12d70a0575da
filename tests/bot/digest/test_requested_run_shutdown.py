"""SIGTERM while an ``/arxiv run`` digest is posting: the run gets the same grace as scheduled digests, and
when that is not enough the requester hears that the rest comes after the restart, which then posts it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from bot.chat.commands import CommandCore, parse
from bot.digest.daily import DailyRuns
from bot.domain.models import Digest, RankedPaper
from bot.domain.platform import Place
from bot.entrypoints.runner import serve
from storage.store import Store
from tests.bot.conftest import THU, WED, berlin
from tests.conftest import DAY, sample_papers
from tests.support.chat import MemoryPoster
from tests.support.fakes import PlainMarkup, caller

PAPERS = 9


class SlowPoster(MemoryPoster):
    """Takes a while over each paper, like a paced platform; ``first`` is set once a paper is out."""

    def __init__(self, seconds: float = 0.1) -> None:
        super().__init__()
        self.seconds = seconds
        self.first = asyncio.Event()

    def _post(self, channel: str, kind: str, content: Any) -> str:
        return "slow-" + super()._post(channel, kind, content)  # IDs of its own, beside the world's poster

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        await asyncio.sleep(self.seconds)
        message_id = await super().post_paper(place, parent, digest, item)
        self.first.set()
        return message_id

    def papers(self) -> Counter[str]:
        return Counter(content[2] for _, kind, content in self.messages if kind == "paper")


class AskingPlatform:
    """A chat platform on which someone types ``/arxiv run`` as soon as it starts; SIGTERM follows once the
    first paper is posted."""

    name = "Chat"

    def __init__(self, core: CommandCore, poster: SlowPoster, stop: asyncio.Event, replies: list[str]) -> None:
        self.core, self.poster, self.stop_event, self.replies = core, poster, stop, replies

    async def start(self) -> None:
        self.core.service.register(self.poster)
        asyncio.get_running_loop().create_task(self.ask())
        asyncio.get_running_loop().create_task(self.sigterm())

    async def ask(self) -> None:
        reply = await self.core.execute(caller(admin=True), parse("run"), PlainMarkup())
        self.replies.append(reply.text)

    async def sigterm(self) -> None:
        await self.poster.first.wait()
        self.stop_event.set()

    async def stop(self) -> None:
        self.replies.append("platform stopped")


def subscribe(url: str) -> None:
    store = Store.open(url)
    profile = store.ensure_profile("chat:C1", categories=["cs.LG"], min_relevance=0, min_novelty=0, top_n=None,
                                   default_criteria="Mixture of experts and quantization.")
    store.subscribe("chat", "T1", "C1", "U1", profile.id)
    store.close()


def serve_once(settings: Any, poster: SlowPoster) -> tuple[list[str], float]:
    replies: list[str] = []

    async def main() -> None:
        stop = asyncio.Event()
        await serve(settings, lambda core: [AskingPlatform(core, poster, stop, replies)], stop=stop)

    started = time.monotonic()
    asyncio.run(main())
    return replies, time.monotonic() - started


@pytest.mark.slow
def test_a_requested_run_gets_the_shutdown_grace_and_answers_before_the_platform_stops(make_settings, arxiv):
    arxiv.set_day(DAY, sample_papers(PAPERS))
    settings = make_settings(openai_api_key=None, scheduler=False, shutdown_grace_seconds=30)
    subscribe(settings.database_url)
    poster = SlowPoster()
    replies, _ = serve_once(settings, poster)
    assert len(replies) == 2 and replies[0].startswith("Posted the digest of"), replies
    assert replies[1] == "platform stopped"  # the answer went out while the platform could still send it
    assert len(poster.papers()) == PAPERS and set(poster.papers().values()) == {1}


@pytest.mark.slow
def test_when_the_grace_runs_out_the_requester_is_told_and_the_next_run_posts_only_the_rest(make_settings, arxiv):
    arxiv.set_day(DAY, sample_papers(PAPERS))
    settings = make_settings(openai_api_key=None, scheduler=False, shutdown_grace_seconds=0.2)
    subscribe(settings.database_url)
    poster = SlowPoster(seconds=0.3)
    replies, seconds = serve_once(settings, poster)
    assert seconds < 10
    assert "restarting and could not finish this digest in time" in replies[0], replies
    assert "Run it again when the bot is back" in replies[0]  # no scheduler here to finish it
    assert replies[1] == "platform stopped"
    assert 0 < len(poster.papers()) < PAPERS
    poster.first = asyncio.Event()
    replies, _ = serve_once(settings.model_copy(update={"shutdown_grace_seconds": 30}), poster)
    assert replies[0].startswith("Posted the digest of")
    assert len(poster.papers()) == PAPERS and set(poster.papers().values()) == {1}


def test_a_requested_run_a_restart_cut_off_is_finished_by_the_scheduler_at_start(world, fake_arxiv):
    w = world(openai_api_key=None)
    fake_arxiv.set_day(WED, sample_papers(6))
    w.run(berlin(WED))  # Wednesday's digest, on schedule
    fake_arxiv.set_day(THU, sample_papers(PAPERS, start=40))
    poster = SlowPoster()
    w.daily.service.register(poster)
    w.daily.service.resumes_interrupted = True  # as the scheduler sets it

    async def requested() -> str:  # Thursday 08:00: the feed has Thursday, the channel's 09:00 has not come
        task = asyncio.create_task(w.daily.service.run_requested(w.sub))
        await poster.first.wait()
        await w.daily.service.stop(0)
        return (await task).message

    assert "It will be finished after the restart" in asyncio.run(requested())
    relevant = w.store.get_run(w.sub.profile_id, THU).relevant
    assert 0 < len(poster.papers()) < relevant
    restarted = Store.open(w.settings.database_url)
    try:
        service = w.service_on(restarted)
        service.register(poster)
        outcome = asyncio.run(DailyRuns(service, w.settings.calendar).run_due(w.sub, berlin(THU, 8, 30)))
    finally:
        restarted.close()
    assert [(r.date, r.status) for r in outcome.results] == [(THU, "posted")]
    assert len(poster.papers()) == relevant and set(poster.papers().values()) == {1}
