"""Digests for chat channels: run a subscribed channel's profile and post the result there, once.

Platforms plug in a :class:`ChannelPoster`; this module decides what is posted, in which order, and
remembers each message so a repeated or interrupted run posts only what is missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.models import Digest, Paper, RankedPaper, Subscription
from bot.pipeline import Fetcher, run_digest
from bot.scoring import ChatModel
from bot.settings import Settings
from storage.store import Store

SUMMARY = "summary"
EMPTY = "empty"


@dataclass(frozen=True)
class Place:
    """Where to post: a channel, and the workspace (Slack team, Discord guild) it belongs to."""

    workspace: str
    channel: str


class ChannelPoster(Protocol):
    """One chat platform's way of putting a digest in a channel."""

    platform: str

    async def post_summary(self, place: Place, digest: Digest) -> list[str]:
        """Post the day's summary; returns its message IDs, the first being the parent of the papers."""
        ...

    async def post_paper(self, place: Place, parent: str, digest: Digest, item: RankedPaper) -> str: ...

    async def post_text(self, place: Place, text: str) -> str: ...


class PaperLookup(Protocol):
    async def lookup(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]: ...


@dataclass(frozen=True)
class Delivery:
    """What one run did in one channel."""

    status: str  # posted | already | empty
    date: dt.date | None
    posted: int  # messages posted now
    message: str
    digest: Digest | None = None


class DigestService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        fetcher_for: Callable[[Sequence[str]], Fetcher],
        chat_factory: Callable[[], ChatModel] | None,
        lookup: PaperLookup,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher_for = fetcher_for
        self.chat_factory = chat_factory
        self.lookup = lookup
        self.posters: dict[str, ChannelPoster] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def register(self, poster: ChannelPoster) -> None:
        self.posters[poster.platform] = poster

    def _lock(self, platform: str, channel: str) -> asyncio.Lock:
        return self._locks.setdefault((platform, channel), asyncio.Lock())

    async def run_channel(self, subscription: Subscription, *, date: dt.date | None = None) -> Delivery:
        """Score the channel's profile on the day (default: the feed's newest) and post what is missing."""
        poster = self.posters.get(subscription.platform)
        if poster is None:
            raise LookupError(f"no {subscription.platform} connection is running to post to")
        async with self._lock(subscription.platform, subscription.channel):
            profile = self.store.profile_by_id(subscription.profile_id)
            result = await run_digest(
                self.settings, self.store, profile, self.fetcher_for(profile.categories),
                chat_factory=self.chat_factory, date=date,
            )
            if result.digest is None:
                return await self._empty_day(poster, subscription, result.date, result.message)
            return await self.deliver(poster, Place(subscription.workspace, subscription.channel), result.digest)

    async def deliver(self, poster: ChannelPoster, place: Place, digest: Digest) -> Delivery:
        """Post the parts of ``digest`` the channel does not have yet, recording each as it goes out."""
        platform, channel = poster.platform, place.channel
        done = self.store.posted_parts(platform, channel, digest.date)
        posted = 0
        if SUMMARY in done:
            parent = done[SUMMARY]
        else:
            ids = await poster.post_summary(place, digest)
            parent = ids[0]
            for number, message_id in enumerate(ids, start=1):
                part = SUMMARY if number == 1 else f"{SUMMARY}.{number}"
                self.store.record_post(platform, channel, digest.date, part, message_id)
            posted += len(ids)
        for item in digest.ranked:
            if item.paper.arxiv_id in done:
                continue
            message_id = await poster.post_paper(place, parent, digest, item)
            self.store.record_post(
                platform, channel, digest.date, item.paper.arxiv_id, message_id,
                arxiv_id=item.paper.arxiv_id, rank=item.rank,
            )
            posted += 1
        if posted == 0:
            return Delivery("already", digest.date, 0, f"The digest of {digest.date} is already in this channel.",
                            digest)
        return Delivery(
            "posted", digest.date, posted,
            f"Posted the digest of {digest.date}: {digest.relevant} relevant of {digest.total_arxiv} papers.", digest,
        )

    async def _empty_day(
        self, poster: ChannelPoster, subscription: Subscription, date: dt.date | None, message: str
    ) -> Delivery:
        posted = 0
        if subscription.post_empty_days and date is not None:
            done = self.store.posted_parts(poster.platform, subscription.channel, date)
            if EMPTY not in done:
                message_id = await poster.post_text(Place(subscription.workspace, subscription.channel), message)
                self.store.record_post(poster.platform, subscription.channel, date, EMPTY, message_id)
                posted = 1
        return Delivery("empty", date, posted, message)
