"""Work for the quiet after a busy spell: once no run (nor training) has been going for a while, the hooks
run, once, on a thread. The bot process gives its memory back this way: a thousand channels' runs leave it at
its peak size otherwise (see adapters/memory.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

QUIET_SECONDS = 5.0  # so a run that ends just before the next one starts does not trigger it


class IdleHooks:
    def __init__(self, busy: Callable[[], bool], *, quiet: float = QUIET_SECONDS) -> None:
        self._busy = busy
        self._quiet = quiet
        self._hooks: list[Callable[[], object]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, hook: Callable[[], object]) -> None:
        """A blocking call for the quiet (made on a thread)."""
        self._hooks.append(hook)

    def check(self) -> None:
        """Something that kept the process busy ended: the hooks run after ``quiet`` seconds without work."""
        if not self._hooks or self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._quiet, self._when_quiet)

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        """Until hooks under way are done (tests)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _when_quiet(self) -> None:
        self._timer = None
        if self._closed:
            return
        if self._busy():  # still busy (a training): look again later; a run's end calls check() again anyway
            self.check()
        elif self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        for hook in self._hooks:
            try:
                await asyncio.to_thread(hook)
            except Exception:  # a hook is housekeeping: its failure is logged, never the process's end
                log.exception("a housekeeping step after the runs failed")
