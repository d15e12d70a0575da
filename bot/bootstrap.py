"""The composition root: the one place in bot/ that builds adapters (arXiv's feed and API, the LLM, the
digest files, the archive site, the chat platforms) and hands them to the core. The CLI, the bot process
and the tests get every adapter from here.

Each builder imports what it builds when called: a command loads only the parts it uses (``arxiv-digest
abstract`` neither the LLM client nor the chat libraries), as the CLI's start-up requires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.arxiv_api import ArxivLookup
    from adapters.arxiv_fulltext import ArxivFullText
    from adapters.job_queue import JobQueue
    from adapters.llm import OpenAIChat
    from adapters.llm_batch import OpenAIBatch
    from adapters.shared_feed import SharedFeed
    from adapters.site.build import SiteResult
    from bot.chat.commands import CommandCore
    from bot.digest.service import DigestService
    from bot.domain.models import Digest, Profile
    from bot.domain.platform import Platform
    from bot.domain.settings import Settings
    from bot.scoring.shared_chat import SharedChat
    from storage.store import Store


def shared_chat(settings: Settings) -> SharedChat | None:
    """The process's one LLM client when there is a key, at most DIGEST_LLM_IN_FLIGHT requests in flight across
    every run and question; its owner closes it at shutdown. None: the local scorer ranks instead."""
    if not settings.has_llm:
        return None
    from bot.scoring.shared_chat import SharedChat

    def make() -> OpenAIChat:  # at the first request, on a thread: a process that asks nothing never loads openai
        from adapters.llm import OpenAIChat

        return OpenAIChat.from_settings(settings)

    return SharedChat(make, in_flight=settings.llm_in_flight, model=settings.model)


def chat_factory(settings: Settings) -> Callable[[], SharedChat] | None:
    """A factory handing out one shared LLM client (see shared_chat); None without a key."""
    chat = shared_chat(settings)
    return None if chat is None else (lambda: chat)


def batch_factory(settings: Settings) -> Callable[[], OpenAIBatch] | None:
    """The OpenAI Batch API client when DIGEST_USE_BATCH_API is on (and there is a key)."""
    if not (settings.use_batch_api and settings.has_llm):
        return None
    from adapters.llm_batch import OpenAIBatch

    return lambda: OpenAIBatch.from_settings(settings)


def arxiv_lookup(settings: Settings) -> ArxivLookup:
    from adapters.arxiv_api import ArxivLookup

    return ArxivLookup(settings.arxiv_api_url, delay_seconds=settings.arxiv_api_delay, timeout=settings.fetch_timeout)


def full_text_source(settings: Settings) -> ArxivFullText:
    """A paper's full text from arXiv (ARXIV_HTML_URL, else ARXIV_PDF_URL), paced as arXiv asks."""
    from adapters.arxiv_fulltext import ArxivFullText

    return ArxivFullText.from_settings(settings)


def feed_fetcher(settings: Settings, feed: str | None = None) -> Callable[[Sequence[str]], SharedFeed]:
    """The RSS fetcher for a profile's categories: arXiv's feed, or the one file ``feed`` names whatever
    the categories (the demo's bundled day, read once, so without arXiv's retries and time-outs). The
    fetchers it makes share their reads: channels of the same feed due at the same moment read it once."""
    from adapters.shared_feed import FeedReads

    reads = FeedReads()

    def fetcher_for(categories: Sequence[str]) -> SharedFeed:
        from adapters.arxiv_rss import RSSFetcher

        if feed is not None:
            fetcher = RSSFetcher(feed, keep_types=settings.announce_types)
        else:
            fetcher = RSSFetcher(
                settings.feed_url_for(tuple(categories)), keep_types=settings.announce_types,
                retries=settings.fetch_retries, timeout=settings.fetch_timeout, base_delay=settings.retry_base_delay,
            )
        return reads.shared((fetcher.url, fetcher.keep_types), fetcher)

    return fetcher_for


def build_service(settings: Settings, store: Store, *, feed: str | None = None) -> DigestService:
    """The digest service on the real arXiv and LLM; ``feed``: see :func:`feed_fetcher`."""
    from bot.digest.service import DigestService
    from bot.learning.fitting import ProcessFit

    chat = shared_chat(settings)
    fit = ProcessFit()  # the prefilter fits on the other core, not in the event loop's GIL
    service = DigestService(
        settings,
        store,
        fetcher_for=feed_fetcher(settings, feed),
        chat_factory=(lambda: chat) if chat is not None else None,  # every run and question shares it
        batch_factory=batch_factory(settings),
        lookup=arxiv_lookup(settings),
        fit=fit,
    )
    if chat is not None:
        service.close_at_shutdown(chat.close)
    from adapters.memory import give_back

    service.close_at_shutdown(lambda: asyncio.to_thread(fit.close))
    service.idle.add(fit.stop)  # the child's memory goes when the bot is idle
    service.idle.add(give_back)  # the heap a busy spell grew goes back to the system once it is over
    return service


def build_core(settings: Settings, store: Store) -> CommandCore:
    """The command core on the real services; questions about papers read them through full_text_source."""
    from bot.chat.commands import CommandCore

    return CommandCore(build_service(settings, store), full_text_source(settings))


def chat_platforms(core: CommandCore) -> list[Platform]:
    """Every chat platform the environment configures (adapters/platforms.py says which), on ``core``."""
    from adapters.platforms import configured_platforms

    return configured_platforms(core)


@dataclass(frozen=True)
class OutFolder:
    """The --out folder the CLI delivers to: each digest's Markdown and JSON files, and the archive site."""

    path: Path

    def write(self, digest: Digest) -> tuple[Path, Path]:
        """The digest's files (Markdown, JSON) under YYYY-MM/."""
        from adapters.files import write_digest

        return write_digest(digest, self.path)

    def publish_site(self, store: Store, profile: Profile, fresh: Digest | None = None) -> SiteResult:
        """The whole archive site of ``profile`` again; ``fresh`` is the digest just made."""
        from adapters.site.build import publish_site

        return publish_site(store, profile, self.path, fresh)


def job_queue(settings: Settings) -> JobQueue:
    """The job queue of DIGEST_RUNS=queue, on DATABASE_URL (PostgreSQL; anything else is one clear StorageError)."""
    from adapters.job_queue import JobQueue

    return JobQueue(settings.database_url)


def posting_platforms(core: CommandCore) -> list[Platform]:
    """What a worker posts with: each configured platform's web API, without commands or a gateway."""
    from adapters.posting import posting_platforms as configured

    return configured(core)
