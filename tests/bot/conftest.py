"""Shared by the core tests: in-memory fakes of arXiv and the LLM, a fresh copy of one migrated database a
test; for the schedule tests a subscribed channel on an in-memory chat platform, and helpers for arXiv's
March 2025 calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from bot.chat.commands import CommandCore
from bot.digest.daily import DailyRuns, DueOutcome
from bot.digest.service import DigestService
from bot.domain.calendar import ArxivCalendar
from bot.domain.models import Subscription
from bot.domain.settings import Settings
from storage.store import Store
from tests.conftest import sample_papers
from tests.support import ArxivStandIn, OpenAIStandIn
from tests.support.chat import MemoryPoster
from tests.support.fakes import (
    FakeArxiv,
    FakeChat,
    FakeFullText,
    copy_of,
    fake_core,
    fake_service,
    fake_settings,
    scratch_folder,
)

T = TypeVar("T")
BERLIN = ZoneInfo("Europe/Berlin")
# March 2025: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7, Sat 8. A mailing's papers were submitted the day before.
MON, TUE, WED, THU, FRI = (dt.date(2025, 3, d) for d in (3, 4, 5, 6, 7))


def berlin(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BERLIN)


def papers_of(mailing: dt.date, n: int, start: int) -> list[dict[str, Any]]:
    """Papers as the API knows them: submitted within the hour after their mailing's window opened."""
    opened = ArxivCalendar().submission_window(mailing)[0] + dt.timedelta(minutes=30)
    return [dict(p, published=f"{opened:%Y-%m-%dT%H:%M:%SZ}") for p in sample_papers(n, start=start)]


@pytest.fixture(scope="session")
def migrated_database() -> Iterator[Path]:
    """Migrated once; each test's database is a copy (see copy_of)."""
    with scratch_folder() as folder:
        Store.open(f"sqlite:///{folder / 'migrated.db'}").close()
        yield folder / "migrated.db"


@pytest.fixture
def database_folder() -> Iterator[Path]:
    with scratch_folder() as folder:
        yield folder


@pytest.fixture
def fresh_database(database_folder: Path, migrated_database: Path) -> Callable[[], str]:
    """``fresh_database()``: the URL of a new copy of the migrated database."""
    numbers = itertools.count()
    return lambda: copy_of(migrated_database, database_folder / f"digest{next(numbers)}.db")


@pytest.fixture
def core_settings(fresh_database: Callable[[], str]) -> Callable[..., Settings]:
    """``core_settings(**overrides)``: settings for the fakes, on one fresh database a test (as make_settings)."""
    url = fresh_database()
    return lambda **overrides: fake_settings(url, **{"retry_base_delay": 0.01} | overrides)


@pytest.fixture
def fake_arxiv() -> FakeArxiv:
    return FakeArxiv()


@pytest.fixture
def fake_llm() -> FakeChat:
    return FakeChat()


@pytest.fixture
def fake_full_text() -> FakeFullText:
    return FakeFullText()


@pytest.fixture
def make_core(
    fresh_database: Callable[[], str], fake_arxiv: FakeArxiv, fake_llm: FakeChat, fake_full_text: FakeFullText
) -> Iterator[Callable[..., Any]]:
    """``make_core(**settings)``: a core on the fakes, posting to a MemoryPoster (``core.poster``)."""
    stores: list[Store] = []

    def build(**overrides: Any) -> CommandCore:
        settings = fake_settings(fresh_database(), **overrides)
        stores.append(store := Store.open(settings.database_url))
        core = fake_core(settings, store, fake_arxiv, fake_llm, fake_full_text)
        core.poster = MemoryPoster()  # type: ignore[attr-defined]  # the tests read what was posted
        core.service.register(core.poster)  # type: ignore[attr-defined]
        return core

    yield build
    for store in stores:
        store.close()


@dataclass
class World:
    settings: Settings
    store: Store
    poster: MemoryPoster
    daily: DailyRuns
    sub: Subscription
    arxiv: FakeArxiv
    llm: FakeChat

    def run(self, now: dt.datetime) -> DueOutcome:
        return asyncio.run(self.daily.run_due(self.sub, now))

    def service_on(self, store: Store) -> DigestService:
        """Another process's service: the same settings and fakes, its own connection to the database."""
        return fake_service(self.settings, store, self.arxiv, self.llm)

    def as_another_process(self, channel: MemoryPoster, barrier: threading.Barrier,
                           body: Callable[[DigestService], Awaitable[T]]) -> T:
        """``body`` as another process runs it: its own connection, service and event loop, posting to ``channel``,
        starting when ``barrier`` lets every process through at once."""
        store = Store.open(self.settings.database_url)
        try:
            service = self.service_on(store)
            service.register(channel)
            barrier.wait()
            return asyncio.run(body(service))
        finally:
            store.close()

    def summaries(self) -> list[dt.date]:
        return [content for _, kind, content in self.poster.messages if kind == "summary"]

    def texts(self) -> list[str]:
        return [content for _, kind, content in self.poster.messages if kind == "text"]

    def posted_papers(self) -> list[str]:
        return [content[2] for _, kind, content in self.poster.messages if kind == "paper"]

    def rss_reads(self) -> int:
        return self.arxiv.feed_reads

    def api_reads(self) -> int:
        return self.arxiv.api_reads


@pytest.fixture
def world(fresh_database: Callable[[], str], fake_arxiv: FakeArxiv, fake_llm: FakeChat):
    """``world(**settings)``: a channel subscribed at 09:00 Berlin time, on the fakes and a database of its own."""
    worlds: list[World] = []

    def build(**overrides: Any) -> World:
        settings = fake_settings(fresh_database(), **{"schedule": "09:00 Europe/Berlin", "retry_base_delay": 0.01}
                                 | overrides)
        store = Store.open(settings.database_url)
        service = fake_service(settings, store, fake_arxiv, fake_llm)
        poster = MemoryPoster()
        service.register(poster)
        profile = store.ensure_profile(
            "chat:C1", categories=settings.categories, min_relevance=7, min_novelty=6, top_n=None,
            default_criteria="Mixture of experts and quantization.",
        )
        sub = store.subscribe("chat", "T1", "C1", "U1", profile.id)
        built = World(settings, store, poster, DailyRuns(service, settings.calendar), sub, fake_arxiv, fake_llm)
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
