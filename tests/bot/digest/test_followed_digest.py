"""A followed author's paper is always in the digest, first and marked, whatever its scores and whatever the
prefilter says, and it is still scored (on the in-memory fakes of arXiv and the LLM)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain.authors import parse_followed
from bot.domain.models import Judgment, Paper, RankedPaper
from bot.scoring.ranking import rank, with_followed
from tests.bot.learning.test_learning import (  # noqa: F401  (learner: the fixture)
    days,
    learner,
    run_day,
    sent_to_llm,
    synthetic_day,
    train_on_four_days,
)


def by(paper: Paper, *authors: str) -> Paper:
    return dataclasses.replace(paper, authors=(*paper.authors, *authors))


def test_followed_papers_come_first_whatever_their_scores_and_top_n():
    papers = [Paper(f"2504.0000{i}", f"T{i}", ("Ann Lee",), "A.") for i in range(4)]
    judgments = {"2504.00000": Judgment("2504.00000", 9, 9), "2504.00001": Judgment("2504.00001", 8, 8),
                 "2504.00002": Judgment("2504.00002", 2, 1), "2504.00003": Judgment("2504.00003", 3, 3)}
    ranked = rank(papers, judgments, min_relevance=7, min_novelty=6, top_n=1)
    followed = {"2504.00002": ("Kaiming He",), "2504.00003": ("Kaiming He", "Ann Lee")}
    result = with_followed(ranked, papers, judgments, followed)
    assert [(r.rank, r.paper.arxiv_id, r.followed) for r in result] == [
        (1, "2504.00003", ("Kaiming He", "Ann Lee")), (2, "2504.00002", ("Kaiming He",)), (3, "2504.00000", ()),
    ]
    assert with_followed(ranked, papers, {}, followed) == [RankedPaper(papers[0], judgments["2504.00000"], 1)]


def test_a_followed_authors_off_topic_paper_is_scored_posted_first_and_marked(learner, fake_llm):  # noqa: F811
    settings, store, profile = learner
    papers = synthetic_day(1)
    off_topic = next(i for i, p in enumerate(papers) if "protein" in p.abstract and i % 6 in (2, 4, 5))
    papers[off_topic] = by(papers[off_topic], "Przemysław Biecek", "K. He")
    store.follow(profile.id, parse_followed("Przemys{\\l}aw Biecek"))
    store.follow(profile.id, parse_followed("Kaiming He"))  # "K. He" is not him
    digest = run_day(fake_llm, settings, store, profile, days(1)[0], papers).digest
    assert digest is not None
    first = digest.ranked[0]
    assert first.paper.arxiv_id == papers[off_topic].arxiv_id and first.followed == ("Przemysław Biecek",)
    assert first.judgment.relevance < profile.min_relevance  # scored, and posted anyway
    assert [r.rank for r in digest.ranked] == list(range(1, len(digest.ranked) + 1))
    assert all(not r.followed for r in digest.ranked[1:])


@pytest.mark.slow
def test_a_followed_authors_paper_reaches_the_llm_even_when_the_prefilter_would_skip_it(learner, fake_llm):  # noqa: F811
    settings, store, profile = learner
    dates = days(5)
    train_on_four_days(fake_llm, settings, store, profile, dates)
    papers = [by(p, "Yann LeCun") if i % 6 in (2, 4, 5) else p for i, p in enumerate(synthetic_day(5))]
    store.follow(profile.id, parse_followed("Yann LeCun"))
    fake_llm.clear()
    digest = run_day(fake_llm, settings, store, profile, dates[4], papers).digest
    followed = {p.arxiv_id for i, p in enumerate(papers) if i % 6 in (2, 4, 5)}
    assert followed <= sent_to_llm(fake_llm)
    routes = store.decisions(profile.id, dates[4])
    assert {routes[pid].route for pid in followed} == {"followed"}
    assert digest is not None and digest.prefiltered > 0  # it still skips the other off-topic papers
    assert {r.paper.arxiv_id for r in digest.ranked[: len(followed)]} == followed
    assert all(r.followed == ("Yann LeCun",) for r in digest.ranked[: len(followed)])
