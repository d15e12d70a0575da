"""Digests for chat channels: run a subscribed channel's profile and post the result there, once.

Platforms plug in a :class:`ChannelPoster`; this module decides what is posted, in which order, and
remembers each message so a repeated or interrupted run posts only what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.digest.idle import IdleHooks
from bot.digest.pipeline import Fetcher, PastDays, Progress, RunResult, get_announcement, run_digest
from bot.digest.retraining import Retrainer
from bot.digest.sharing import SharedScoring
from bot.digest.shutdown import finish_within
from bot.digest.slots import RunSlots
from bot.domain.models import Announcement, Digest, Paper, Profile, Subscription
from bot.domain.platform import ChannelPoster, Place, RecoveringPoster
from bot.domain.pricing import format_cost
from bot.domain.settings import Settings
from bot.domain.statuses import DeliveryStatus, PostKind, RunStatus
from bot.learning import prefilter
from bot.learning import training as learning
from bot.scoring.batch_scoring import BatchModel
from bot.scoring.hooks import settle
from bot.scoring.llm_scorer import ChatModel
from storage.offload import background
from storage.store import Store

log = logging.getLogger(__name__)


def summary_part(number: int) -> str:
    """The post row's name of summary message ``number``: "summary", then "summary.2", "summary.3"…"""
    return PostKind.SUMMARY if number == 1 else f"{PostKind.SUMMARY}.{number}"


