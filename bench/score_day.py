"""Benchmark: scoring a 1,000-paper arXiv day, our way versus the seed's way, against a local stand-in.

What it measures. One day of 1,000 real arXiv papers (the first 1,000 of ``bench.shared_data.all_papers()``)
is scored twice against ``tests.support.openai_server.OpenAIStandIn``, a local OpenAI-compatible server that
answers every request after a fixed latency (1.0 s by default) and reports token usage, including prompt
tokens it would serve from the provider's prompt cache:

* "ours": ``bot.scoring.llm_scorer.LLMScorer`` over ``adapters.llm.OpenAIChat`` (batches of 25, 8 requests in flight;
  the static prompt in the system message, so it is cacheable, and the papers in the user message);
* "seed": gpt_paper_assistant's loop: one request at a time, batches of 4 papers, the whole prompt (base
  prompt, criteria, rubric, papers, instructions) in ONE user message, so nothing is ever cacheable,
  through the synchronous ``openai.OpenAI`` client, replies read with ``bot.scoring.replies.parse_reply``.

Then the TL;DR pass (``bot.scoring.tldr``) runs over the papers our scores post at the default thresholds
(R >= 7, N >= 6, no cap), through the same client and stand-in, and its cost is reported as a share of the
day's (scoring plus TL;DRs).

For both it prints requests, wall time, papers/s, prompt / cached / completion tokens per paper, the cost
at gpt-4o-mini list prices, and how many papers got a score; then the speed-up (seed wall / ours wall)
against the targets (ours at most 15 s for 1,000 papers, at least 20x faster than the seed), the process's
peak RSS and the tracemalloc peak during our run. Missing a target prints MISS; the exit status is non-zero
only on real failures (papers left unscored, papers the stand-in never saw, stand-in crashes).

The seed's way takes over four minutes for the full day at 1 s per request. ``--seed-sample N`` scores
only its first N papers and extrapolates its wall time (and request count and cost) linearly to the day;
the output marks those figures as extrapolated.

Run from the repository root:

    .venv/bin/python -m bench.score_day                    # full comparison (about 5 minutes)
    .venv/bin/python -m bench.score_day --seed-sample 40   # quick: seed's way on 40 papers, extrapolated
    .venv/bin/python -m bench.score_day --latency 0.5 --batch-size 25 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field

import openai

import prompts
from adapters.llm import OpenAIChat
from bench.shared_data import all_papers
from bot.domain.models import Judgment, Paper, Usage
from bot.domain.pricing import cost_of, format_cost, price_for
from bot.scoring import prompt
from bot.scoring.llm_scorer import LLMScorer, ScoreOutcome
from bot.scoring.ranking import rank
from bot.scoring.replies import parse_reply
from bot.scoring.tldr import TldrOutcome, write_tldrs
from tests.support.openai_server import OpenAIStandIn

DAY_SIZE = 1_000
MODEL = "gpt-4o-mini"
SEED_BATCH_SIZE = 4
TARGET_OURS_SECONDS = 15.0
TARGET_SPEEDUP = 20.0


@dataclass
class Run:
    """What one way of scoring did: how many papers, requests and tokens, how long, how many scored."""

    name: str
    papers: int
    requests: int = 0
    wall_s: float = 0.0
    usage: Usage = field(default_factory=Usage)
    scored: int = 0
    extrapolated: bool = False
    judgments: dict[str, Judgment] = field(default_factory=dict)

    @property
    def papers_per_s(self) -> float:
        return self.papers / self.wall_s if self.wall_s > 0 else math.inf

    def per_paper(self, tokens: int) -> float:
        return tokens / self.papers if self.papers else 0.0

    @property
    def cost_usd(self) -> float | None:
        return cost_of(self.usage, price_for(MODEL))

    def scaled_to(self, papers: int) -> Run:
        """This run extrapolated linearly to ``papers`` papers (wall time, requests and tokens)."""
        factor = papers / self.papers
        usage = Usage(
            prompt_tokens=round(self.usage.prompt_tokens * factor),
            cached_tokens=round(self.usage.cached_tokens * factor),
            completion_tokens=round(self.usage.completion_tokens * factor),
            requests=math.ceil(papers / SEED_BATCH_SIZE),
        )
        return Run(
            name=f"{self.name} (extrapolated)",
            papers=papers,
            requests=math.ceil(papers / SEED_BATCH_SIZE),
            wall_s=self.wall_s * factor,
            usage=usage,
            scored=0,
            extrapolated=True,
        )


def build_day(size: int = DAY_SIZE) -> list[Paper]:
    rows = all_papers()[:size]
    if len(rows) < size:
        raise SystemExit(f"the shared data holds only {len(rows)} papers; {size} are needed")
    return [Paper.from_dict(row) for row in rows]


# --- our way ------------------------------------------------------------------------------------------


async def _score_ours(scorer: LLMScorer, chat: OpenAIChat, papers: Sequence[Paper]) -> ScoreOutcome:
    try:
        return await scorer.score(papers)
    finally:
        await chat.aclose()


def run_ours(standin: OpenAIStandIn, papers: Sequence[Paper], batch_size: int, concurrency: int) -> Run:
    chat = OpenAIChat(api_key="bench", model=MODEL, base_url=standin.base_url, max_retries=2)
    scorer = LLMScorer(
        chat,
        criteria=prompts.default_criteria(),
        batch_size=batch_size,
        concurrency=concurrency,
        price=price_for(MODEL),
    )
    before = len(standin.completions)
    start = time.perf_counter()
    outcome = asyncio.run(_score_ours(scorer, chat, papers))
    wall = time.perf_counter() - start
    run = Run("ours", papers=len(papers), requests=len(standin.completions) - before, wall_s=wall)
    run.usage = outcome.usage
    run.scored = len(outcome.judgments)
    run.judgments = outcome.judgments
    if outcome.failed:
        reasons = sorted(set(outcome.failed.values()))
        print(f"ours: {len(outcome.failed)} papers unscored: {'; '.join(reasons)}", file=sys.stderr)
    if outcome.flagged:
        print(f"ours: {len(outcome.flagged)} papers look like prompt injection and were scored alone")
    return run


def run_tldrs(standin: OpenAIStandIn, papers: Sequence[Paper], judgments: dict[str, Judgment]) -> TldrOutcome:
    """The TL;DR pass over the papers the day's digest posts at the default thresholds."""
    posted = [item.paper for item in rank(papers, judgments, min_relevance=7, min_novelty=6)]
    chat = OpenAIChat(api_key="bench", model=MODEL, base_url=standin.base_url, max_retries=2)

    async def go() -> TldrOutcome:
        try:
            return await write_tldrs(chat, posted, language="en", price=price_for(MODEL))
        finally:
            await chat.aclose()

    return asyncio.run(go())


