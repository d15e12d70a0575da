"""asyncio primitives kept per event loop: the same one while a loop runs, a fresh one in the next loop (the CLI
and the tests run several loops in turn in one process)."""

from __future__ import annotations

import asyncio

from bot.domain.per_loop import LoopSemaphore, PerLoop


def test_a_value_is_made_once_per_loop():
    made: list[dict[str, int]] = []
    values = PerLoop(lambda: made.append({}) or made[-1])

    async def twice() -> bool:
        return values.get() is values.get()

    assert asyncio.run(twice()) and asyncio.run(twice())
    assert len(made) == 2


def test_a_loop_semaphore_bounds_each_loop_and_the_next_loop_gets_a_fresh_one():
    limit = LoopSemaphore(2)
    most: list[int] = []
    semaphores: list[asyncio.Semaphore] = []

    async def main() -> None:
        going = [0, 0]  # now, most

        async def one() -> None:
            async with limit.hold():
                going[0] += 1
                going[1] = max(going)
                await asyncio.sleep(0.01)
                going[0] -= 1

        await asyncio.gather(*(one() for _ in range(6)))  # contended: the semaphore is bound to this loop
        most.append(going[1])
        semaphores.append(limit.current())

    asyncio.run(main())
    asyncio.run(main())  # would fail with "is bound to a different event loop" on one semaphore
    assert most == [2, 2] and semaphores[0] is not semaphores[1]
