"""Benchmark: time to first answer and tokens per answer for questions about a long real paper.

What it measures. Each paper is served over HTTP by ``tests.support.arxiv_server.ArxivStandIn`` (arXiv's
/html/<id> and /pdf/<id>), and the LLM is ``tests.support.openai_server.OpenAIStandIn`` answering every request
after ``--latency`` seconds (1 s by default: its ``latency`` setting). Questions go through the production path:
``bot.bootstrap.full_text_source`` (ArxivFullText: httpx, LaTeXML or pypdf, arXiv's pacing) and
``bot.bootstrap.chat_factory`` (OpenAIChat: the official openai client) under ``bot.asking.service.AskService``
on a fresh SQLite database. Per paper:

* cold: the first question, nothing kept: fetch (paced) + parse + passages + BM25 + the LLM;
* warm: another question in another thread: the text comes from the database, arXiv is not asked;
* follow-up: a question in the first question's thread: the earlier question and answer travel with it;
* naive: the whole paper's text in one request (every passage, the same prompt): its tokens, and whether it fits
  a 128k-token context, sent once to the stand-in for its token count.

For each it prints seconds (and within them the full-text source's: fetch, pacing, parse; and the LLM's), arXiv
requests, prompt / cached / completion tokens, passages and characters of paper text sent, the cost at the
model's list price; per paper the document's size, its parse time (measured again on its own, on the same
bytes), and the process's peak RSS (the stand-ins run in this process too). Token counts are the stand-in's (4
characters a token, as OpenAI's rule of thumb: what the cost is computed on) and, with the bench extra installed
(``pip install -e '.[bench]'``: bpe-openai), gpt-4o's own o200k_base count of the same request, which then decides
whether the whole paper fits the context.

Papers (tests/fixtures/arxiv, SOURCES.md): ``html`` = 2501.11120v1 from arXiv's HTML rendering (LaTeXML, 699 KB:
9 sections, 3 appendices, 47 tables); ``pdf60`` = the tests' 60-page paper, 2501.10120v1's real 15-page PDF four
times over, without an HTML rendering (so arXiv is asked twice, 404 then the PDF). arXiv's pacing is the
default setting, DIGEST_ARXIV_API_DELAY = 3 s between requests (``--pace``).

Run from the repository root:

    .venv/bin/python -m bench.ask                   # both papers (about 40 s)
    .venv/bin/python -m bench.ask --paper html --latency 1 --pace 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import re
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pypdf

from adapters.latexml import parse_latexml
from adapters.pdf_text import parse_pdf
from bot.asking import answer
from bot.asking.passages import best_passages, passages
from bot.asking.service import Answer, AskService, Question
from bot.asking.sources import FullTextSource
from bot.bootstrap import chat_factory, full_text_source
from bot.domain.fulltext import FullText
from bot.domain.models import Completion, Usage
from bot.domain.pricing import cost_of, format_cost, price_for
from bot.domain.settings import Settings
from bot.domain.statuses import AskOutcome
from bot.scoring.llm_scorer import ChatModel
from storage.store import Store
from tests.support.arxiv_server import ArxivStandIn
from tests.support.openai_server import OpenAIStandIn

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures" / "arxiv"
MODEL = "gpt-4o-mini"
TARGET_FIRST_SECONDS = 60.0  # the issue: the answer comes within a minute
CONTEXT_TOKENS = 128_000  # gpt-4o-mini's context window
ANSWER_RESERVE = 400  # tokens left for the answer when judging whether a request fits
DEFAULT_PACE = float(Settings.model_fields["arxiv_api_delay"].default)
_PASSAGE = re.compile(r"^<<<PASSAGE (\d+) \|[^\n]*\n(.*?)\n<<<END PASSAGE \1$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class BenchPaper:
    name: str
    arxiv_id: str
    described: str
    html: bytes | None
    pdf: bytes | None
    first: str  # the cold question
    other: str  # the warm one, in another thread
    follow_up: str  # in the first question's thread


def long_html_paper() -> BenchPaper:
    return BenchPaper(
        "html", "2501.11120", "2501.11120v1, arXiv HTML (LaTeXML)",
        (FIXTURES / "html" / "2501.11120v1.html").read_bytes(), None,
        "What learning rate do they use for finetuning?",
        "How many codewords are used in Make Me Say?",
        "Which models do they finetune?",
    )


def pdf_pages(copies: int = 4, pages: int | None = None) -> bytes:
    """2501.10120v1's real PDF: its first ``pages`` pages (all 15 when None), ``copies`` times over."""
    reader = pypdf.PdfReader(FIXTURES / "pdf" / "2501.10120v1.pdf")
    writer = pypdf.PdfWriter()
    for _ in range(copies):
        for page in reader.pages[:pages]:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_paper(data: bytes, name: str = "pdf60", described: str = "2501.10120v1 ×4, 60-page PDF, no HTML") -> BenchPaper:
    return BenchPaper(
        name, "2501.10120", described, None, data,
        "Which datasets do they build to train the crawler?",
        "How is the selector trained?",
        "What reward does the crawler get?",
    )


