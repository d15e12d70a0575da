from bot.domain.models import Judgment, Paper
from bot.scoring.ranking import rank


def _paper(i: int) -> Paper:
    return Paper(f"2503.{i:05d}", f"Title {i}", ("A",), "abstract")


def test_keeps_papers_at_or_above_both_thresholds_and_orders_by_sum_then_relevance():
    papers = [_paper(i) for i in range(6)]
    scores = {0: (7, 6), 1: (6, 10), 2: (10, 5), 3: (8, 9), 4: (9, 8), 5: (10, 7)}
    judgments = {p.arxiv_id: Judgment(p.arxiv_id, *scores[i]) for i, p in enumerate(papers)}
    ranked = rank(papers, judgments, min_relevance=7, min_novelty=6)
    # 1 fails relevance, 2 fails novelty; 3, 4 and 5 tie on 17 → higher relevance first.
    assert [r.paper.arxiv_id for r in ranked] == ["2503.00005", "2503.00004", "2503.00003", "2503.00000"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4]


def test_top_n_caps_the_digest():
    papers = [_paper(i) for i in range(5)]
    judgments = {p.arxiv_id: Judgment(p.arxiv_id, 9, 9) for p in papers}
    assert len(rank(papers, judgments, min_relevance=1, min_novelty=1, top_n=2)) == 2


def test_papers_without_judgment_are_not_ranked_and_ties_keep_feed_order():
    papers = [_paper(i) for i in range(3)]
    judgments = {
        papers[2].arxiv_id: Judgment(papers[2].arxiv_id, 8, 8),
        papers[0].arxiv_id: Judgment("2503.00000", 8, 8),
    }
    assert [r.paper.arxiv_id for r in rank(papers, judgments, min_relevance=1, min_novelty=1)] == [
        "2503.00000",
        "2503.00002",
    ]
