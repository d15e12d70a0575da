"""Pricing the prefilter replay: every request a replayed day would send, counted and priced at gpt-4o's prices.

Tokens are counted with OpenAI's o200k_base encoding (gpt-4o's) from the ``bpe-openai`` package, whose wheel
carries the encoding file (tiktoken downloads its files at run time, which this machine cannot). Each day's
sent papers go out as ``LLMScorer`` sends them (``plan_batches``), each request carrying the static prompt;
the cache follows OpenAI's rules (``bot.scoring.request_cost``). The reply is the line the prompt asks for:
for a paper the seed's gpt-4o selected, its real scores and comment; for the others, whose scores the data
do not hold, two one-digit scores. The prompt asks for a comment from relevance 7 and novelty 6 on, below
the replay's thresholds (8 and 7): the seed's selections made at 7 and 6 before 2025-03-25 hold 12% more
papers than those reaching 8 and 7, so each day adds that share of its sent selections' count in comments
of the median comment's length (``below_threshold_comments``).

The seed's own figures are its recorded tokens on the same days (``daizedong_daily_stats.csv``), priced
at gpt-4o's list price without a cache, per paper it scanned.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from bot.domain.models import Paper, Usage
from bot.domain.pricing import PRICES, batch_cost_of, cost_of
from bot.learning.evaluation import LabelledRow
from bot.scoring import request_cost

MODEL = "gpt-4o"
PRICE = PRICES[MODEL]
STATS = "daizedong_daily_stats.csv"
LAST_DAYS = 6


@lru_cache(maxsize=1)
def _encoding() -> object:
    try:
        import bpe_openai  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise SystemExit("counting gpt-4o tokens needs bpe-openai: .venv/bin/pip install -e '.[bench]'") from exc
    return bpe_openai.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Judged:
    """A replayed paper as the data know it: the paper, and the seed's verdict when it selected it."""

    paper: Paper
    label: int
    relevance: int | None = None
    novelty: int | None = None
    comment: str = ""


def load_judged(path: Path) -> dict[str, Judged]:
    """The dw join's papers (categories, authors) with the seed's scores and comments for its selections."""
    found: dict[str, Judged] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            categories = tuple(row.get("categories") or ())
            paper = Paper(row["arxiv_id"], row["title"], tuple(row.get("authors") or ()), row["abstract"],
                          categories=categories, primary_category=categories[0] if categories else "")
            found[paper.arxiv_id] = Judged(
                paper, int(bool(row.get("selected_by_daizedong"))), row.get("relevance"), row.get("novelty"),
                row.get("llm_comment") or "",
            )
    return found


def day_judged(rows: Sequence[LabelledRow], day: dt.date, known: dict[str, Judged]) -> list[Judged]:
    """A replayed day's judged papers with the replay's labels (the thresholds drop a few of the seed's)."""
    found = []
    for row in rows:
        if row.date == day and row.complete:
            base = known.get(row.arxiv_id) or Judged(Paper(row.arxiv_id, row.title, row.authors, row.abstract), 0)
            found.append(Judged(base.paper, row.label, base.relevance, base.novelty, base.comment))
    return found


def below_threshold_comments(path: Path, until: dt.date, low: tuple[int, int], high: tuple[int, int]) -> float:
    """Papers commented at ``low`` thresholds but not selected at ``high`` ones, per paper selected at ``high``,
    from the seed's selections before ``until`` (made at the low thresholds)."""
    at_low = at_high = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line) if line.strip() else {}
            relevance, novelty = row.get("relevance"), row.get("novelty")
            if relevance is None or novelty is None or row["date"] >= until.isoformat():
                continue
            at_low += relevance >= low[0] and novelty >= low[1]
            at_high += relevance >= high[0] and novelty >= high[1]
    return (at_low - at_high) / at_high if at_high else 0.0


@dataclass(frozen=True)
class DayCost:
    day: dt.date
    papers: int
    sent: int | None  # None: not known (the seed's own runs)
    usage: Usage
    cost: float
    positives: int | None
    recalled: int | None


