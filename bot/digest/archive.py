"""Past digests rebuilt from the database, for the archive site: the day's stored announcement and scores,
ranked again with the thresholds in force that day, in the order the day was posted in.

Thresholds are not stored per run; the caller passes those it knows (the day's JSON file records them) and
the profile's current ones stand in for the rest. The feedback adjustment's order and explanations are
stored per paper (DecisionRow) and applied on top of :func:`bot.scoring.ranking.rank`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from bot.domain.models import Digest, Profile, RankedPaper, Usage
from bot.scoring import local_scorer
from bot.scoring.ranking import rank
from storage.archive import profile_runs, run_feed
from storage.store import Store, feed_key
from storage.tables import DecisionRow, RunRow

Thresholds = tuple[int, int]  # minimum relevance, minimum novelty


def stored_digests(
    store: Store, profile: Profile, thresholds: Mapping[dt.date, Thresholds] | None = None
) -> list[Digest]:
    """One digest per day the profile has a run for and papers were announced, oldest first."""
    known = thresholds or {}
    digests = []
    for run in profile_runs(store.engine, profile.id):
        digest = stored_digest(store, profile, run, known.get(run.date))
        if digest is not None:
            digests.append(digest)
    return digests


def stored_digest(store: Store, profile: Profile, run: RunRow, thresholds: Thresholds | None = None) -> Digest | None:
    """The run's day as it was ranked; None when its announcement is not stored or had no papers."""
    feed = run_feed(store.engine, run, feed_key(profile.categories))
    announcement = store.load_announcement(feed, run.date) if feed else None
    if announcement is None or announcement.is_empty:
        return None
    papers = list(announcement.papers)
    judgments = store.get_judgments((p.arxiv_id for p in papers), run.criteria_key, run.model)
    min_relevance, min_novelty = thresholds or (profile.min_relevance, profile.min_novelty)
    ranked = as_posted(
        rank(papers, judgments, min_relevance=min_relevance, min_novelty=min_novelty, top_n=profile.top_n),
        store.decisions(profile.id, run.date),
    )
    unscored = [(p, "not scored") for p in papers if p.arxiv_id not in judgments]
    return Digest(
        date=run.date,
        profile=profile.name,
        model=run.model,
        approximate=run.model == local_scorer.MODEL_NAME or any(j.approximate for j in judgments.values()),
        total_arxiv=len(papers),
        scanned=len(papers) - len(unscored),
        ranked=ranked,
        unscored=unscored,
        usage=Usage(run.prompt_tokens, run.cached_tokens, run.completion_tokens, run.requests),
        cost_usd=run.cost_usd,
        prompt="",  # the prompt of a past day is not stored; the site does not show it
        min_relevance=min_relevance,
        min_novelty=min_novelty,
    )


def as_posted(ranked: list[RankedPaper], decisions: Mapping[str, DecisionRow]) -> list[RankedPaper]:
    """The ranking in the order the feedback adjustment gave it that day, with its adjustments and explanations.
    Papers the day did not post (other thresholds) follow in score order."""

    def posted(item: RankedPaper) -> tuple[int, int]:
        row = decisions.get(item.paper.arxiv_id)
        return (row.rank if row is not None and row.rank is not None else len(ranked) + item.rank, item.rank)

    result = []
    for number, item in enumerate(sorted(ranked, key=posted), start=1):
        row = decisions.get(item.paper.arxiv_id)
        if row is not None:
            item = replace(item, adjustment=row.adjustment, explanation=row.explanation)
        result.append(replace(item, rank=number))
    return result
