"""Shared by the schedule tests: a subscribed channel on an in-memory chat platform, with arXiv and the
LLM as stand-ins, and helpers for arXiv's March 2025 calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap import build_service
from bot.digest.daily import DailyRuns, DueOutcome
from bot.domain.calendar import ArxivCalendar
from bot.domain.models import Subscription
from bot.domain.settings import Settings
from storage.store import Store
from tests.conftest import sample_papers
from tests.support import ArxivStandIn, OpenAIStandIn
from tests.support.chat import MemoryPoster

BERLIN = ZoneInfo("Europe/Berlin")
# March 2025: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7, Sat 8. A mailing's papers were submitted the day before.
MON, TUE, WED, THU, FRI = (dt.date(2025, 3, d) for d in (3, 4, 5, 6, 7))


def berlin(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BERLIN)


def papers_of(mailing: dt.date, n: int, start: int) -> list[dict[str, Any]]:
    """Papers as the API knows them: submitted within the hour after their mailing's window opened."""
    opened = ArxivCalendar().submission_window(mailing)[0] + dt.timedelta(minutes=30)
    return [dict(p, published=f"{opened:%Y-%m-%dT%H:%M:%SZ}") for p in sample_papers(n, start=start)]


@dataclass
class World:
    settings: Settings
    store: Store
    poster: MemoryPoster
    daily: DailyRuns
    sub: Subscription
    arxiv: ArxivStandIn
    llm: OpenAIStandIn

    def run(self, now: dt.datetime) -> DueOutcome:
        return asyncio.run(self.daily.run_due(self.sub, now))

    def summaries(self) -> list[dt.date]:
        return [content for _, kind, content in self.poster.messages if kind == "summary"]

    def texts(self) -> list[str]:
        return [content for _, kind, content in self.poster.messages if kind == "text"]

    def posted_papers(self) -> list[str]:
        return [content[2] for _, kind, content in self.poster.messages if kind == "paper"]

    def rss_reads(self) -> int:
        return sum(1 for r in self.arxiv.requests if r.path.startswith("/rss/"))

    def api_reads(self) -> int:
        return sum(1 for r in self.arxiv.requests if r.path.startswith("/api/"))


@pytest.fixture
def world(make_settings, arxiv: ArxivStandIn, llm: OpenAIStandIn):
    worlds: list[World] = []

    def build(**overrides: Any) -> World:
        settings = make_settings(schedule="09:00 Europe/Berlin", **overrides)
        store = Store.open(settings.database_url)
        service = build_service(settings, store)
        poster = MemoryPoster()
        service.register(poster)
        profile = store.ensure_profile(
            "chat:C1", categories=settings.categories, min_relevance=7, min_novelty=6, top_n=None,
            default_criteria="Mixture of experts and quantization.",
        )
        sub = store.subscribe("chat", "T1", "C1", "U1", profile.id)
        built = World(settings, store, poster, DailyRuns(service, settings.calendar), sub, arxiv, llm)
        worlds.append(built)
        return built

    yield build
    for built in worlds:
        built.store.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, arxiv: ArxivStandIn, llm: OpenAIStandIn, tmp_path: Any) -> dict[str, str]:
    """The CLI's documented variable names, pointed at the stand-ins."""
    values = {
        "OPENAI_API_KEY": "sk-test-secret-value",
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ARXIV_RSS_URL": arxiv.rss_url,
        "ARXIV_API_URL": arxiv.api_url,
        "DIGEST_RETRY_BASE_DELAY": "0.01",
        "DIGEST_FETCH_RETRIES": "1",
        "DIGEST_ARXIV_API_DELAY": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
