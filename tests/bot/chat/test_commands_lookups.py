"""``/arxiv abstract <unknown ID>`` asks the arXiv API in a lane of its own: a few per person, a bounded queue,
and never a thread of asyncio's default pool, so a digest's thread work (the prefilter's training) does not
wait behind forty slow look-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.bootstrap import build_core
from bot.chat.commands import CommandCore, parse
from bot.chat.lookups import CAPACITY, PER_PERSON
from bot.domain.platform import Caller, Reply
from storage.store import Store
from tests.bot.chat.test_commands import PlainMarkup
from tests.conftest import DAY, sample_papers
from tests.support import ArxivStandIn
from tests.support.chat import MemoryPoster
from tests.support.http import Status

API_LATENCY = 1.0  # seconds per arXiv API answer: the full lane takes CAPACITY × this to drain


def member(user: str, channel: str = "C1") -> Caller:
    async def is_admin() -> bool:
        return False

    return Caller("chat", "T1", channel, user, is_admin, "workspace admins")


@pytest.fixture
def slow_api() -> Iterator[ArxivStandIn]:
    """The arXiv API on its own stand-in, answering slowly; the RSS feed stays on the fast one."""
    with ArxivStandIn() as server:
        server.latency = API_LATENCY
        yield server


@pytest.fixture
def core(make_settings: Any, arxiv: ArxivStandIn, slow_api: ArxivStandIn) -> Iterator[CommandCore]:
    arxiv.set_day(DAY, sample_papers(9))
    settings = make_settings(arxiv_api_url=slow_api.api_url)
    store = Store.open(settings.database_url)
    core = build_core(settings, store)
    core.service.register(MemoryPoster())
    yield core
    core.close()
    store.close()


async def ask(core: CommandCore, text: str, who: Caller) -> Reply:
    return await core.execute(who, parse(text), PlainMarkup())


def unknown(n: int) -> str:
    return f"2601.{90000 + n:05d}"


def test_a_person_has_at_most_two_look_ups_running(core: CommandCore) -> None:
    async def main() -> list[Reply]:
        await ask(core, "subscribe", member("U1"))
        return await asyncio.gather(*(ask(core, f"abstract {unknown(i)}", member("U1")) for i in range(3)))

    replies = asyncio.run(main())
    texts = [r.text for r in replies]
    assert sum("arXiv has no paper 2601.9000" in t for t in texts) == PER_PERSON
    [busy] = [t for t in texts if "arXiv has no paper" not in t]
    assert busy == (f"One moment: you already have {PER_PERSON} look-ups running. Ask again when they have been "
                    "answered.")


def test_a_known_paper_needs_no_look_up_and_is_never_refused(core: CommandCore) -> None:
    async def main() -> list[Reply]:
        await ask(core, "subscribe", member("U1"))
        await ask(core, "run", member("U1"))  # stores the day's papers
        slow = [asyncio.create_task(ask(core, f"abstract {unknown(i)}", member("U1"))) for i in range(2)]
        await asyncio.sleep(0.05)
        known = await ask(core, "abstract 2503.10003", member("U1"))
        return [known, *await asyncio.gather(*slow)]

    known, *_ = asyncio.run(main())
    assert known.paper is not None and known.paper.arxiv_id == "2503.10003"


def test_a_digest_does_not_wait_behind_a_full_lane(core: CommandCore, slow_api: ArxivStandIn) -> None:
    """40 look-ups by 20 members: the lane takes CAPACITY and refuses the rest at once; meanwhile the default
    thread pool is free (a to_thread call returns at once) and another channel's digest, prefilter training
    included, is done while the look-ups are still waiting their turn.

    Before the lane, the look-ups held every thread of the default pool: the to_thread call waited 14 s and
    the digest waited for nearly all forty look-ups."""

    async def main() -> dict[str, Any]:
        await ask(core, "subscribe", member("U1"))
        await ask(core, "subscribe", member("U1", channel="C2"))
        started = time.perf_counter()
        lookups = [
            asyncio.create_task(ask(core, f"abstract {unknown(2 * u + k)}", member(f"M{u}")))
            for u in range(20) for k in range(2)
        ]
        deadline = time.monotonic() + 10  # until the lane is full and arXiv is being asked (0.3 s on a quiet machine)
        while (core.lookups.in_lane < CAPACITY or not slow_api.requests) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        in_lane = core.lookups.in_lane
        before = time.perf_counter()
        await asyncio.to_thread(time.monotonic)
        pool_wait = time.perf_counter() - before
        before = time.perf_counter()
        digest = await ask(core, "run", member("U1", channel="C2"))
        digest_took = time.perf_counter() - before
        still_in_lane = core.lookups.in_lane
        refused = [t.result().text for t in lookups if t.done()]
        for task in lookups:  # the rest would take CAPACITY × API_LATENCY; dropping them empties the queue
            task.cancel()
        await asyncio.gather(*lookups, return_exceptions=True)
        return {"in_lane": in_lane, "pool_wait": pool_wait, "digest": digest, "digest_took": digest_took,
                "still_in_lane": still_in_lane, "refused": refused, "asked": len(slow_api.requests),
                "elapsed": time.perf_counter() - started}

    seen = asyncio.run(main())
    assert seen["in_lane"] == CAPACITY
    assert sum("arXiv look-ups are busy" in t for t in seen["refused"]) == 40 - CAPACITY
    assert seen["pool_wait"] < 0.2, seen
    assert seen["digest"].text.startswith("Posted the digest of"), seen["digest"].text
    assert seen["still_in_lane"] > 0, seen  # the digest did not wait for them
    assert seen["asked"] < CAPACITY  # the look-ups still waiting were dropped, never sent


def test_a_failed_look_up_says_arxiv_did_not_answer_without_the_clients_words(
    core: CommandCore, slow_api: ArxivStandIn
) -> None:
    slow_api.latency = 0
    slow_api.add_fault(*[Status(503)] * 8)  # every try, the client's retries included

    async def main() -> Reply:
        await ask(core, "subscribe", member("U1"))
        return await ask(core, f"abstract {unknown(1)}", member("U1"))

    text = asyncio.run(main()).text
    assert text == (f"arXiv did not answer the look-up of {unknown(1)}; it may be busy or down. Try again in a few "
                    "minutes.")
    assert core.lookups.in_lane == 0
