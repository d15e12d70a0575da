"""Many channels due at once: runs of the same criteria score each paper once and write each TL;DR once (the
run that did the work pays for it, the others say they shared it); channels post at once, each paced; the
prefilter trains after the digest is posted."""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time
from collections import Counter
from typing import Any

from adapters.pacing import ChannelPacer
from bot.digest.retraining import Retrainer
from bot.digest.scheduler import DigestScheduler
from bot.digest.service import Delivery
from bot.digest.text import cost_line
from bot.domain.models import Completion, Digest, RankedPaper, Subscription
from bot.domain.platform import Place
from bot.domain.statuses import DeliveryStatus
from bot.scoring.tldr import BATCH_SIZE
from tests.bot.conftest import THU, World, berlin
from tests.conftest import sample_papers
from tests.support.chat import MemoryPoster
from tests.support.fakes import FakeChat

PAPERS = 30
PACE = 0.05  # seconds between two posts in one channel


class PacedPoster(MemoryPoster):
    """Posts one message at a time per channel, PACE apart, as the platforms' posters do; records when."""

    def __init__(self, pace: float = PACE) -> None:
        super().__init__()
        self.pacer = ChannelPacer(pace)
        self.times: dict[str, list[float]] = {}

    async def _paced(self, channel: str, kind: str, content: Any) -> str:
        async with self.pacer.turn(channel):
            self.times.setdefault(channel, []).append(time.monotonic())
            return self._post(channel, kind, content)

    async def post_summary_part(self, place: Place, digest: Digest, number: int, parent: str | None) -> str:
        return await self._paced(place.channel, "summary", digest.date)

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str:
        return await self._paced(place.channel, "paper", (parent, item.rank, item.paper.arxiv_id))


def channels(w: World, n: int, *, own_criteria: bool = False) -> list[Subscription]:
    """``n`` channels of their own profiles, all with the world channel's criteria unless ``own_criteria``."""
    subs = [w.sub]
    for i in range(2, n + 1):
        profile = w.store.ensure_profile(
            f"chat:C{i}", categories=w.settings.categories, min_relevance=7, min_novelty=6, top_n=None,
            default_criteria="Mixture of experts and quantization." + (f" Also topic {i}." if own_criteria else ""),
        )
        subs.append(w.store.subscribe("chat", "T1", f"C{i}", "U1", profile.id))
    return subs


def most_at_once(poster: MemoryPoster) -> int:
    """The most channels that were between their first and last message at the same moment."""
    spans: dict[str, list[int]] = {}
    for index, (channel, _, _) in enumerate(poster.messages):
        spans.setdefault(channel, [index, index])[1] = index
    return max(sum(1 for first, last in spans.values() if first <= index <= last)
               for index in range(len(poster.messages)))


def test_concurrent_runs_of_the_same_criteria_ask_the_llm_what_one_run_would(world, fake_arxiv, fake_llm):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(PAPERS))
    subs = channels(w, 8)
    service = w.daily.service
    # The LLM answers nothing until all 8 runs have claimed their papers, so none of them reads a judgment
    # another already stored (on a loaded machine a fixed delay did not make them overlap).
    judgments = service.shared.judgments
    claim, complete = judgments.claim, fake_llm.complete
    all_claimed = asyncio.Event()
    claims = itertools.count(1)

    def counting_claim(keys: Any) -> Any:
        result = claim(keys)
        if next(claims) >= len(subs):
            all_claimed.set()
        return result

    async def gated_complete(*args: Any, **kwargs: Any) -> Completion:
        await asyncio.wait_for(all_claimed.wait(), 30)
        return await complete(*args, **kwargs)

    judgments.claim = counting_claim
    fake_llm.complete = gated_complete

    async def main() -> list[Delivery]:
        return await asyncio.gather(*(service.run_channel(sub) for sub in subs))

    deliveries = asyncio.run(main())
    scored = [pid for request in fake_llm.paper_ids_per_request for pid in request]
    assert sorted(scored) == sorted(p.arxiv_id for p in fake_arxiv.day_papers)  # each paper once, for all 8
    digests = [d.digest for d in deliveries if d.digest is not None]
    assert [d.status for d in deliveries] == [DeliveryStatus.POSTED] * 8
    relevant = digests[0].relevant
    assert relevant > 0 and all(d.relevant == relevant for d in digests)
    assert len(fake_llm.tldr_requests) == math.ceil(relevant / BATCH_SIZE)
    posted = Counter(channel for channel, kind, _ in w.poster.messages if kind == "paper")
    assert posted == {f"C{i}": relevant for i in range(1, 9)}
    # One run paid for the scoring; the others record none and say whose it was. (The TL;DRs are paid by the
    # run that wrote them, which need not be the same run.)
    def scoring_requests(d: Digest) -> int:
        return d.usage.requests - d.tldr_usage.requests

    payers = [d for d in digests if scoring_requests(d)]
    assert len(payers) == 1 and payers[0].shared == 0
    sharers = [d for d in digests if not scoring_requests(d)]
    assert len(sharers) == 7 and all(d.shared == PAPERS for d in sharers)
    assert all(f"{PAPERS} scores shared with another channel's run" in cost_line(d) for d in sharers)
    assert "shared" not in cost_line(payers[0])
    runs = [w.store.get_run(sub.profile_id, THU) for sub in subs]
    assert sum(run.requests for run in runs if run is not None) == len(fake_llm.paper_ids_per_request) + len(
        fake_llm.tldr_requests)  # what the LLM was asked, recorded once


