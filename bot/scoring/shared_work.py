"""Work many concurrent runs need, done once in the process (single flight, item by item).

Fifty channels with the same criteria due at the same minute need the same judgments of the same papers. The
first run to claim an item does it; a run that claims it later waits for that result instead of asking the LLM
again. An item's result is kept a short while after it is done, because a run that read the database just
before another run stored the item would otherwise ask again. Across processes the stored judgments and
TL;DRs already make a later run free.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.domain.per_loop import PerLoop

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

KEEP_SECONDS = 15 * 60.0  # a result done this long ago is asked for again (the database has it by then)
KEEP_ITEMS = 50_000  # and no more than this many are kept


@dataclass
class Claim(Generic[K, V]):
    """What a run got when it claimed items: the ones it must do, and the others' (done or under way)."""

    mine: list[K]
    done: dict[K, V]  # done by another run a moment ago
    pending: dict[K, asyncio.Future[V | None]] = field(default_factory=dict)  # being done by another run

    async def theirs(self) -> dict[K, V | None]:
        """The other runs' results: None for an item the run doing it could not do."""
        results = await asyncio.gather(*(asyncio.shield(future) for future in self.pending.values()))
        return {**self.done, **dict(zip(self.pending, results, strict=True))}


class SharedWork(Generic[K, V]):
    """Claims on items of work, per event loop (a future belongs to the loop it was made in)."""

    def __init__(self, *, keep_seconds: float = KEEP_SECONDS, keep_items: int = KEEP_ITEMS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._keep_seconds = keep_seconds
        self._keep_items = keep_items
        self._clock = clock
        self._pending_per_loop: PerLoop[dict[K, asyncio.Future[V | None]]] = PerLoop(dict)
        self._done: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def claim(self, keys: Iterable[K]) -> Claim[K, V]:
        loop, pending = asyncio.get_running_loop(), self._pending_per_loop.get()
        self._forget_old()
        claim: Claim[K, V] = Claim([], {})
        for key in dict.fromkeys(keys):
            if key in self._done:
                claim.done[key] = self._done[key][1]
            elif key in pending:
                claim.pending[key] = pending[key]
            else:
                pending[key] = loop.create_future()
                claim.mine.append(key)
        return claim

    def resolve(self, results: Mapping[K, V | None]) -> None:
        """Results of claimed items (None: not done); the runs waiting for them go on."""
        now, pending = self._clock(), self._pending_per_loop.get()
        for key, value in results.items():
            future = pending.pop(key, None)
            if value is not None:
                self._done[key] = (now, value)
                self._done.move_to_end(key)
            if future is not None and not future.done():
                future.set_result(value)
        while len(self._done) > self._keep_items:
            self._done.popitem(last=False)

    def release(self, keys: Iterable[K]) -> None:
        """Claimed items left undone (the run failed or was cancelled): their waiters go on without them."""
        pending = self._pending_per_loop.get()
        self.resolve({key: None for key in keys if key in pending})

    async def do(self, keys: Iterable[K], work: Callable[[list[K]], Awaitable[Mapping[K, V]]]) -> tuple[
            dict[K, V], dict[K, V]]:
        """(done here, done by other runs) for ``keys``: ``work`` gets the items this run claimed and returns
        what it did; an item another run claimed and could not do is left out of both (the caller decides)."""
        claim = self.claim(keys)
        mine: dict[K, V] = {}
        try:
            if claim.mine:
                mine = dict(await work(claim.mine))
                self.resolve({key: mine.get(key) for key in claim.mine})
        finally:
            self.release(claim.mine)
        theirs = {key: value for key, value in (await claim.theirs()).items() if value is not None}
        return mine, theirs

    def forget_done(self) -> None:
        """Drop the results kept: with no run going, none can be between reading the database and claiming."""
        self._done.clear()

    def _forget_old(self) -> None:
        cutoff = self._clock() - self._keep_seconds
        while self._done:
            key, (at, _) = next(iter(self._done.items()))
            if at >= cutoff:
                break
            del self._done[key]
