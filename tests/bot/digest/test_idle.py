"""Housekeeping after a busy spell: once no run nor training has been going for a while, the idle hooks run
once, on a thread (the bot process gives its memory back this way)."""

from __future__ import annotations

import asyncio
import threading

from bot.digest.idle import IdleHooks
from tests.bot.conftest import THU
from tests.bot.digest.test_shared_runs import channels
from tests.conftest import sample_papers


def test_the_hooks_run_once_on_a_thread_after_the_quiet_and_a_new_end_restarts_the_wait():
    threads: list[str] = []

    async def main() -> None:
        hooks = IdleHooks(busy=lambda: False, quiet=0.05)
        hooks.add(lambda: threads.append(threading.current_thread().name))
        hooks.check()
        await asyncio.sleep(0.03)
        hooks.check()  # another run ended: the quiet starts again
        await asyncio.sleep(0.03)
        assert threads == []
        await asyncio.sleep(0.05)
        await hooks.wait()
        assert len(threads) == 1 and threads[0] != threading.current_thread().name
        await asyncio.sleep(0.1)
        assert len(threads) == 1  # once per spell

    asyncio.run(main())


def test_the_hooks_wait_while_the_process_is_busy_and_never_run_after_close():
    busy = [True]
    calls: list[int] = []

    async def main() -> None:
        hooks = IdleHooks(busy=lambda: busy[0], quiet=0.02)
        hooks.add(lambda: calls.append(1))
        hooks.check()
        await asyncio.sleep(0.1)
        assert calls == []  # a training still runs
        busy[0] = False
        await asyncio.sleep(0.05)
        await hooks.wait()
        assert calls == [1]
        hooks.check()
        hooks.close()
        await asyncio.sleep(0.05)
        assert calls == [1]

    asyncio.run(main())


def test_a_failing_hook_is_logged_and_the_next_one_still_runs(caplog):
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("no libc")

    async def main() -> None:
        hooks = IdleHooks(busy=lambda: False, quiet=0.01)
        hooks.add(broken)
        hooks.add(lambda: calls.append("second"))
        hooks.check()
        await asyncio.sleep(0.05)
        await hooks.wait()

    asyncio.run(main())
    assert calls == ["second"]
    assert "housekeeping step after the runs failed" in caplog.text


def test_the_service_runs_its_idle_hooks_once_after_concurrent_runs_and_their_trainings(world, fake_arxiv):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(12))
    service = w.daily.service
    service.idle._quiet = 0.05
    seen: list[tuple[int, bool]] = []
    service.idle.add(lambda: seen.append((service._runs_going, service.retrainer.busy)))

    async def main() -> None:
        await asyncio.gather(*(service.run_channel(sub) for sub in channels(w, 4)))
        assert seen == []  # not before the quiet
        await service.retrainer.wait()
        await asyncio.sleep(0.2)
        await service.idle.wait()

    asyncio.run(main())
    assert seen == [(0, False)]


def test_with_no_run_going_the_results_kept_for_concurrent_runs_are_dropped(world, fake_arxiv, fake_llm):
    w = world()
    fake_arxiv.set_day(THU, sample_papers(12))
    service = w.daily.service
    service.idle._quiet = 0.05

    async def main() -> tuple[int, int]:
        await asyncio.gather(*(service.run_channel(sub) for sub in channels(w, 3)))
        kept = len(service.shared.judgments._done)
        await service.retrainer.wait()
        await asyncio.sleep(0.2)
        await service.idle.wait()
        return kept, len(service.shared.judgments._done)

    kept, left = asyncio.run(main())
    assert kept > 0 and left == 0
    requests = len(fake_llm.requests)
    asyncio.run(service.run_channel(w.sub))  # the next run finds the judgments in the database
    assert len(fake_llm.requests) == requests
