"""Benchmark: questions about a long real paper, end to end, against local stand-ins of arXiv and the LLM.

What it measures. The command core as ``bot.bootstrap.build_core`` builds it answers ``/arxiv ask`` about real
arXiv papers (tests/fixtures/arxiv, see SOURCES.md there): the LaTeXML HTML rendering of 2501.11120v1 (about
26,000 words with its appendices) and, for the PDF path, 2501.10120v1 (15 pages, no HTML served). arXiv is
``tests.support.arxiv_server.ArxivStandIn`` serving those files; the LLM is
``tests.support.openai_server.OpenAIStandIn``, answering every request after a fixed latency (1.0 s by default)
and reporting token usage. The full text goes through the real path: ArxivFullText (httpx), the parser, the
database, the passages and BM25, the openai client.

For each paper it prints the words and passages read, the time to the first answer (reading and parsing the
paper included), the mean time of the later answers (the kept text reused), prompt and completion tokens per
answer and the cost per answer at gpt-4o-mini list prices, against the target (first answer within a minute).
The exit status is non-zero when a question got no answer.

Run from the repository root:

    .venv/bin/python -m bench.ask_paper                 # 1 s per LLM request, five questions a paper
    .venv/bin/python -m bench.ask_paper --latency 0 --questions 2
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.asking.passages import passages
from bot.bootstrap import build_core
from bot.chat.commands import CommandCore, parse
from bot.domain.asks import Ask
from bot.domain.platform import Caller
from bot.domain.pricing import format_cost
from bot.domain.settings import Settings
from bot.domain.statuses import AskOutcome
from storage.store import Store
from tests.support import ArxivStandIn, make_paper
from tests.support.fakes import PlainMarkup
from tests.support.openai_server import OpenAIStandIn

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures" / "arxiv"
TARGET_FIRST_SECONDS = 60.0
QUESTIONS = {
    "2501.11120": ["What is Quanta-Lingua?", "Which models do they finetune?", "How do they elicit the trigger?",
                   "What does Figure 3 show?", "What dataset do they use?"],
    "2501.10120": ["What is RealScholarQuery?", "Which baselines do they compare against?",
                   "What does Table 2 report?", "How is the crawler trained?", "What dataset do they use?"],
}


@dataclass
class PaperRun:
    arxiv_id: str
    source: str = ""
    words: int = 0
    passages: int = 0
    seconds: list[float] = field(default_factory=list)  # each question's, in order
    asks: list[Ask] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for ask in self.asks if ask.outcome is AskOutcome.ANSWERED)


def _caller() -> Caller:
    async def is_admin() -> bool:
        return False

    return Caller("bench", "T1", "C1", "U1", is_admin, "workspace admins")


async def _ask_all(core: CommandCore, arxiv_id: str, questions: Sequence[str]) -> list[float]:
    seconds = []
    try:
        for question in questions:
            started = time.perf_counter()
            await core.execute(_caller(), parse(f"ask {arxiv_id} {question}"), PlainMarkup())
            seconds.append(time.perf_counter() - started)
    finally:
        await core.aclose()
    return seconds


def run(latency: float, questions: int) -> list[PaperRun]:
    runs = []
    with ArxivStandIn() as arxiv, OpenAIStandIn() as llm, tempfile.TemporaryDirectory() as folder:
        llm.latency = latency
        arxiv.add_papers([make_paper("2501.11120", title="Tell me about yourself"),
                          make_paper("2501.10120", title="PaSa")])
        arxiv.set_html("2501.11120", (FIXTURES / "html" / "2501.11120v1.html").read_bytes())
        arxiv.set_pdf("2501.10120", (FIXTURES / "pdf" / "2501.10120v1.pdf").read_bytes())
        settings = Settings(
            _env_file=None, openai_api_key="bench-key", openai_base_url=llm.base_url,
            database_url=f"sqlite:///{folder}/bench.db", arxiv_api_url=arxiv.api_url, arxiv_html_url=arxiv.html_url,
            arxiv_pdf_url=arxiv.pdf_url, arxiv_api_delay=0.0, ask_per_hour=1000, ask_channel_per_hour=1000,
        )
        store = Store.open(settings.database_url)
        try:
            for arxiv_id, asked in QUESTIONS.items():
                paper = PaperRun(arxiv_id)
                paper.seconds = asyncio.run(_ask_all(build_core(settings, store), arxiv_id, asked[:questions]))
                text = store.full_text(arxiv_id)
                if text is not None:
                    paper.source = text.source
                    paper.words = sum(len(block.text.split()) for block in text.blocks)
                    paper.passages = len(passages(text))
                paper.asks = [a for a in store.thread_asks("bench", "C1", [""], limit=100) if a.arxiv_id == arxiv_id]
                runs.append(paper)
        finally:
            store.close()
    return runs


def report(runs: Sequence[PaperRun], latency: float) -> str:
    lines = [f"Questions about real papers, end to end (LLM stand-in: {latency:g} s per request, gpt-4o-mini prices)"]
    for paper in runs:
        answered = [a for a in paper.asks if a.outcome is AskOutcome.ANSWERED]
        prompt = statistics.mean(a.usage.prompt_tokens for a in answered) if answered else 0
        completion = statistics.mean(a.usage.completion_tokens for a in answered) if answered else 0
        cost = statistics.mean(a.cost_usd or 0.0 for a in answered) if answered else None
        later = statistics.mean(paper.seconds[1:]) if len(paper.seconds) > 1 else float("nan")
        first = paper.seconds[0] if paper.seconds else float("nan")
        verdict = "PASS" if first <= TARGET_FIRST_SECONDS else "MISS"
        lines += [
            f"{paper.arxiv_id} ({paper.source or 'no text'}, {paper.words:,} words, {paper.passages} passages): "
            f"{paper.answered} of {len(paper.seconds)} answered",
            f"  first answer {first:.2f} s (target ≤ {TARGET_FIRST_SECONDS:.0f} s: {verdict}); later answers "
            f"{later:.2f} s on average",
            f"  per answer: {prompt:,.0f} prompt tokens, {completion:,.0f} completion tokens, {format_cost(cost)}",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ask_paper", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=1.0, help="stand-in seconds per LLM request (default 1.0)")
    parser.add_argument("--questions", type=int, default=5, choices=range(1, 6), help="questions a paper (1–5)")
    args = parser.parse_args(argv)
    if args.latency < 0:
        parser.error("--latency must be >= 0")
    runs = run(args.latency, args.questions)
    print(report(runs, args.latency))
    unanswered = sum(len(p.seconds) - p.answered for p in runs)
    if unanswered:
        print(f"FAILED: {unanswered} question(s) got no answer", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
