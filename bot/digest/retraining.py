"""The prefilter's training after a digest is posted, never before it and never in anyone's way.

Training is CPU work of a second or so per profile. It runs on a thread of its own: on asyncio's default pool it
would queue behind other work there (people's look-ups once filled it for minutes, see bot/chat/lookups.py) and
hold a thread those need. One training per profile at a time: a request while the profile trains makes one more
training afterwards (on the newest judgments), however many requests came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.domain.models import Profile

log = logging.getLogger(__name__)

THREADS = 1  # two cores: one for the event loop, one for training


class Retrainer:
    def __init__(self, train: Callable[[Profile], object], *, threads: int = THREADS) -> None:
        self._train = train
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: dict[int, Profile] = {}
        self._closed = False

    def request(self, profile: Profile) -> None:
        """Train ``profile``'s next prefilter soon; returns at once."""
        if profile.id in self._running:
            self._again[profile.id] = profile
            return
        task = asyncio.get_running_loop().create_task(self._trainings(profile))
        self._running[profile.id] = task
        task.add_done_callback(lambda _: self._running.pop(profile.id, None))

    @property
    def busy(self) -> bool:
        """A training is running or waiting."""
        return bool(self._running)

    async def wait(self) -> None:
        """Until every requested training is done (shutdown, tests)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    def close(self) -> None:
        """Trainings not started are dropped (the next run's fresh judgments train it); a running one ends."""
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _trainings(self, profile: Profile) -> None:
        current: Profile | None = profile
        while current is not None and not self._closed:
            training = self._pool().submit(self._train, current)
            try:
                await asyncio.shield(asyncio.wrap_future(training))
            except asyncio.CancelledError:
                # The loop is closing: a training under way ends first, so it never outlives the store it writes to.
                if not training.cancel():
                    with contextlib.suppress(Exception):
                        await asyncio.wrap_future(training)
                raise
            except Exception:
                log.exception("training the prefilter of %s failed; the next run sends every paper to the LLM",
                              current.name)
            current = self._again.pop(profile.id, None)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="prefilter")
        return self._executor
