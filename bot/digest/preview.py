"""A criteria change tried on the latest posted day before it applies: what scoring it would cost, and how
that day's digest would change. Nothing is posted and no run is recorded; the judgments it asks for are
stored under the new criteria, so applying them later does not pay twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.digest.pipeline import resolve_model
from bot.domain.errors import DigestError
from bot.domain.models import Paper, Profile
from bot.domain.settings import Settings
from bot.domain.taxonomy import feed_key
from bot.learning.personal import posted_ranking
from bot.scoring import local_scorer, prompt
from bot.scoring.llm_scorer import ChatModel, LLMScorer, estimate_cost
from bot.scoring.ranking import rank
from storage.store import Store


@dataclass(frozen=True)
class Estimate:
    day: dt.date
    papers: int  # the day's papers
    missing: int  # of them, not scored under the new criteria yet
    cost_usd: float | None  # of scoring the missing ones; None: the model's price is unknown
    approximate: bool  # the local scorer stands in (no LLM key): free


@dataclass(frozen=True)
class Move:
    paper: Paper
    before: int | None  # its rank in the posted day (by the scores alone); None: it enters
    after: int | None  # its rank under the new criteria; None: it leaves


@dataclass(frozen=True)
class Preview:
    day: dt.date
    moves: list[Move]  # papers that enter, leave or change rank
    kept: int  # papers at the same rank
    unscored: int  # papers the scorer could not judge (left out of the new ranking)
    cost_usd: float | None


def _day_papers(store: Store, profile: Profile, day: dt.date) -> list[Paper]:
    """The papers the posted day was read from, even when the channel's categories changed since."""
    run = store.get_run(profile.id, day)
    feed = store.run_feed(run, feed_key(profile.categories)) if run is not None else None
    announcement = store.load_announcement(feed, day) if feed is not None else None
    return list(announcement.papers) if announcement is not None else []


def estimate(store: Store, settings: Settings, profile: Profile, day: dt.date, criteria: str) -> Estimate:
    """What previewing ``criteria`` on ``day`` would score, and cost, before anything is spent."""
    model, price, approximate = resolve_model(settings)
    papers = _day_papers(store, profile, day)
    known = store.get_judgments((p.arxiv_id for p in papers), prompt.criteria_key(criteria), model)
    missing = [p for p in papers if p.arxiv_id not in known]
    cost = 0.0 if approximate else estimate_cost(missing, criteria, settings.batch_size, price)
    return Estimate(day, len(papers), len(missing), cost, approximate)


async def preview(
    store: Store, settings: Settings, profile: Profile, day: dt.date, criteria: str,
    chat_factory: Callable[[], ChatModel] | None,
) -> Preview:
    """The posted ``day`` re-ranked under ``criteria`` (the profile's thresholds and size), as moves from the
    posted ranking. Stored judgments are reused; only the missing ones are asked, within DIGEST_MAX_COST_USD."""
    model, price, approximate = resolve_model(settings)
    papers = await store.aio(_day_papers, store, profile, day)
    key = prompt.criteria_key(criteria)
    judgments = await store.aio(store.get_judgments, [p.arxiv_id for p in papers], key, model)
    missing = [p for p in papers if p.arxiv_id not in judgments]
    cost: float | None = 0.0
    failed = 0
    if missing and approximate:
        fresh = local_scorer.score_locally(missing, criteria)
        await store.aio(store.save_judgments, list(fresh.values()), key, model)
        judgments.update(fresh)
    elif missing:
        if chat_factory is None:
            raise DigestError("An OPENAI_API_KEY is set but no LLM client was configured.")
        chat = chat_factory()
        scorer = LLMScorer(
            chat, criteria=criteria, batch_size=settings.batch_size, concurrency=settings.concurrency, price=price,
            max_cost_usd=settings.max_cost_usd, structured_output=settings.structured_output,
            on_judgments=lambda fresh: store.aio(store.save_judgments, fresh, key, model),
        )
        try:
            outcome = await scorer.score(missing)
        finally:
            await chat.aclose()
        judgments.update(outcome.judgments)
        cost, failed = outcome.cost_usd, len(missing) - len(outcome.judgments)
    after = rank(papers, judgments, min_relevance=profile.min_relevance, min_novelty=profile.min_novelty,
                 top_n=profile.top_n)
    posted = await store.aio(posted_ranking, store, profile, day)
    return Preview(day, *_diff({i.paper.arxiv_id: i.rank for i in posted},
                               {i.paper.arxiv_id: i.rank for i in after}, papers), failed, cost)


def _diff(before: dict[str, int], after: dict[str, int], papers: Sequence[Paper]) -> tuple[list[Move], int]:
    """Moves (by new rank, then the papers that leave by old rank) and how many papers kept their rank."""
    by_id = {p.arxiv_id: p for p in papers}
    moves = [Move(by_id[i], before.get(i), after.get(i)) for i in {*before, *after}
             if i in by_id and before.get(i) != after.get(i)]
    moves.sort(key=lambda m: (m.after is None, m.after or 0, m.before or 0))
    return moves, sum(1 for i, r in after.items() if before.get(i) == r)
