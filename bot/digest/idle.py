"""Work for the quiet after a busy spell: once no run (nor training) has been going for a while, the hooks
run, once. The bot process gives its memory back this way: it drops the results kept for concurrent runs, then
returns the freed heap (adapters/memory.py); a thousand channels' runs left it at its peak size otherwise."""

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
        self._hooks: list[tuple[Callable[[], object], bool]] = []  # (hook, on a thread)
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, hook: Callable[[], object], *, thread: bool = True) -> None:
        """A call for the quiet: a blocking one on a thread, or a quick one on the loop (``thread=False``: it
        touches what only the loop may touch). Hooks run in the order added."""
        self._hooks.append((hook, thread))

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
        for hook, thread in self._hooks:
            try:
                await asyncio.to_thread(hook) if thread else hook()
            except Exception:  # a hook is housekeeping: its failure is logged, never the process's end
                log.exception("a housekeeping step after the runs failed")
