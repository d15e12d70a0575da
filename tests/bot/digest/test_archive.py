"""Past days rebuilt for the archive keep the order and explanations the day was posted with."""

from __future__ import annotations

import datetime as dt

from bot.digest.archive import as_posted
from bot.domain.models import Judgment, Paper, RankedPaper
from bot.domain.training import Decision

DAY = dt.date(2025, 3, 6)


def ranked(*scores: tuple[str, int]) -> list[RankedPaper]:
    return [
        RankedPaper(Paper(pid, f"Title {pid}", ("A",), "Abstract."), Judgment(pid, r, 7), rank)
        for rank, (pid, r) in enumerate(scores, start=1)
    ]


def note(pid: str, rank: int | None, adjustment: float = 0.0, explanation: str = "") -> Decision:
    return Decision(DAY, pid, rank=rank, adjustment=adjustment, explanation=explanation)


def test_the_stored_final_ranks_reorder_and_renumber_and_carry_their_explanations():
    items = ranked(("a", 10), ("b", 9), ("c", 8))
    notes = {"c": note("c", 1, 2.5, "↑ like 2 papers you liked"), "a": note("a", 2), "b": note("b", 3)}
    posted = as_posted(items, notes)
    assert [(i.paper.arxiv_id, i.rank) for i in posted] == [("c", 1), ("a", 2), ("b", 3)]
    assert (posted[0].adjustment, posted[0].explanation) == (2.5, "↑ like 2 papers you liked")


def test_papers_the_day_did_not_post_follow_in_score_order_and_no_notes_change_nothing():
    items = ranked(("a", 10), ("b", 9), ("c", 8))
    posted = as_posted(items, {"b": note("b", 1), "a": note("a", None, explanation="prefilter route only")})
    assert [i.paper.arxiv_id for i in posted] == ["b", "a", "c"]
    assert posted[1].explanation == "prefilter route only"
    assert as_posted(items, {}) == items
