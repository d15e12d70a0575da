"""Which papers make the digest and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