def price_day(
    day: dt.date, judged: Sequence[Judged], sent_ids: Iterable[str], criteria: str, *,
    batch_size: int, first_wave: int, reply: Callable[[Judged], str], extra_comments: float = 0.0,
    comment_tokens: int = 0,
) -> DayCost:
    sent_set = set(sent_ids)
    sent = [j for j in judged if j.paper.arxiv_id in sent_set]
    by_id = {j.paper.arxiv_id: j for j in sent}
    usages = request_cost.request_usages(
        [j.paper for j in sent], criteria, batch_size=batch_size, first_wave=first_wave, count=count_tokens,
        reply=lambda p: reply(by_id[p.arxiv_id]),
    )
    total = Usage()
    for usage in usages:
        total.add(usage)
    total.completion_tokens += round(extra_comments * sum(j.label for j in sent)) * comment_tokens
    return DayCost(day, len(judged), len(sent), total, cost_of(total, PRICE) or 0.0,
                   positives=sum(j.label for j in judged), recalled=sum(j.label for j in sent))


def batch_priced(day: DayCost) -> DayCost:
    """The same requests through the Batch API: half the live price, and no cache hit counted."""
    usage = Usage(day.usage.prompt_tokens, 0, day.usage.completion_tokens, day.usage.requests)
    return replace(day, usage=usage, cost=batch_cost_of(usage, PRICE) or 0.0)


def seed_days(path: Path, days: Sequence[dt.date]) -> list[DayCost]:
    """The seed's recorded runs on ``days``: its tokens, per paper it scanned (no cache: list price)."""
    wanted = {d.isoformat() for d in days}
    found = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["date"] in wanted and row["prompt_tokens"]:
                usage = Usage(prompt_tokens=int(row["prompt_tokens"]), completion_tokens=int(row["completion_tokens"]))
                found.append(DayCost(dt.date.fromisoformat(row["date"]), int(row["total_scanned_papers"]), None,
                                     usage, cost_of(usage, PRICE) or 0.0, None, None))
    return sorted(found, key=lambda d: d.day)


def _pct(part: int | None, whole: int | None) -> str:
    return "–" if part is None or not whole else f"{100 * part / whole:.1f}%"


def _row(label: str, days: Sequence[DayCost]) -> tuple[str, ...]:
    papers = sum(d.papers for d in days)
    known = all(d.sent is not None for d in days)
    sent = sum(d.sent or 0 for d in days) if known else None
    tokens = sum(d.usage.total_tokens for d in days)
    cost = sum(d.cost for d in days)
    positives = sum(d.positives or 0 for d in days) if known else None
    recalled = sum(d.recalled or 0 for d in days) if known else None
    per_sent = f"{tokens / sent:,.0f}" if sent else "–"
    return (
        label, f"{papers:,}", f"{sent:,}" if sent is not None else "–", _pct(sent, papers),
        f"{tokens / papers:,.0f}" if papers else "–", per_sent,
        f"{sum(d.usage.cached_tokens for d in days):,}", f"${cost:.4f}",
        f"${1000 * cost / papers:.3f}" if papers else "–",
        f"{recalled}/{positives} {_pct(recalled, positives)}" if positives is not None else "(its own)",
    )


HEADER = ("day", "papers", "sent", "share", "tok/paper", "tok/sent", "cached", "cost", "$/1000", "recall")


def cost_rows(days: Sequence[DayCost]) -> list[tuple[str, ...]]:
    """Per day, then all days, then the last six (the cold start shows as the first days' figures)."""
    rows = [HEADER, *(_row(str(d.day), [d]) for d in days), _row(f"all {len(days)} days", days)]
    if len(days) > LAST_DAYS:
        rows.append(_row(f"last {LAST_DAYS} days", days[-LAST_DAYS:]))
    return rows


def per_thousand(days: Sequence[DayCost]) -> float:
    papers = sum(d.papers for d in days)
    return 1000 * sum(d.cost for d in days) / papers if papers else 0.0


def recall_of(days: Sequence[DayCost]) -> float | None:
    positives = sum(d.positives or 0 for d in days)
    return sum(d.recalled or 0 for d in days) / positives if positives else None
