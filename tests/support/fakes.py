"""In-memory fakes of the ports the core runs on: arXiv (the feed and the API), the LLM, a chat platform's
markup and its callers.

Core tests (commands, daily runs, the pipeline, learning) build a real CommandCore and DigestService on these
and a fresh SQLite file, so a test takes milliseconds; tests about an HTTP edge (the arXiv and OpenAI
clients, the Slack and Discord apps) use the stand-ins in tests/support instead. The fakes answer as those
stand-ins do (papers are "scored" by the same ``judge``), so an assertion means the same on both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.markdown import Markdown
from bot.chat.commands import CommandCore, parse
from bot.digest.service import DigestService
from bot.domain.errors import FeedError, FullTextError
from bot.domain.fulltext import FullText
from bot.domain.models import Announcement, Completion, Paper, Usage, normalize_arxiv_id
from bot.domain.platform import Caller, Reply
from bot.domain.settings import Settings
from storage.store import Store
from tests.support.feeds import published_at
from tests.support.openai_server import (
    Judgement,
    ask_answer,
    is_ask_request,
    is_tldr_request,
    judge,
    parse_papers,
    tldr_of,
    translated_comments,
)

MEMORY_FOLDER = Path("/dev/shm")


class PlainMarkup(Markdown):
    """Markdown that escapes nothing, so a core test reads a reply as the core worded it."""

    def code(self, text: str) -> str:
        return f"`{text}`"

    def block(self, text: str) -> str:
        return f"```\n{text}\n```"

    def link(self, url: str, text: str) -> str:
        return f"[{text}]({url})"

    def mention(self, user: str) -> str:
        return f"@{user}"

    def escape(self, text: str) -> str:
        return text


def caller(user: str = "U1", *, admin: bool = False, channel: str = "C1") -> Caller:
    """Someone in channel ``channel`` of the in-memory platform "chat" (see tests/support/chat.py)."""

    async def is_admin() -> bool:
        return admin

    return Caller("chat", "T1", channel, user, is_admin, "workspace admins")


def say(core: CommandCore, text: str, who: Caller | None = None) -> Reply:
    """``/arxiv <text>`` typed by ``who`` (default: U1, no admin), answered in PlainMarkup."""
    return asyncio.run(core.execute(who or caller(), parse(text), PlainMarkup()))


class FakeArxiv:
    """arXiv's RSS feed (today's announcement) and its API (papers by ID, past days), in memory.

    Papers are plain records as ``tests.support.make_paper`` builds them, like ArxivStandIn takes.
    """

    def __init__(self) -> None:
        self.day = dt.date(2025, 3, 6)
        self.day_papers: list[Paper] = []
        self.known: dict[str, Paper] = {}
        self.submitted: dict[str, dt.datetime] = {}  # when each known paper's version 1 was submitted (UTC)
        self.lookups: list[tuple[str, ...]] = []  # the IDs of each API look-up
        self.feed_reads = 0
        self.api_reads = 0  # past days rebuilt from the API
        self.failures = 0  # feed reads still to fail, as when arXiv stays unreachable through the retries
        self.keep_types = ("new", "cross")  # the announce types the feed reader keeps (the settings' default)

    def set_day(self, date: dt.date, papers: Iterable[Mapping[str, Any]]) -> None:
        """Make the feed announce ``papers`` on ``date``; the API learns them too (submitted the evening before,
        unless a paper says otherwise, as ArxivStandIn has it)."""
        evening = f"{date - dt.timedelta(days=1)}T18:00:00Z"
        records = [{"published": evening, **p} for p in papers]
        self.day = date
        self.day_papers = [Paper.from_dict(p) for p in records]
        self.add_papers(records)

    def add_papers(self, papers: Iterable[Mapping[str, Any]]) -> None:
        """Papers the API knows without them being in today's feed; ``published`` places them in a past day."""
        for record in papers:
            paper = Paper.from_dict(record)
            self.known[paper.arxiv_id] = paper
            self.submitted[paper.arxiv_id] = published_at(dict(record))

    # the ports ----------------------------------------------------------------------------------------

    def fetcher_for(self, categories: Sequence[str]) -> FakeArxiv:
        return self

    async def fetch(self) -> Announcement:
        self.feed_reads += 1
        if self.failures:
            self.failures -= 1
            raise FeedError("Could not read the arXiv feed: 503 Service Unavailable; try again in a few minutes.")
        kept = tuple(p for p in self.day_papers if p.announce_type in self.keep_types)
        return Announcement(date=self.day, papers=kept, total_in_feed=len(self.day_papers), source="fake-rss")

    def lookup_sync(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        self.lookups.append(tuple(arxiv_ids))
        ids = (normalize_arxiv_id(raw) for raw in arxiv_ids)
        return {i: self.known[i] for i in ids if i is not None and i in self.known}

    async def lookup(self, arxiv_ids: Sequence[str]) -> dict[str, Paper]:
        return self.lookup_sync(arxiv_ids)

    async def announcement(
        self, categories: Sequence[str], mailing: dt.date, window: tuple[dt.datetime, dt.datetime], *,
        keep_types: Iterable[str],
    ) -> Announcement:
        """The known papers first submitted in ``window`` in one of ``categories``: "new" where that is the
        primary category, else "cross"."""
        self.api_reads += 1
        start, end = window
        found = sorted((p for i, p in self.known.items()
                        if start <= self.submitted[i] < end and set(p.categories) & set(categories)),
                       key=lambda p: self.submitted[p.arxiv_id])
        typed = [replace(p, announce_type="new" if p.categories[0] in categories else "cross") for p in found]
        keep = set(keep_types)
        return Announcement(date=mailing, papers=tuple(p for p in typed if p.announce_type in keep),
                            total_in_feed=len(typed), source="fake-api")


class FakeChat:
    """An LLM that scores every paper in the prompt (or writes its TL;DR) as OpenAIStandIn does, and records
    each prompt."""

    def __init__(self, model: str = "gpt-4o-mini") -> None:
        self.model = model
        self.requests: list[str] = []  # the user message of each completion asked for
        self.systems: list[str] = []  # and its system message
        self.overrides: dict[str, tuple[int, int]] = {}  # (relevance, novelty) forced for a paper ID
        self.replies: list[str] = []  # texts the next completions answer verbatim, one each
        self.delays: list[float] = []  # seconds the next replies take, one each, after the request is recorded

    def expected(self, paper: Mapping[str, Any]) -> tuple[int, int]:
        """The (relevance, novelty) this model gives ``paper``."""
        verdict = self.verdict(paper["arxiv_id"], paper["title"], paper["abstract"])
        return verdict.relevance, verdict.novelty

    def verdict(self, arxiv_id: str, title: str, abstract: str) -> Judgement:
        honest = judge(arxiv_id, title, abstract)
        relevance, novelty = self.overrides.get(arxiv_id, (honest.relevance, honest.novelty))
        return Judgement(relevance, novelty, honest.hits)

    def clear(self) -> None:
        self.requests.clear()
        self.systems.clear()

    @property
    def tldr_requests(self) -> list[str]:
        """The user messages of the TL;DR requests (the scoring ones are the others)."""
        return [user for system, user in zip(self.systems, self.requests, strict=True) if is_tldr_request(system)]

    @property
    def paper_ids_per_request(self) -> list[list[str]]:
        """The papers of each scoring request (TL;DR requests are in tldr_requests)."""
        return [[paper.arxiv_id for paper in parse_papers(user)]
                for system, user in zip(self.systems, self.requests, strict=True) if not is_tldr_request(system)]

    async def complete(self, system: str, user: str, response_format: dict[str, Any] | None = None,
                       max_tokens: int | None = None) -> Completion:
        self.requests.append(user)
        self.systems.append(system)
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        if self.replies:
            text = self.replies.pop(0)
        elif is_ask_request(system):
            text = ask_answer(user)
        elif is_tldr_request(system):
            comments = translated_comments(system, user)
            items = [{"ARXIVID": p.arxiv_id, "TLDR": tldr_of(p.title, p.abstract)}
                     | ({"COMMENT": comments[p.arxiv_id]} if p.arxiv_id in comments else {})
                     for p in parse_papers(user)]
            text = "\n".join(json.dumps(item, ensure_ascii=False) for item in items)
        else:
            items = []
            for paper in parse_papers(user):
                verdict = self.verdict(paper.arxiv_id, paper.title, paper.abstract)
                items.append({"ARXIVID": paper.arxiv_id, "COMMENT": verdict.comment,
                              "RELEVANCE": verdict.relevance, "NOVELTY": verdict.novelty})
            text = json.dumps({"papers": items}) if response_format else "\n".join(map(json.dumps, items))
        usage = Usage(prompt_tokens=len(system + user) // 4, completion_tokens=len(text) // 4, requests=1)
        return Completion(text=text, usage=usage)

    async def aclose(self) -> None:
        pass


class FakeFullText:
    """arXiv's full texts (the FullTextSource port) in memory: ``texts`` by bare arXiv ID (None: neither HTML nor
    PDF), each read recorded; ``error`` makes every read fail as an unreachable arXiv does."""

    def __init__(self) -> None:
        self.texts: dict[str, FullText | None] = {}
        self.reads: list[str] = []
        self.error: FullTextError | None = None
        self.delay = 0.0  # seconds each read takes, so tests can ask twice while one read is under way
        self.closed = False

    async def full_text(self, arxiv_id: str) -> FullText | None:
        self.reads.append(arxiv_id)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.texts.get(arxiv_id)

    async def aclose(self) -> None:
        self.closed = True


@contextmanager
def scratch_folder() -> Iterator[Path]:
    """A folder for test databases, in memory where the system has one (/dev/shm): SQLite's syncs to disk are
    most of a core test's time otherwise."""
    with tempfile.TemporaryDirectory(dir=MEMORY_FOLDER if MEMORY_FOLDER.is_dir() else None) as folder:
        yield Path(folder)


def copy_of(template: Path, path: Path) -> str:
    """The URL of a fresh database at ``path``: a copy of ``template``, which Store.open already migrated
    (copying takes a millisecond; migrating a new file takes the whole chain)."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def fake_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, **{"openai_api_key": "test-key", "database_url": database_url} | overrides)


def fake_service(settings: Settings, store: Store, arxiv: FakeArxiv, llm: FakeChat) -> DigestService:
    """The real digest service on the fakes instead of the arXiv and OpenAI clients (no LLM without a key,
    as bot.bootstrap has it)."""
    return DigestService(
        settings, store, fetcher_for=arxiv.fetcher_for, chat_factory=(lambda: llm) if settings.has_llm else None,
        lookup=arxiv,
    )


def fake_core(settings: Settings, store: Store, arxiv: FakeArxiv, llm: FakeChat,
              full_text: FakeFullText | None = None) -> CommandCore:
    """The real command core on fake_service (reading papers' full text from ``full_text``)."""
    return CommandCore(fake_service(settings, store, arxiv, llm), full_text)