# --- the seed's way -----------------------------------------------------------------------------------


def seed_prompt(batch: Sequence[Paper]) -> str:
    """The seed's single user message: base prompt, criteria, rubric, papers, then the instructions."""
    return "\n\n".join(
        [
            prompts.load("base_prompt"),
            prompts.default_criteria().strip(),
            prompts.load("score_criteria"),
            prompt.papers_message(batch),
            prompts.load("postfix_prompt"),
        ]
    )


def run_seed(standin: OpenAIStandIn, papers: Sequence[Paper]) -> Run:
    client = openai.OpenAI(api_key="bench", base_url=standin.base_url, max_retries=2)
    run = Run("seed", papers=len(papers))
    before = len(standin.completions)
    start = time.perf_counter()
    try:
        for i in range(0, len(papers), SEED_BATCH_SIZE):
            batch = papers[i : i + SEED_BATCH_SIZE]
            response = client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": seed_prompt(batch)}],
                temperature=0,
            )
            if response.usage is not None:
                details = response.usage.prompt_tokens_details
                run.usage.add(
                    Usage(
                        prompt_tokens=response.usage.prompt_tokens or 0,
                        cached_tokens=(details.cached_tokens or 0) if details else 0,
                        completion_tokens=response.usage.completion_tokens or 0,
                        requests=1,
                    )
                )
            text = (response.choices[0].message.content or "") if response.choices else ""
            found, _notes = parse_reply(text, (p.arxiv_id for p in batch))
            run.scored += len(found)
    finally:
        client.close()
    run.wall_s = time.perf_counter() - start
    run.requests = len(standin.completions) - before
    return run


# --- report -------------------------------------------------------------------------------------------


