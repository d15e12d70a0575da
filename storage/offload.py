"""Database work off the event loop: a store's calls run on threads of its own, one per pooled connection.

The threads match the pool, so a thread never waits for a connection and a queue of any length (a thousand
runs, a burst of commands) waits in an executor's queue, off the loop, rather than in the pool. They form two
lanes: digest runs (coroutines marked with :func:`background`) queue on most of them, and everything else (people's
commands, acks) on the rest, so a person's command never waits behind the runs' queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
# Two in five threads serve people's commands, the others the runs. Every thread's Python work takes the GIL
# from the event loop: at 300 channels on PostgreSQL, 8 run threads made command acks 1.2-1.8 s, 3 made them
# 0.45 s and finished sooner (bench/capacity.py).
PEOPLE_SHARE = 0.4
_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("db_background", default=False)


def background(function: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Marks a coroutine function as a digest run's: the store calls it makes (and the tasks it starts make)
    queue in the runs' lane, never in front of people's commands."""

    @functools.wraps(function)
    async def in_background(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _BACKGROUND.set(True)
        try:
            return await function(*args, **kwargs)
        finally:
            _BACKGROUND.reset(token)

    return in_background


class DbThreads:
    """The threads a store's calls run on from async code, in two lanes."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.people = max(1, int(threads * PEOPLE_SHARE))
        self.background = max(1, threads - self.people)
        self._people = ThreadPoolExecutor(max_workers=self.people, thread_name_prefix="db-people")
        self._background = ThreadPoolExecutor(max_workers=self.background, thread_name_prefix="db-runs")

    @property
    def _executor(self) -> ThreadPoolExecutor:
        return self._background if _BACKGROUND.get() else self._people

    async def run(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``call(*args, **kwargs)`` on one of the threads. It is made even if the caller is cancelled
        meanwhile: a write asked for (a message just posted, a judgment just received) is never dropped."""
        return await asyncio.shield(self._start(call, *args, **kwargs))

    @contextlib.asynccontextmanager
    async def entered(self, make: Callable[[], contextlib.AbstractContextManager[R]]) -> AsyncIterator[R]:
        """The blocking context manager ``make()`` gives (a run lock), made, entered and left on the threads. If
        the caller is cancelled while it is being entered, it is left as soon as it has been entered (by the
        thread itself: the event loop may be gone by then)."""
        entry, executor = _Entry(make), self._executor
        try:
            value = await asyncio.shield(self._start(entry.enter))
        except asyncio.CancelledError:
            left = entry.abandon()
            if left is not None:
                with contextlib.suppress(RuntimeError):  # the threads were stopped: the process is ending
                    executor.submit(left.__exit__, None, None, None)
            raise
        try:
            yield value
        finally:
            await self.run(entry.leave)

    def _start(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[R]:
        context = contextvars.copy_context()  # log fields and the like follow the call, as with asyncio.to_thread
        work = functools.partial(context.run, call, *args, **kwargs)
        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        future.add_done_callback(_retrieved)  # a caller cancelled meanwhile does not read its outcome
        return future

    def close(self) -> None:
        """Finish the calls already queued, then stop the threads."""
        self._people.shutdown(wait=True)
        self._background.shutdown(wait=True)


class _Entry(Generic[R]):
    """A context manager being entered on a thread for a caller who may give up meanwhile."""

    def __init__(self, make: Callable[[], contextlib.AbstractContextManager[R]]) -> None:
        self._make = make
        self._manager: contextlib.AbstractContextManager[R] | None = None
        self._abandoned = False
        self._guard = threading.Lock()

    def enter(self) -> R:
        manager = self._make()
        value = manager.__enter__()
        with self._guard:
            if not self._abandoned:
                self._manager = manager
                return value
        manager.__exit__(None, None, None)  # nobody waits for it any more
        return value

    def abandon(self) -> contextlib.AbstractContextManager[R] | None:
        """The caller gives up; gives the manager to leave if it was entered already."""
        with self._guard:
            self._abandoned = True
            manager, self._manager = self._manager, None
            return manager

    def leave(self) -> None:
        with self._guard:
            manager, self._manager = self._manager, None
        if manager is not None:
            manager.__exit__(None, None, None)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
