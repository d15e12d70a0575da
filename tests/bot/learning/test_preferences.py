"""The feedback re-ranking orders papers by the ranking's own key: with nothing to adjust, it gives
back the LLM ranking's order."""

from __future__ import annotations

import dataclasses

from bot.domain.models import Judgment, Paper
from bot.learning import preferences
from bot.scoring.ranking import rank


def test_without_reactions_the_re_ranking_sorts_back_to_the_rankings_order():
    topics = ["sparse attention", "protein folding", "galaxy surveys", "soil moisture", "auction design"]
    papers = [Paper(f"2503.{i:05d}", f"On {t}", ("A",), f"We study {t}.") for i, t in enumerate(topics)]
    # Two pairs tie on R+N: one pair is split by relevance, the other only by the ranking's (feed) order.
    scores = [(7, 9), (9, 7), (8, 8), (8, 8), (10, 9)]
    judgments = {p.arxiv_id: Judgment(p.arxiv_id, r, n) for p, (r, n) in zip(papers, scores, strict=True)}
    ranked = rank(papers, judgments, min_relevance=1, min_novelty=1)

    # Handed over in reverse, so the order that comes back is the re-ranking's sort, not its input's.
    adjusted = preferences.adjust(list(reversed(ranked)), [], "sparse attention", max_points=3.0)

    assert [dataclasses.replace(item, explanation="") for item in adjusted] == ranked
