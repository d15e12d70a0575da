"""One read of an arXiv feed for every channel that needs it at the same moment.

A thousand channels due at 09:00 share a few dozen feeds: the first run to ask reads the feed, the others wait
for that read and get the same announcement, and it is reused for ``REUSE_SECONDS`` (the feed changes once a
day; a channel retrying a late feed asks again minutes later and reads it afresh). A failed read is shared by
the runs that waited for it, never kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable

from bot.digest.pipeline import Fetcher
from bot.domain.models import Announcement
from bot.domain.per_loop import PerLoop

REUSE_SECONDS = 60.0


class FeedReads:
    """Reads in flight and recent ones, by feed (URL and announce types), for one event loop at a time."""

    def __init__(self, *, reuse_seconds: float = REUSE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._reuse_seconds = reuse_seconds
        self._clock = clock
        self._reads_per_loop: PerLoop[dict[Hashable, tuple[float, asyncio.Future[Announcement]]]] = PerLoop(dict)

    def shared(self, key: Hashable, fetcher: Fetcher) -> SharedFeed:
        return SharedFeed(self, key, fetcher)

    async def read(self, key: Hashable, fetcher: Fetcher) -> Announcement:
        loop, reads = asyncio.get_running_loop(), self._reads_per_loop.get()
        now = self._clock()
        known = reads.get(key)
        if known is not None and (not known[1].done() or now - known[0] < self._reuse_seconds):
            try:
                return await asyncio.shield(known[1])
            except asyncio.CancelledError:
                if not known[1].cancelled():  # this run was cancelled
                    raise
                return await self.read(key, fetcher)  # the run reading it was: read it here
        future: asyncio.Future[Announcement] = loop.create_future()
        reads[key] = (now, future)
        try:
            announcement = await fetcher.fetch()
        except BaseException as exc:
            reads.pop(key, None)
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # marked as retrieved: nobody waiting is not an error
            else:  # cancelled: the waiters read it themselves
                future.cancel()
            raise
        reads[key] = (self._clock(), future)
        future.set_result(announcement)
        return announcement


class SharedFeed:
    """A Fetcher whose reads are shared with every other fetcher of the same feed."""

    def __init__(self, reads: FeedReads, key: Hashable, fetcher: Fetcher) -> None:
        self._reads = reads
        self._key = key
        self._fetcher = fetcher

    async def fetch(self) -> Announcement:
        return await self._reads.read(self._key, self._fetcher)
