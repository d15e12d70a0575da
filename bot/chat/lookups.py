"""arXiv look-ups on people's behalf (``/arxiv abstract <ID>``, the Abstract button) in a lane of their own.

A look-up waits its turn under arXiv's one-request-every-three-seconds rule and may last the API's timeout.
On asyncio's default thread pool, forty of them filled it and the digest's own thread work (the prefilter's
training, other ``to_thread`` calls) queued behind them for minutes. Here they run on their own few threads,
so the default pool never holds one; each person has only a few in the lane, and the lane only so many.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bot.domain.errors import DigestError
from bot.domain.models import Paper

log = logging.getLogger(__name__)
Fetch = Callable[[Sequence[str]], dict[str, Paper]]  # blocking: arXiv IDs → the papers arXiv knows

# One thread: the arXiv client lets one request out at a time anyway (its rate rule), so a second thread
# would only wait on its lock. Waiting look-ups queue in this lane, not in a thread pool others need.
THREADS = 1
PER_PERSON = 2
CAPACITY = 20  # look-ups running or waiting; at one request every 3 s that is a minute's queue


class LookupBusy(DigestError):
    """Refused before asking arXiv: the person, or the lane as a whole, has enough look-ups under way."""


class LookupFailed(DigestError):
    """arXiv could not be asked or did not answer; the details (URLs, the HTTP client's words) are in the log."""


class LookupLane:
    def __init__(
        self, fetch: Fetch, *, threads: int = THREADS, per_person: int = PER_PERSON, capacity: int = CAPACITY
    ) -> None:
        self._fetch = fetch
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="arxiv-lookup")
        self.per_person = per_person
        self.capacity = capacity
        self._mine: Counter[str] = Counter()
        self._total = 0

    @property
    def in_lane(self) -> int:
        """Look-ups running or waiting now."""
        return self._total

    async def lookup(self, arxiv_id: str, *, person: str | None) -> Paper | None:
        """The paper, or None when arXiv does not know it. ``person`` (None: no per-person limit, e.g. a
        button whose presser is not known) is whoever asked; LookupBusy says why a look-up was refused."""
        if person is not None and self._mine[person] >= self.per_person:
            raise LookupBusy(
                f"One moment: you already have {self._mine[person]} look-ups running. Ask again when they "
                "have been answered."
            )
        if self._total >= self.capacity:
            raise LookupBusy(
                f"arXiv look-ups are busy: {self._total} are waiting their turn (arXiv allows one request every "
                "3 seconds). Try again in a minute; papers from this channel's digests need no look-up."
            )
        self._total += 1
        if person is not None:
            self._mine[person] += 1
        try:
            # A cancelled wait (shutdown, a dropped request) also takes the job out of the queue if not started.
            found = await asyncio.get_running_loop().run_in_executor(self._executor, self._fetch, [arxiv_id])
        except DigestError as exc:
            log.warning("arXiv look-up of %s failed: %s", arxiv_id, str(exc)[:500])
            raise LookupFailed(
                f"arXiv did not answer the look-up of {arxiv_id}; it may be busy or down. Try again in a few minutes."
            ) from exc
        finally:
            self._total -= 1
            if person is not None:
                self._mine[person] -= 1
                if not self._mine[person]:
                    del self._mine[person]
        return found.get(arxiv_id)

    def close(self) -> None:
        """Drop waiting look-ups; one already asking arXiv finishes in its thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
