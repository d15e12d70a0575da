"""The prefilter's training after posting: on a thread of its own, one at a time per profile, coalesced."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.digest.retraining import Retrainer
from bot.domain.models import Profile


def profile(profile_id: int) -> Profile:
    return Profile(id=profile_id, name=f"chat:C{profile_id}", categories=("cs.LG",), top_n=None, min_relevance=7,
                   min_novelty=6, criteria="Mixture of experts.", criteria_version=1)


def test_requests_while_a_profile_trains_make_one_more_training_not_a_queue():
    trained: list[tuple[int, str]] = []
    release = threading.Event()

    def train(p: Profile) -> None:
        trained.append((p.id, threading.current_thread().name))
        release.wait(5)

    async def main() -> None:
        retrainer = Retrainer(train)
        retrainer.request(profile(1))
        await asyncio.sleep(0.05)
        for _ in range(5):  # while the first training runs
            retrainer.request(profile(1))
        release.set()
        await asyncio.wait_for(retrainer.wait(), 5)
        retrainer.close()

    asyncio.run(main())
    assert [pid for pid, _ in trained] == [1, 1]
    assert all(name.startswith("prefilter") for _, name in trained)  # not asyncio's default pool


def test_a_failed_training_is_logged_and_the_next_request_trains_again(caplog):
    calls: list[int] = []

    def train(p: Profile) -> None:
        calls.append(p.id)
        if len(calls) == 1:
            raise RuntimeError("no labels")

    async def main() -> None:
        retrainer = Retrainer(train)
        retrainer.request(profile(2))
        await asyncio.wait_for(retrainer.wait(), 5)
        retrainer.request(profile(2))
        await asyncio.wait_for(retrainer.wait(), 5)
        retrainer.close()

    asyncio.run(main())
    assert calls == [2, 2]
    assert "training the prefilter of chat:C2 failed" in caplog.text


def test_the_loop_is_free_while_a_profile_trains():
    def train(p: Profile) -> None:
        time.sleep(0.3)

    async def main() -> float:
        retrainer = Retrainer(train)
        retrainer.request(profile(3))
        started = time.monotonic()
        await asyncio.sleep(0.01)
        late = time.monotonic() - started
        await asyncio.wait_for(retrainer.wait(), 5)
        retrainer.close()
        return late

    assert asyncio.run(main()) < 0.2


def test_a_training_under_way_ends_before_its_event_loop_does():
    finished: list[bool] = []

    def train(p: Profile) -> None:
        time.sleep(0.2)
        finished.append(True)

    async def main() -> None:
        Retrainer(train).request(profile(4))
        await asyncio.sleep(0.05)  # the loop closes while the profile trains (asyncio.run cancels its task)

    asyncio.run(main())
    assert finished == [True]
