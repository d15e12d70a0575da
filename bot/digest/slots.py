"""What a channel's run waits for: a run slot while it reads and scores its day, a posting slot while it posts.

Scoring is bounded by the LLM (DIGEST_LLM_IN_FLIGHT across the process); DIGEST_RUNS_AT_ONCE only keeps a
thousand channels due at the same minute from holding a thousand days of papers and prompts in memory at once.
Posting is paced per channel (about a message a second), so DIGEST_CHANNELS_AT_ONCE channels post side by
side. A run gives its run slot up when it starts posting: a channel pacing its posts holds no one's scoring.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from bot.domain.per_loop import LoopSemaphore


class _Slot:
    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._semaphore.release()


_held: ContextVar[_Slot | None] = ContextVar("run_slot", default=None)  # the run slot the current task holds


class RunSlots:
    def __init__(self, *, runs_at_once: int, posting_at_once: int) -> None:
        self._runs = LoopSemaphore(runs_at_once)
        self._posting = LoopSemaphore(posting_at_once)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """A run slot for the block, unless the task holds one already (the scheduler takes it before the day
        is read; the service's run of the day then goes on in it)."""
        held = _held.get()
        if held is not None and held.held:
            yield
            return
        semaphore = self._runs.current()
        await semaphore.acquire()
        slot = _Slot(semaphore)
        token = _held.set(slot)
        try:
            yield
        finally:
            slot.release()
            _held.reset(token)

    @asynccontextmanager
    async def posting(self) -> AsyncIterator[None]:
        """A posting slot for the block; the run slot the task holds is given up first."""
        held = _held.get()
        if held is not None:
            held.release()
        async with self._posting.hold():
            yield