# --- measuring the production objects from outside -----------------------------------------------------


class TimedSource:
    """The full-text source, its seconds per read recorded (fetch, pacing and parse together)."""

    def __init__(self, source: FullTextSource) -> None:
        self.source = source
        self.seconds: list[float] = []

    async def full_text(self, arxiv_id: str) -> FullText | None:
        started = time.perf_counter()
        try:
            return await self.source.full_text(arxiv_id)
        finally:
            self.seconds.append(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self.source.aclose()


class TimedChat:
    """The LLM client, its seconds per completion recorded."""

    def __init__(self, chat: ChatModel, seconds: list[float]) -> None:
        self.chat = chat
        self.model = chat.model
        self.seconds = seconds

    async def complete(self, system: str, user: str, response_format: dict[str, Any] | None = None,
                       max_tokens: int | None = None) -> Completion:
        started = time.perf_counter()
        try:
            return await self.chat.complete(system, user, response_format, max_tokens)
        finally:
            self.seconds.append(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self.chat.aclose()


class LoopWatch:
    """The longest the event loop went without running a ready task while a question was answered: what other
    chat events would have waited (the parsers run in a thread, but pypdf and lxml share the GIL with it)."""

    TICK = 0.01

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopWatch:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.TICK)
            self.worst = max(self.worst, loop.time() - started - self.TICK)


# --- figures -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one request to the LLM carried, read from the stand-in's log."""

    request_chars: int  # system + user message
    passages: int
    passage_chars: int
    history: int  # earlier questions of the thread
    o200k_tokens: int | None = None  # system + user in gpt-4o's encoding (count_tokens); None without bpe-openai
    texts: tuple[str, ...] = field(default=(), repr=False)  # the system and user messages

    @classmethod
    def of(cls, request: Any) -> Sent:
        messages = request.json["messages"]
        system, user = messages[0]["content"], messages[-1]["content"]
        found = _PASSAGE.findall(user)
        history = user.split("<<<END HISTORY", 1)[0].count("\nQ: ") if "<<<HISTORY" in user else 0
        return cls(len(system) + len(user), len(found), sum(len(body) for _, body in found), history,
                   texts=(system, user))


@functools.cache
def o200k_counter() -> Callable[[str], int] | None:
    """Tokens as gpt-4o and gpt-4o-mini count them (o200k_base, from the bench extra's bpe-openai), else None."""
    with warnings.catch_warnings():  # its loader uses importlib.resources' deprecated open_binary
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import bpe_openai  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            return None
        encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: len(encoding.encode(text))


@dataclass(frozen=True)
class Step:
    label: str
    seconds: float
    source_seconds: float  # in the full-text source; 0 when the text came from the database
    llm_seconds: float
    arxiv_requests: int
    outcome: AskOutcome | None
    usage: Usage
    cost_usd: float | None
    sent: Sent
    loop_stall: float = 0.0  # seconds: the event loop's longest wait meanwhile (LoopWatch)
    answer: str = ""
    sources: tuple[str, ...] = ()


@dataclass
class PaperRun:
    paper: BenchPaper
    pace: float
    latency: float
    document_bytes: int = 0
    text_source: str = ""
    chars: int = 0
    blocks: int = 0
    pages: int | None = None
    all_passages: int = 0
    parse_seconds: float = 0.0
    retrieve_seconds: float = 0.0  # cutting the text into passages and BM25 for the first question, alone
    steps: list[Step] = field(default_factory=list)
    naive: Step | None = None
    rss_mb: float = 0.0
    failures: list[str] = field(default_factory=list)

    def step(self, label: str) -> Step:
        return next(s for s in self.steps if s.label == label)

    @property
    def naive_fits(self) -> bool:
        return self.naive is not None and self.naive_tokens + ANSWER_RESERVE <= CONTEXT_TOKENS

    @property
    def naive_tokens(self) -> int:
        """The whole paper's request in tokens: gpt-4o's count when bpe-openai is installed, else the stand-in's."""
        if self.naive is None:
            return 0
        return self.naive.sent.o200k_tokens or self.naive.usage.prompt_tokens


def peak_rss_mb() -> float:
    """The process's peak resident memory since the last reset_peak_rss() (else since it started)."""
    with contextlib.suppress(OSError, AttributeError):
        found = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
        return int(found.group(1)) / 1024  # type: ignore[union-attr]
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def reset_peak_rss() -> None:
    """Start the peak over from the memory in use now (Linux; elsewhere the peak stays the process's)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def count_tokens(runs: Sequence[PaperRun]) -> None:
    """Every request's tokens in gpt-4o's encoding, when bpe-openai is installed. After the runs: the encoding takes
    over 100 MB, which would otherwise count in the papers' peak memory."""
    count = o200k_counter()
    if count is None:
        return
    for run in runs:
        counted = [replace(s, sent=replace(s.sent, o200k_tokens=sum(map(count, s.sent.texts)))) for s in run.steps]
        run.steps = counted
        if run.naive is not None:
            run.naive = replace(run.naive, sent=replace(run.naive.sent,
                                                        o200k_tokens=sum(map(count, run.naive.sent.texts))))


def settings_for(arxiv: ArxivStandIn, llm: OpenAIStandIn, database: str, pace: float) -> Settings:
    return Settings(
        _env_file=None, openai_api_key="bench-key", openai_base_url=llm.base_url, model=MODEL,
        database_url=database, arxiv_html_url=arxiv.html_url, arxiv_pdf_url=arxiv.pdf_url, arxiv_api_delay=pace,
    )


def run_paper(paper: BenchPaper, *, latency: float = 1.0, pace: float = DEFAULT_PACE) -> PaperRun:
    """The cold, warm and follow-up questions and the naive request for ``paper``, on fresh stand-ins and database."""
    run = PaperRun(paper, pace, latency)
    reset_peak_rss()
    run.document_bytes = len(paper.html or paper.pdf or b"")
    with ArxivStandIn() as arxiv, OpenAIStandIn() as llm, tempfile.TemporaryDirectory() as folder:
        if paper.html is not None:
            arxiv.set_html(paper.arxiv_id, paper.html)
        if paper.pdf is not None:
            arxiv.set_pdf(paper.arxiv_id, paper.pdf)
        llm.latency = latency
        settings = settings_for(arxiv, llm, f"sqlite:///{Path(folder) / 'ask.db'}", pace)
        store = Store.open(settings.database_url)
        try:
            asyncio.run(_questions(run, settings, store, arxiv, llm))
        finally:
            store.close()
        if arxiv.errors or llm.errors:
            run.failures.append(f"a stand-in failed: {[*arxiv.errors, *llm.errors][0]!r}")
    run.parse_seconds = _parse_seconds(paper)
    run.rss_mb = peak_rss_mb()
    return run


async def _questions(run: PaperRun, settings: Settings, store: Store, arxiv: ArxivStandIn,
                     llm: OpenAIStandIn) -> None:
    paper = run.paper
    source = TimedSource(full_text_source(settings))
    make_chat = chat_factory(settings)
    assert make_chat is not None  # the settings carry a key
    llm_seconds: list[float] = []
    service = AskService(settings, store, lambda: TimedChat(make_chat(), llm_seconds), source)
    try:
        for label, asked_text, thread in (("cold", paper.first, "t1"), ("warm", paper.other, "t2"),
                                          ("follow-up", paper.follow_up, "t1")):
            question = Question("bench", "T1", "C1", "U1", paper.arxiv_id, asked_text, thread=thread,
                                conversation={thread})
            reads, asked, requests = len(source.seconds), len(llm_seconds), len(arxiv.requests)
            started = time.perf_counter()
            async with LoopWatch() as watch:
                said = await service.ask(question)
            seconds = time.perf_counter() - started
            run.steps.append(_step(label, seconds, sum(source.seconds[reads:]), sum(llm_seconds[asked:]),
                                   len(arxiv.requests) - requests, said, llm, settings, watch.worst))
            if said.outcome is not AskOutcome.ANSWERED:
                run.failures.append(f"{paper.name} {label}: {said.outcome}: {said.text}")
        text = store.full_text(paper.arxiv_id)
        if text is None:
            run.failures.append(f"{paper.name}: no text was kept")
            return
        run.text_source, run.chars, run.blocks, run.pages = str(text.source), text.chars, len(text.blocks), text.pages
        started = time.perf_counter()
        best_passages(passages(text), paper.first)
        run.retrieve_seconds = time.perf_counter() - started
        run.naive = await _naive(run, text, make_chat, settings, llm)
    finally:
        await service.aclose()


def _step(label: str, seconds: float, source_seconds: float, llm_seconds: float, requests: int, said: Answer,
          llm: OpenAIStandIn, settings: Settings, stall: float) -> Step:
    sent = Sent.of(llm.completions[-1]) if llm_seconds else Sent(0, 0, 0, 0)
    return Step(label, seconds, source_seconds, llm_seconds, requests, said.outcome, said.usage,
                cost_of(said.usage, price_for(settings.model, settings.prices)), sent, stall, said.text, said.sources)


async def _naive(run: PaperRun, text: FullText, make_chat: Callable[[], ChatModel], settings: Settings,
                 llm: OpenAIStandIn) -> Step:
    """The whole paper in one request: every passage, the same prompt and question."""
    every = passages(text)
    run.all_passages = len(every)
    user = answer.user_message(text.title, text.arxiv_id, every, run.paper.first)
    chat = make_chat()
    started = time.perf_counter()
    try:
        completion = await chat.complete(answer.system_prompt(), user)
    finally:
        await chat.aclose()
    seconds = time.perf_counter() - started
    cost = cost_of(completion.usage, price_for(settings.model, settings.prices))
    return Step("naive", seconds, 0.0, seconds, 0, None, completion.usage, cost, Sent.of(llm.completions[-1]),
                answer=completion.text)


def _parse_seconds(paper: BenchPaper) -> float:
    """The parser alone on the served bytes (the HTML when the paper has one, else the PDF)."""
    started = time.perf_counter()
    if paper.html is not None:
        parse_latexml(paper.html, paper.arxiv_id, version=1)
    elif paper.pdf is not None:
        parse_pdf(paper.pdf, paper.arxiv_id, version=1)
    return time.perf_counter() - started


# --- report --------------------------------------------------------------------------------------------


def table(run: PaperRun) -> str:
    steps = [*run.steps, *([run.naive] if run.naive else [])]
    rows: list[tuple[str, ...]] = [
        ("", *(s.label for s in steps)),
        ("seconds to the answer", *(f"{s.seconds:.2f}" for s in steps)),
        ("  of which full text (s)", *(f"{s.source_seconds:.2f}" for s in steps)),
        ("  of which LLM (s)", *(f"{s.llm_seconds:.2f}" for s in steps)),
        ("  the rest: passages, BM25, database (s)", *(f"{s.seconds - s.source_seconds - s.llm_seconds:.2f}"
                                                      for s in steps)),
        ("longest event-loop stall (ms)", *(f"{s.loop_stall * 1000:.0f}" if s.label != "naive" else "-"
                                             for s in steps)),
        ("arXiv requests", *(str(s.arxiv_requests) for s in steps)),
        ("prompt tokens (stand-in: 4 chars each)", *(f"{s.usage.prompt_tokens:,}" for s in steps)),
        ("prompt tokens (o200k_base, gpt-4o's)", *("-" if s.sent.o200k_tokens is None else f"{s.sent.o200k_tokens:,}"
                                                   for s in steps)),
        ("  cached", *(f"{s.usage.cached_tokens:,}" for s in steps)),
        ("completion tokens", *(f"{s.usage.completion_tokens:,}" for s in steps)),
        ("passages sent", *(str(s.sent.passages) for s in steps)),
        ("paper characters sent", *(f"{s.sent.passage_chars:,}" for s in steps)),
        ("earlier Q&A sent", *(str(s.sent.history) for s in steps)),
        (f"cost ({MODEL})", *(format_cost(s.cost_usd) for s in steps)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join([row[0].ljust(widths[0]), *cells]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(run: PaperRun) -> str:
    paper, naive = run.paper, run.naive
    pages = f", {run.pages} pages" if run.pages else ""
    lines = [
        f"{paper.name}: {paper.described} ({run.document_bytes / 1e6:.2f} MB served{pages})",
        f"  read from {run.text_source or '?'}: {run.chars:,} characters, {run.blocks} blocks, {run.all_passages} "
        f"passages; alone, parsing took {run.parse_seconds:.2f} s and passages + BM25 {run.retrieve_seconds:.2f} s",
        f"  arXiv paced {run.pace:g} s apart; the LLM answers after {run.latency:g} s",
        "",
        table(run),
        "",
    ]
    cold = run.step("cold")
    verdict = "PASS" if cold.seconds <= TARGET_FIRST_SECONDS else "MISS"
    lines.append(f"  first answer in {cold.seconds:.1f} s, target within {TARGET_FIRST_SECONDS:.0f} s: {verdict}")
    if naive is not None:
        real = naive.sent.o200k_tokens is not None
        counted = "o200k_base" if real else "the stand-in's count; pip install -e '.[bench]' for gpt-4o's"
        ratio = run.naive_tokens / max((cold.sent.o200k_tokens if real else cold.usage.prompt_tokens) or 1, 1)
        lines.append(f"  naive: {run.naive_tokens:,} prompt tokens ({counted}), {ratio:.0f}x the cold question's; "
                     f"{'fits' if run.naive_fits else 'does NOT fit'} a {CONTEXT_TOKENS // 1000}k context "
                     f"(with {ANSWER_RESERVE} tokens for the answer)")
    for step in run.steps:
        lines.append(f"  {step.label}: {_short(step.answer)} [{'; '.join(step.sources)}]")
    lines.append(f"  peak RSS of the process while this paper ran: {run.rss_mb:.0f} MB")
    return "\n".join(lines)


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ask",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--paper", choices=("html", "pdf60", "both"), default="both",
                        help="the long HTML paper, the 60-page PDF, or both (default)")
    parser.add_argument("--latency", type=float, default=1.0, help="LLM stand-in seconds per request (default 1)")
    parser.add_argument("--pace", type=float, default=DEFAULT_PACE,
                        help=f"seconds between arXiv requests (default {DEFAULT_PACE:g}, the bot's default)")
    args = parser.parse_args(argv)
    if args.latency < 0 or args.pace < 0:
        parser.error("--latency and --pace must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    papers: list[Callable[[], BenchPaper]] = []
    if args.paper in ("html", "both"):
        papers.append(long_html_paper)
    if args.paper in ("pdf60", "both"):
        papers.append(lambda: pdf_paper(pdf_pages(4)))
    print(f"Questions about long real papers: arXiv and the LLM ({MODEL}) as local stand-ins over HTTP; "
          f"peak RSS before: {peak_rss_mb():.0f} MB.\n")
    runs = [run_paper(build(), latency=args.latency, pace=args.pace) for build in papers]
    count_tokens(runs)
    failures: list[str] = []
    for run in runs:
        print(report(run), end="\n\n")
        failures += run.failures
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
