"""Claims on shared work: the first run to claim an item does it, later ones wait for its result."""

from __future__ import annotations

import asyncio

from bot.scoring.shared_work import SharedWork


def test_concurrent_runs_do_each_item_once_and_the_others_get_its_result():
    done: list[list[str]] = []

    async def work(keys: list[str]) -> dict[str, str]:
        done.append(keys)
        await asyncio.sleep(0.05)
        return {key: key.upper() for key in keys}

    async def main() -> list[tuple[dict[str, str], dict[str, str]]]:
        shared: SharedWork[str, str] = SharedWork()
        return await asyncio.gather(*(shared.do(["a", "b", "c"], work) for _ in range(5)))

    results = asyncio.run(main())
    assert done == [["a", "b", "c"]]
    assert results[0] == ({"a": "A", "b": "B", "c": "C"}, {})
    assert all(result == ({}, {"a": "A", "b": "B", "c": "C"}) for result in results[1:])


def test_a_run_claims_only_what_no_other_run_is_doing():
    done: list[list[str]] = []

    async def work(keys: list[str]) -> dict[str, str]:
        done.append(keys)
        await asyncio.sleep(0.05)
        return {key: key.upper() for key in keys}

    async def main() -> tuple[dict[str, str], dict[str, str]]:
        shared: SharedWork[str, str] = SharedWork()
        first = asyncio.create_task(shared.do(["a", "b"], work))
        await asyncio.sleep(0)
        second = await shared.do(["b", "c"], work)
        await first
        return second

    mine, theirs = asyncio.run(main())
    assert done == [["a", "b"], ["c"]]
    assert (mine, theirs) == ({"c": "C"}, {"b": "B"})


def test_what_the_other_run_could_not_do_is_left_for_the_waiter():
    async def failing(keys: list[str]) -> dict[str, str]:
        await asyncio.sleep(0.02)
        return {"a": "A"}  # "b" not done

    async def raising(keys: list[str]) -> dict[str, str]:
        await asyncio.sleep(0.02)
        raise RuntimeError("the LLM went away")

    async def main() -> tuple[tuple[dict[str, str], dict[str, str]], tuple[dict[str, str], dict[str, str]]]:
        shared: SharedWork[str, str] = SharedWork()
        first = asyncio.create_task(shared.do(["a", "b"], failing))
        await asyncio.sleep(0)
        after_partial = await shared.do(["a", "b"], failing)
        await first
        crashed = asyncio.create_task(shared.do(["x"], raising))
        await asyncio.sleep(0)
        after_crash = await shared.do(["x"], raising)
        assert isinstance(crashed.exception(), RuntimeError)
        return after_partial, after_crash

    after_partial, after_crash = asyncio.run(main())
    assert after_partial == ({}, {"a": "A"})  # "b" is neither: the caller decides
    assert after_crash == ({}, {})


def test_a_result_is_reused_for_a_while_then_forgotten():
    now = [0.0]
    calls: list[list[str]] = []

    async def work(keys: list[str]) -> dict[str, str]:
        calls.append(keys)
        return {key: key.upper() for key in keys}

    async def main() -> None:
        shared: SharedWork[str, str] = SharedWork(keep_seconds=60, clock=lambda: now[0])
        assert await shared.do(["a"], work) == ({"a": "A"}, {})
        now[0] = 30
        assert await shared.do(["a"], work) == ({}, {"a": "A"})
        now[0] = 100
        assert await shared.do(["a"], work) == ({"a": "A"}, {})

    asyncio.run(main())
    assert calls == [["a"], ["a"]]
