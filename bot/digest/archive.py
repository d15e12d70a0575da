"""Past digests rebuilt from the database, for the archive site: the day's stored announcement and scores,
ranked again with the thresholds its run used, in the order the day was posted in.

Runs record their thresholds since revision 0006; for older runs the profile's current ones stand in. The
feedback adjustment's order and explanations are stored per paper (a Decision) and applied on top of
:func:`bot.scoring.ranking.rank`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.digest.pipeline import followed_papers, with_tldrs
from bot.domain.models import Digest, Profile, RankedPaper, Usage
from bot.domain.runs import Run
from bot.domain.taxonomy import feed_key
from bot.domain.training import Decision
from bot.scoring import local_scorer
from bot.scoring.ranking import rank, with_followed
from storage.store import Store


def stored_digests(store: Store, profile: Profile) -> list[Digest]:
    """One digest per day the profile has a run for and papers were announced, oldest first."""
    digests = []
    for run in store.profile_runs(profile.id):
        digest = stored_digest(store, profile, run)
        if digest is not None:
            digests.append(digest)
    return digests


def stored_digest(store: Store, profile: Profile, run: Run) -> Digest | None:
    """The run's day as it was ranked; None when its announcement is not stored or had no papers."""
    feed = store.run_feed(run, feed_key(profile.categories))
    announcement = store.load_announcement(feed, run.date) if feed else None
    if announcement is None or announcement.is_empty:
        return None
    papers = list(announcement.papers)
    judgments = store.get_judgments((p.arxiv_id for p in papers), run.criteria_key, run.model)
    min_relevance = profile.min_relevance if run.min_relevance is None else run.min_relevance
    min_novelty = profile.min_novelty if run.min_novelty is None else run.min_novelty
    ranked = as_posted(
        rank(papers, judgments, min_relevance=min_relevance, min_novelty=min_novelty, top_n=profile.top_n),
        store.decisions(profile.id, run.date),
    )
    # The authors followed now: which ones were followed on that day is not stored.
    ranked = with_followed(ranked, papers, judgments, followed_papers(store, profile, papers))
    ranked = _with_stored_tldrs(store, profile, run, ranked)
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


def _with_stored_tldrs(store: Store, profile: Profile, run: Run, ranked: list[RankedPaper]) -> list[RankedPaper]:
    """The TL;DRs (and translated comments) the day's digest carried, in the profile's language by the run's
    model, where stored."""
    return with_tldrs(ranked, store.get_tldrs((item.paper.arxiv_id for item in ranked), profile.language, run.model))


def as_posted(ranked: list[RankedPaper], decisions: Mapping[str, Decision]) -> list[RankedPaper]:
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
