"""Wiring: the real arXiv, LLM and storage parts behind the digest service the bot process runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from adapters.arxiv_api import ArxivLookup
from adapters.arxiv_rss import RSSFetcher
from adapters.llm import OpenAIChat
from adapters.llm_batch import OpenAIBatch
from bot.chat.commands import CommandCore
from bot.digest.service import DigestService
from bot.domain.settings import Settings
from storage.store import Store


def batch_factory(settings: Settings) -> Callable[[], OpenAIBatch] | None:
    """The OpenAI Batch API client when DIGEST_USE_BATCH_API is on (and there is a key)."""
    if not (settings.use_batch_api and settings.has_llm):
        return None
    return lambda: OpenAIBatch.from_settings(settings)


def build_service(settings: Settings, store: Store) -> DigestService:
    def fetcher_for(categories: Sequence[str]) -> RSSFetcher:
        return RSSFetcher(
            settings.feed_url_for(tuple(categories)), keep_types=settings.announce_types,
            retries=settings.fetch_retries, timeout=settings.fetch_timeout, base_delay=settings.retry_base_delay,
        )

    return DigestService(
        settings,
        store,
        fetcher_for=fetcher_for,
        chat_factory=(lambda: OpenAIChat.from_settings(settings)) if settings.has_llm else None,
        batch_factory=batch_factory(settings),
        lookup=ArxivLookup(settings.arxiv_api_url, delay_seconds=settings.arxiv_api_delay,
                           timeout=settings.fetch_timeout),
    )


def build_core(settings: Settings, store: Store) -> CommandCore:
    return CommandCore(build_service(settings, store))
