"""Pacing by key: one request at a time per key, each at least ``interval`` seconds after the previous one ends.
Each platform's poster holds one keyed by channel; the full-text reader shares one keyed by arXiv's host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.domain.per_loop import PerLoop


class ChannelPacer:
    def __init__(
        self, interval: float, *, failures_count: bool = False, clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """``failures_count``: a post that raised starts the next interval as well as one that went out."""
        self._interval = interval
        self._failures_count = failures_count
        self._clock = clock
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: PerLoop[dict[str, asyncio.Lock]] = PerLoop(dict)

    @asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Wait for the channel's turn; the post made inside the block holds it until it is done."""
        async with self._locks.get().setdefault(channel, asyncio.Lock()):
            wait = self._last.get(channel, 0.0) + self._interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
            posted = False
            try:
                yield
                posted = True
            finally:
                if posted or self._failures_count:
                    self._last[channel] = self._clock()