def test_channels_post_at_once_each_at_its_own_pace(world, fake_arxiv, fake_llm):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(12))
    poster = PacedPoster()
    w.daily.service.register(poster)
    subs = channels(w, 10)
    scheduler = DigestScheduler(w.daily, clock=lambda: berlin(THU))

    async def main() -> None:
        await asyncio.gather(*(scheduler.run_now(sub.id) for sub in subs))

    asyncio.run(main())
    assert len(poster.times) == 10
    assert most_at_once(poster) > 4  # the old limit: four channels' runs at a time
    for times in poster.times.values():
        assert len(times) > 2
        assert min(b - a for a, b in itertools.pairwise(times)) >= PACE * 0.9


def test_no_more_channels_post_at_once_than_the_setting(world, fake_arxiv, fake_llm):
    w = world(channels_at_once=3)
    fake_arxiv.set_day(THU, sample_papers(12))
    poster = PacedPoster()
    w.daily.service.register(poster)
    subs = channels(w, 8)
    scheduler = DigestScheduler(w.daily, clock=lambda: berlin(THU))

    async def main() -> None:
        await asyncio.gather(*(scheduler.run_now(sub.id) for sub in subs))

    asyncio.run(main())
    assert len(poster.times) == 8
    assert most_at_once(poster) == 3


class InFlight(FakeChat):
    """Records the most distinct criteria (system prompts) it was asked to score at the same moment."""

    def __init__(self) -> None:
        super().__init__()
        self.asking: Counter[str] = Counter()
        self.most_criteria = 0

    async def complete(self, system: str, user: str, response_format: dict[str, Any] | None = None,
                       max_tokens: int | None = None) -> Completion:
        self.asking[system] += 1
        self.most_criteria = max(self.most_criteria, len(+self.asking))
        try:
            await asyncio.sleep(0.02)
            return await super().complete(system, user, response_format, max_tokens)
        finally:
            self.asking[system] -= 1


def test_no_more_runs_score_at_once_than_the_setting_and_posting_frees_the_slot(world, fake_arxiv):
    w = world(runs_at_once=2, batch_size=5)
    fake_arxiv.set_day(THU, sample_papers(12))
    chat = InFlight()
    w.daily.service.chat_factory = lambda: chat
    # Posting slow enough that the next run's scoring, on a loaded machine too, starts while a channel posts.
    poster = PacedPoster(pace=0.3)
    w.daily.service.register(poster)
    subs = channels(w, 6, own_criteria=True)
    scheduler = DigestScheduler(w.daily, clock=lambda: berlin(THU))

    async def main() -> None:
        await asyncio.gather(*(scheduler.run_now(sub.id) for sub in subs))

    asyncio.run(main())
    assert len(poster.times) == 6
    assert chat.most_criteria == 2
    assert most_at_once(poster) > 2  # a channel posting gave its run slot to the next channel's scoring


def test_the_prefilter_trains_after_the_last_post_and_the_run_does_not_wait_for_it(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(9))
    service = w.daily.service
    events: list[str] = []
    trained = threading.Event()
    let_it_finish = threading.Event()

    def train(profile: Any) -> None:
        events.append(f"train {profile.name}")
        let_it_finish.wait(5)
        trained.set()

    service.retrainer = Retrainer(train)
    post = w.poster._post

    def recording_post(channel: str, kind: str, content: Any) -> str:
        events.append(f"post {kind}")
        return post(channel, kind, content)

    w.poster._post = recording_post  # type: ignore[method-assign]

    async def main() -> None:
        delivery = await service.run_channel(w.sub)
        assert delivery.status == DeliveryStatus.POSTED
        assert not trained.is_set()  # the run is over; its training is not
        let_it_finish.set()
        await asyncio.wait_for(service.retrainer.wait(), 5)

    asyncio.run(main())
    assert trained.is_set()
    assert events[-1] == "train chat:C1"
    assert events.count("train chat:C1") == 1 and events[0] == "post summary"