def _table(runs: Sequence[Run]) -> str:
    rows: list[tuple[str, ...]] = [("", *(r.name for r in runs))]
    rows += [
        ("papers", *(f"{r.papers:,}" for r in runs)),
        ("requests", *(f"{r.requests:,}" + (" *" if r.extrapolated else "") for r in runs)),
        ("wall time (s)", *(f"{r.wall_s:,.2f}" + (" *" if r.extrapolated else "") for r in runs)),
        ("papers/s", *(f"{r.papers_per_s:,.1f}" for r in runs)),
        ("prompt tokens / paper", *(f"{r.per_paper(r.usage.prompt_tokens):,.1f}" for r in runs)),
        ("cached tokens / paper", *(f"{r.per_paper(r.usage.cached_tokens):,.1f}" for r in runs)),
        ("completion tokens / paper", *(f"{r.per_paper(r.usage.completion_tokens):,.1f}" for r in runs)),
        (f"cost at {MODEL} prices", *(format_cost(r.cost_usd) + (" *" if r.extrapolated else "") for r in runs)),
        ("scored papers", *("—" if r.extrapolated else f"{r.scored:,}" for r in runs)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.score_day", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--latency", type=float, default=1.0, help="stand-in seconds per request (default 1.0)")
    parser.add_argument("--batch-size", type=int, default=25, help="papers per request, our way (default 25)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, our way (default 8)")
    parser.add_argument(
        "--seed-sample",
        type=int,
        default=0,
        metavar="N",
        help="score only the first N papers the seed's way and extrapolate to the day (default 0: whole day)",
    )
    args = parser.parse_args(argv)
    if args.latency < 0:
        parser.error("--latency must be >= 0")
    if args.batch_size < 1 or args.concurrency < 1:
        parser.error("--batch-size and --concurrency must be >= 1")
    if not 0 <= args.seed_sample <= DAY_SIZE:
        parser.error(f"--seed-sample must be between 0 and {DAY_SIZE}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    papers = build_day()
    seed_papers = papers[: args.seed_sample] if args.seed_sample else papers
    failures: list[str] = []

    print(
        f"Scoring a {len(papers):,}-paper day against the local OpenAI stand-in ({MODEL}, "
        f"{args.latency:g} s per request)."
    )
    print(
        f"ours: batches of {args.batch_size}, {args.concurrency} in flight; "
        f"seed: sequential batches of {SEED_BATCH_SIZE}, {len(seed_papers):,} papers."
    )

    with OpenAIStandIn() as standin:
        standin.latency = args.latency

        tracemalloc.start()
        tracemalloc.reset_peak()
        ours = run_ours(standin, papers, args.batch_size, args.concurrency)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        seen_ours = {pid for ids in standin.paper_ids_per_request for pid in ids}
        tldrs = run_tldrs(standin, papers, ours.judgments)

        standin.clear()
        seed = run_seed(standin, seed_papers)
        seen_seed = {pid for ids in standin.paper_ids_per_request for pid in ids}
        if standin.errors:
            failures.append(f"the stand-in crashed {len(standin.errors)} times: {standin.errors[0]!r}")

    if ours.scored < len(papers):
        failures.append(f"ours scored {ours.scored:,} of {len(papers):,} papers")
    if seed.scored < len(seed_papers):
        failures.append(f"the seed's way scored {seed.scored:,} of {len(seed_papers):,} papers")
    if missing := {p.arxiv_id for p in papers} - seen_ours:
        failures.append(f"{len(missing):,} papers never reached the stand-in our way")
    if missing := {p.arxiv_id for p in seed_papers} - seen_seed:
        failures.append(f"{len(missing):,} papers never reached the stand-in the seed's way")

    runs = [ours, seed]
    seed_day = seed
    if args.seed_sample:
        seed.name = f"seed ({len(seed_papers)} measured)"
        seed_day = seed.scaled_to(len(papers))
        seed_day.name = f"seed ({len(papers):,}, extrapolated)"
        runs.append(seed_day)

    print()
    print(_table(runs))
    if args.seed_sample:
        print(
            f"* extrapolated: the seed's way scored only the first {len(seed_papers)} papers; its wall time, "
            f"requests and cost are scaled linearly to {len(papers):,} papers."
        )

    speedup = seed_day.wall_s / ours.wall_s if ours.wall_s > 0 else math.inf
    basis = " (seed wall time extrapolated)" if args.seed_sample else ""
    ours_cost, seed_cost = ours.cost_usd, seed_day.cost_usd
    print()
    print(f"speed-up (seed wall / ours wall): {speedup:,.1f}x{basis}")
    if ours_cost and seed_cost:
        print(f"cost ratio (seed / ours): {seed_cost / ours_cost:,.1f}x")
    tldr_cost, day_cost = tldrs.cost_usd or 0.0, (ours_cost or 0.0) + (tldrs.cost_usd or 0.0)
    print(
        f"TL;DR pass: {len(tldrs.tldrs):,} posted papers, {tldrs.usage.requests} requests, "
        f"{tldrs.usage.total_tokens:,} tokens, {format_cost(tldr_cost)} = "
        f"{100 * tldr_cost / day_cost if day_cost else 0.0:.1f}% of the day's {format_cost(day_cost)}"
    )
    print()
    print("targets:")
    print(
        f"  {_verdict(ours.wall_s <= TARGET_OURS_SECONDS)}  ours <= {TARGET_OURS_SECONDS:g} s for "
        f"{len(papers):,} papers: {ours.wall_s:.2f} s"
    )
    print(
        f"  {_verdict(speedup >= TARGET_SPEEDUP)}  >= {TARGET_SPEEDUP:g}x faster than the seed: {speedup:,.1f}x{basis}"
    )
    print()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"peak RSS of the process (ru_maxrss): {rss_mib:,.1f} MiB")
    print(f"tracemalloc peak during our run (whole process, stand-in included): {traced_peak / 2**20:,.1f} MiB")

    if failures:
        print()
        for failure in failures:
            print(f"FAILURE: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
