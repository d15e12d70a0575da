"""The per-channel pacer, on a fake clock: no test here waits for real."""

from __future__ import annotations

import asyncio

import pytest

from adapters.pacing import ChannelPacer


class FakeTime:
    """A clock that only moves when the pacer sleeps (or a test says so); the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would
        self.now += seconds


def pacer(time: FakeTime, **options: bool) -> ChannelPacer:
    return ChannelPacer(1.0, clock=time.clock, sleep=time.sleep, **options)


async def post(pacer: ChannelPacer, channel: str, *, fail: bool = False) -> None:
    async with pacer.turn(channel):
        if fail:
            raise RuntimeError("refused")


def test_a_channel_waits_out_its_interval_and_other_channels_do_not():
    time = FakeTime()
    paced = pacer(time)

    async def main() -> None:
        await post(paced, "C1")
        time.now += 0.25
        await post(paced, "C1")  # 0.25 s after the first: waits the remaining 0.75 s
        await post(paced, "C2")  # its own first post
        time.now += 5
        await post(paced, "C1")  # long after: no wait

    asyncio.run(main())
    assert time.sleeps == [0.75]


def test_posts_to_one_channel_go_one_at_a_time():
    time = FakeTime()
    paced = pacer(time)
    order: list[str] = []

    async def slow_post(name: str) -> None:
        async with paced.turn("C1"):
            order.append(f"{name} starts")
            await time.sleep(0.5)  # the post itself takes half a second
            order.append(f"{name} ends")

    async def main() -> None:
        await asyncio.gather(slow_post("a"), slow_post("b"))

    asyncio.run(main())
    assert order == ["a starts", "a ends", "b starts", "b ends"]
    assert time.sleeps == [0.5, 1.0, 0.5]  # b waits a full interval from the end of a's post


@pytest.mark.parametrize(("failures_count", "sleeps"), [(False, []), (True, [1.0])])
def test_a_failed_post_starts_the_interval_only_when_failures_count(failures_count, sleeps):
    time = FakeTime()
    paced = pacer(time, failures_count=failures_count)

    async def main() -> None:
        with pytest.raises(RuntimeError):
            await post(paced, "C1", fail=True)
        await post(paced, "C1")

    asyncio.run(main())
    assert time.sleeps == sleeps
