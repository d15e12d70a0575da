"""Which papers make the digest and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from bot.domain.models import Judgment, Paper, RankedPaper


def rank_key(judgment: Judgment, adjustment: float = 0.0) -> tuple[float, int]:
    """The ranking policy, smallest first: R+N (plus the feedback adjustment, if any), then relevance."""
    return -(judgment.score + adjustment), -judgment.relevance


def rank(
    papers: Iterable[Paper],
    judgments: Mapping[str, Judgment],
    *,
    min_relevance: int,
    min_novelty: int,
    top_n: int | None = None,
) -> list[RankedPaper]:
    """Papers at or above both thresholds, in ``rank_key`` order (the seed's: relevance + novelty, then relevance).

    Ties keep the feed's order, so a digest is stable from one run to the next.
    """
    kept = [
        (paper, judgments[paper.arxiv_id])
        for paper in papers
        if paper.arxiv_id in judgments
        and judgments[paper.arxiv_id].relevance >= min_relevance
        and judgments[paper.arxiv_id].novelty >= min_novelty
    ]
    kept.sort(key=lambda pair: rank_key(pair[1]))
    if top_n is not None:
        kept = kept[:top_n]
    return [RankedPaper(paper=p, judgment=j, rank=i) for i, (p, j) in enumerate(kept, start=1)]


def with_followed(
    ranked: Iterable[RankedPaper], papers: Iterable[Paper], judgments: Mapping[str, Judgment],
    followed: Mapping[str, tuple[str, ...]],
) -> list[RankedPaper]:
    """Papers by followed authors (``followed``: arXiv ID → the followed names on it) first and marked, whatever
    their scores and ``top_n``, in ``rank_key`` order; then the rest in the order they had. Ranks renumbered.

    A followed author's paper without a judgment (its scoring failed) is not ranked: the digest lists it as unscored.
    """
    ranked = list(ranked)
    present = {item.paper.arxiv_id for item in ranked}
    first = [
        replace(item, followed=followed[item.paper.arxiv_id]) for item in ranked if item.paper.arxiv_id in followed
    ]
    first += [
        RankedPaper(paper=p, judgment=judgments[p.arxiv_id], rank=0, followed=followed[p.arxiv_id])
        for p in papers if p.arxiv_id in followed and p.arxiv_id in judgments and p.arxiv_id not in present
    ]
    first.sort(key=lambda item: rank_key(item.judgment, item.adjustment))  # stable: ties keep their order
    rest = [item for item in ranked if item.paper.arxiv_id not in followed]
    return [replace(item, rank=number) for number, item in enumerate(first + rest, start=1)]
