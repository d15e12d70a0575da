"""Database work off the event loop: a store's calls run on threads of its own, one per pooled connection.

The threads match the pool, so a thread never waits for a connection and a queue of any length (a thousand
runs, a burst of commands) waits in the executor's queue, off the loop, rather than in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class DbThreads:
    """The threads a store's calls run on from async code."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")

    async def run(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``call(*args, **kwargs)`` on one of the threads. It is made even if the caller is cancelled
        meanwhile: a write asked for (a message just posted, a judgment just received) is never dropped."""
        return await asyncio.shield(self._start(call, *args, **kwargs))

    @contextlib.asynccontextmanager
    async def entered(self, manager: contextlib.AbstractContextManager[R]) -> AsyncIterator[R]:
        """A blocking context manager (a run lock) entered and left on the threads. If the caller is
        cancelled while it is being entered, it is left as soon as it has been entered."""
        entering = self._start(manager.__enter__)
        try:
            value = await asyncio.shield(entering)
        except asyncio.CancelledError:
            entering.add_done_callback(lambda done: self._leave(manager, done))
            raise
        try:
            yield value
        finally:
            await self.run(manager.__exit__, None, None, None)

    def _start(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[R]:
        context = contextvars.copy_context()  # log fields and the like follow the call, as with asyncio.to_thread
        work = functools.partial(context.run, call, *args, **kwargs)
        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        future.add_done_callback(_retrieved)  # a caller cancelled meanwhile does not read its outcome
        return future

    def _leave(self, manager: contextlib.AbstractContextManager[Any], entered: asyncio.Future[Any]) -> None:
        if not entered.cancelled() and entered.exception() is None:
            with contextlib.suppress(RuntimeError):  # the threads were stopped: the process is ending
                self._executor.submit(manager.__exit__, None, None, None)

    def close(self) -> None:
        """Finish the calls already queued, then stop the threads."""
        self._executor.shutdown(wait=True)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