class PaperLookup(PastDays, Protocol):
    """The arXiv API: papers by ID, and whole past announcement days (the RSS feed holds only today)."""

    async def lookup(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]: ...

    def lookup_sync(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        """The same, blocking: the command core runs people's look-ups on threads of their own."""
        ...


@dataclass(frozen=True)
class Delivery:
    """What one run did in one channel."""

    status: DeliveryStatus
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
        batch_factory: Callable[[], BatchModel] | None = None,
        fit: learning.Fit = prefilter.train,  # where the prefilter is fitted (the bot process: a child process)
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher_for = fetcher_for
        self.chat_factory = chat_factory
        self.batch_factory = batch_factory
        self.lookup = lookup
        self.posters: dict[str, ChannelPoster] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._listeners: list[Callable[[], Awaitable[None] | None]] = []
        self._requested: set[asyncio.Task[Any]] = set()  # /arxiv run in progress: shutdown waits for them
        self.stopping = False
        # Set by the scheduler: at start it finishes runs a restart interrupted (see DailyRuns.owed).
        self.resumes_interrupted = False
        self.health_sources: list[Callable[[], dict[str, object]]] = []
        # Concurrent runs score a paper once per criteria; a channel's run holds a posting slot only while it
        # posts (paced per channel), and trains the prefilter after posting, off the loop.
        self.shared = SharedScoring()
        self.slots = RunSlots(runs_at_once=settings.runs_at_once, posting_at_once=settings.channels_at_once)
        self.retrainer = Retrainer(lambda profile: learning.retrain(self.store, self.settings, profile, fit=fit))
        self._closers: list[Callable[[], Awaitable[None]]] = []
        # DIGEST_RUNS=queue: /arxiv run hands the run to the workers (bot.digest.queue.requested_runs)
        self.queue_requested: Callable[[Subscription], Awaitable[Delivery]] | None = None
        # Once a busy spell is over: the results kept for concurrent runs go, then (bootstrap) the heap.
        self.idle = IdleHooks(busy=lambda: self._runs_going > 0 or self.retrainer.busy)
        self.idle.add(self.shared.forget_done, thread=False)
        self._runs_going = 0

    def register(self, poster: ChannelPoster) -> None:
        self.posters[poster.platform] = poster

    def close_at_shutdown(self, close: Callable[[], Awaitable[None]]) -> None:
        """A client the whole process shares (the LLM's), closed by aclose()."""
        self._closers.append(close)

    async def aclose(self) -> None:
        """The process stops: drop trainings not started, close the shared clients."""
        self.retrainer.close()
        self.idle.close()
        for close in self._closers:
            await close()

    def on_subscriptions_changed(self, listener: Callable[[], Awaitable[None] | None]) -> None:
        self._listeners.append(listener)

    async def subscriptions_changed(self) -> None:
        """A channel subscribed, left or moved its time: the scheduler re-reads its jobs."""
        for listener in self._listeners:
            await settle(listener())

    def _lock(self, platform: str, channel: str) -> asyncio.Lock:
        return self._locks.setdefault((platform, channel), asyncio.Lock())

    async def health(self) -> dict[str, object]:
        """What /healthz reports: the database answers, and what the scheduler is doing."""
        report: dict[str, object] = {"status": "ok", "platforms": sorted(self.posters)}
        try:
            await self.store.aio(self.store.ping)
        except Exception as exc:  # any database failure makes the process unhealthy
            report.update(status="error", database=f"unreachable: {type(exc).__name__}")
        for source in self.health_sources:
            report.update(source())
        return report

    def poster_for(self, subscription: Subscription) -> ChannelPoster:
        poster = self.posters.get(subscription.platform)
        if poster is None:
            raise LookupError(f"no {subscription.platform} connection is running to post to")
        return poster

    @background
    async def run_channel(self, subscription: Subscription, *, date: dt.date | None = None) -> Delivery:
        """Score the channel's profile on the day (default: the feed's newest) and post what is missing."""
        self.poster_for(subscription)
        profile = await self.store.aio(self.store.profile_by_id, subscription.profile_id)
        announcement = await get_announcement(self.store, self.fetcher_for(profile.categories), profile.categories,
                                              date)
        return await self.run_day(subscription, announcement)

    async def run_requested(self, subscription: Subscription) -> Delivery:
        """``/arxiv run``: :meth:`run_channel` as work the shutdown waits for like a scheduled digest; when
        the grace runs out the requester is told that the rest comes after the restart."""
        if self.stopping:
            return Delivery(DeliveryStatus.STOPPING, None, 0, "The bot is restarting; try again in a minute.")
        if self.queue_requested is not None:
            return await self.queue_requested(subscription)
        task = asyncio.current_task()
        assert task is not None
        self._requested.add(task)
        try:
            return await self.run_channel(subscription)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            task.uncancel()  # cancelled by stop(): the requester still gets an answer
            when = ("It will be finished after the restart" if self.resumes_interrupted
                    else "Run it again when the bot is back")
            return Delivery(DeliveryStatus.INTERRUPTED, None, 0,
                            f"The bot is restarting and could not finish this digest in time. {when}; the "
                            "messages already posted stay and only the missing ones follow.")
        finally:
            self._requested.discard(task)

    async def stop(self, grace: float) -> None:
        """Take no more requested runs, give the running ones ``grace`` seconds (as the scheduler gives its
        digests), then cancel them; each then tells its requester, before the platforms close."""
        self.stopping = True
        started = time.monotonic()
        cut_off = await finish_within(self._requested, grace, "requested digest(s)")
        # Trainings after posting get what is left of the grace; one cut off is done by the next run's.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.retrainer.wait(), max(0.0, grace - (time.monotonic() - started)))
        if cut_off:
            log.warning("Stopped %d requested digest(s) mid-run; %s", cut_off,
                        "the next start finishes them" if self.resumes_interrupted else "/arxiv run finishes them")

    @background
    async def run_profile(
        self, profile: Profile, *, date: dt.date | None = None, deliver: Sequence[Callable[[Digest], object]] = (),
        progress: Progress | None = None,
    ) -> RunResult:
        """``profile``'s digest of ``date`` (default: the feed's newest) handed to ``deliver`` (files, not a
        channel: the command line's run). A past day the feed no longer carries is rebuilt from the arXiv API."""
        return await run_digest(
            self.settings, self.store, profile, self.fetcher_for(profile.categories),
            chat_factory=self.chat_factory, batch_factory=self.batch_factory, date=date,
            past=(self.lookup, self.settings.calendar, self.settings.announce_types), deliver=deliver,
            progress=progress, shared=self.shared,
        )

    async def paper(
        self, arxiv_id: str, *, fetch: Callable[[str], Awaitable[Paper | None]] | None = None
    ) -> Paper | None:
        """A paper by (normalized) arXiv ID: from the database, else from arXiv and then kept; None when arXiv
        does not know it. ``fetch`` asks arXiv (default: the API client at once; the chat core queues people's
        look-ups in a lane of their own)."""
        paper = await self.store.aio(self.store.get_paper, arxiv_id)
        if paper is None:
            paper = await (fetch or self._lookup_one)(arxiv_id)
            if paper is not None:
                await self.store.aio(self.store.save_papers, [paper])
        return paper

    async def _lookup_one(self, arxiv_id: str) -> Paper | None:
        return (await self.lookup.lookup([arxiv_id])).get(arxiv_id)

    @background
    async def run_day(self, subscription: Subscription, announcement: Announcement) -> Delivery:
        """Score one announcement for the channel and post what it does not have yet, as the only
        worker on that (profile, day) across processes; logs one line with what it did."""
        poster = self.poster_for(subscription)
        started = time.monotonic()
        self._runs_going += 1
        try:
            async with (self._lock(subscription.platform, subscription.channel),
                        self.store.locked_run(subscription.profile_id, announcement.date) as held):
                if not held:
                    delivery = Delivery(DeliveryStatus.BUSY, announcement.date, 0,
                                        f"The digest of {announcement.date} is being prepared by another process; "
                                        "it will appear here when ready.")
                else:
                    delivery = await self._run_day(poster, subscription, announcement)
        finally:
            self._runs_going -= 1
            self.idle.check()
        _log_run(subscription, delivery, time.monotonic() - started)
        return delivery

    async def _run_day(self, poster: ChannelPoster, subscription: Subscription, announcement: Announcement) -> Delivery:
        profile = await self.store.aio(self.store.profile_by_id, subscription.profile_id)
        async with self.slots.running():
            result = await run_digest(
                self.settings, self.store, profile, self.fetcher_for(profile.categories),
                chat_factory=self.chat_factory, batch_factory=self.batch_factory, announcement=announcement,
                shared=self.shared, retrain=False,
            )
        if result.digest is None:
            delivery = await self._empty_day(poster, subscription, result.date, result.message)
            await self.store.aio(self.store.mark_run, profile.id, announcement.date, RunStatus.EMPTY, result.message)
            return delivery
        # A second attempt at a day may follow a crash between a platform accepting a message and our
        # record of it: such messages are looked up in the channel rather than posted again.
        run = await self.store.aio(self.store.get_run, profile.id, announcement.date)
        resume = run is not None and run.attempts > 1
        async with self.slots.posting():
            delivery = await self.deliver(poster, Place(subscription.workspace, subscription.channel), result.digest,
                                          resume=resume)
        await self.store.aio(self.store.mark_run, profile.id, announcement.date, RunStatus.POSTED)
        if result.retrain_due:
            self.retrainer.request(profile)
        return delivery

    async def deliver(self, poster: ChannelPoster, place: Place, digest: Digest, *, resume: bool = False) -> Delivery:
        """Post the parts of ``digest`` the channel does not have yet, recording each as it goes out."""
        platform, channel = poster.platform, place.channel
        done = await self.store.aio(self.store.posted_parts, platform, channel, digest.date)
        if resume and hasattr(poster, "recover"):
            await self._recover(poster, place, digest, done)
        posted = 0
        parent = done.get(PostKind.SUMMARY)
        for number in range(1, poster.summary_parts(digest) + 1):
            part = summary_part(number)
            if part in done:
                continue
            message_id = await poster.post_summary_part(place, digest, number, parent)
            await self.store.aio(self.store.record_post, platform, channel, digest.date, part, message_id)
            parent = parent or message_id
            posted += 1
        assert parent is not None  # the loop posted the parent when it was missing
        for item in digest.ranked:
            if item.paper.arxiv_id in done:
                continue
            message_id = await poster.post_paper(place, parent, digest, item)
            await self.store.aio(
                self.store.record_post, platform, channel, digest.date, item.paper.arxiv_id, message_id,
                arxiv_id=item.paper.arxiv_id, rank=item.rank,
            )
            posted += 1
        if posted == 0:
            return Delivery(DeliveryStatus.ALREADY, digest.date, 0,
                            f"The digest of {digest.date} is already in this channel.", digest)
        return Delivery(
            DeliveryStatus.POSTED, digest.date, posted,
            f"Posted the digest of {digest.date}: {digest.relevant} relevant of {digest.total_arxiv} papers.", digest,
        )

    async def _recover(self, poster: ChannelPoster, place: Place, digest: Digest, done: dict[str, str]) -> None:
        ranks = {item.paper.arxiv_id: item.rank for item in digest.ranked}
        recovering: RecoveringPoster = poster  # type: ignore[assignment]  # checked with hasattr by the caller
        found = await recovering.recover(place, digest.date)
        for part, message_id in found.items():
            if part in done or not (part.startswith(PostKind.SUMMARY) or part in ranks):
                continue
            paper = part if part in ranks else None
            await self.store.aio(self.store.record_post, poster.platform, place.channel, digest.date, part, message_id,
                                 arxiv_id=paper, rank=ranks.get(part))
            done[part] = message_id
            log.info("Found %s of %s already in %s; not posting it again", part, digest.date, place.channel)

    async def _empty_day(
        self, poster: ChannelPoster, subscription: Subscription, date: dt.date | None, message: str
    ) -> Delivery:
        posted = 0
        if subscription.post_empty_days and date is not None:
            done = await self.store.aio(self.store.posted_parts, poster.platform, subscription.channel, date)
            if PostKind.EMPTY not in done:
                message_id = await poster.post_text(Place(subscription.workspace, subscription.channel), message)
                await self.store.aio(self.store.record_post, poster.platform, subscription.channel, date,
                                     PostKind.EMPTY, message_id)
                posted = 1
        return Delivery(DeliveryStatus.EMPTY, date, posted, message)


def _log_run(subscription: Subscription, delivery: Delivery, seconds: float) -> None:
    """One line per run; the fields are also attached for ``--log-json``."""
    digest = delivery.digest
    fields: dict[str, object] = {
        "event": "run", "platform": subscription.platform, "channel": subscription.channel,
        "date": str(delivery.date) if delivery.date else None, "status": delivery.status,
        "messages": delivery.posted, "seconds": round(seconds, 2),
    }
    text = (f"run {subscription.platform}:{subscription.channel} {delivery.date or '-'} {delivery.status}: "
            f"{delivery.posted} messages")
    if digest is not None:
        usage = digest.usage
        fields.update(
            papers=digest.total_arxiv, scored=digest.scanned, relevant=digest.relevant,
            unscored=len(digest.unscored), model=digest.model, requests=usage.requests,
            prompt_tokens=usage.prompt_tokens, cached_tokens=usage.cached_tokens,
            completion_tokens=usage.completion_tokens, cost_usd=digest.cost_usd,
        )
        text += (f", {digest.total_arxiv} papers, {digest.scanned} scored, {digest.relevant} relevant, "
                 f"{usage.requests} requests, {usage.prompt_tokens + usage.completion_tokens} tokens "
                 f"({usage.cached_tokens} cached), {format_cost(digest.cost_usd)}")
    log.info("%s, %.1f s", text, seconds, extra=fields)
