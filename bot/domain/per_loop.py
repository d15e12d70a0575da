"""What asyncio ties to one event loop (locks, semaphores, futures), made anew for each loop.

An asyncio primitive belongs to the loop it was first used in; the CLI and the tests run several loops in turn
in one process, so the long-lived objects that hold such primitives keep them per loop through this.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """``make()``'s value for the running loop: the same one while the loop runs, a fresh one in the next."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._loop: asyncio.AbstractEventLoop | None = None
        self._value: T | None = None

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._value is None:
            self._loop, self._value = loop, self._make()
        return self._value


class LoopSemaphore:
    """A semaphore of ``value`` places in each event loop."""

    def __init__(self, value: int) -> None:
        self.value = value
        self._semaphores = PerLoop(lambda: asyncio.Semaphore(value))

    def current(self) -> asyncio.Semaphore:
        """The running loop's semaphore."""
        return self._semaphores.get()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self.current():
            yield
