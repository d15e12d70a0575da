"""The weekly roundup's queries on SQLite and PostgreSQL: a week's papers with their scores and reactions, its
figures, and the claim that lets one process post a channel's roundup once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from bot.domain.models import Announcement, Judgment, Paper, Usage
from bot.domain.statuses import RunStatus
from bot.domain.weekly import WeekFigures
from storage import weekly
from storage.store import Store

MON, WED, NEXT_MON = dt.date(2025, 3, 3), dt.date(2025, 3, 5), dt.date(2025, 3, 10)


def sample_papers(n: int) -> list[Paper]:
    return [Paper(f"2503.{i:05d}", f"Title {i}", ("A",), f"Abstract {i}", ("cs.LG",)) for i in range(1, n + 1)]


def _posted_week(db: Store) -> int:
    """Two digest days of one channel: Monday posts papers 0 and 1, Wednesday paper 2; 3 is next week's."""
    profile = db.ensure_profile("p", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None,
                                default_criteria="MoE")
    papers = sample_papers(4)
    for day, batch in ((MON, papers[:2]), (WED, papers[2:3]), (NEXT_MON, papers[3:])):
        db.save_announcement("cs.LG", Announcement(date=day, papers=tuple(batch), total_in_feed=100, source="rss"))
        run = db.start_run(profile.id, day, model="m", criteria_key="k")
        db.save_judgments([Judgment(p.arxiv_id, 9 - i, 7, "c") for i, p in enumerate(batch)], "k", "m")
        db.add_run_usage(run, Usage(prompt_tokens=10, requests=1), 0.25)
        db.finish_run(run, status=RunStatus.POSTED, total_arxiv=100, scanned=40, relevant=len(batch), unscored=0)
        for rank, paper in enumerate(batch, 1):
            db.record_post("slack", "C1", day, paper.arxiv_id, f"{day}.{rank}", arxiv_id=paper.arxiv_id, rank=rank)
    db.record_post("slack", "C1", MON, "summary", "summary-ts")
    for user, emoji, kind in (("U1", "👍", "positive"), ("U2", "👍", "positive"), ("U3", "👎", "negative"),
                              ("U4", "👀", "later")):
        db.add_feedback("slack", "C1", user, papers[1].arxiv_id, kind=kind, emoji=emoji, source="reaction")
    db.add_feedback("slack", "C2", "U1", papers[0].arxiv_id, kind="positive", emoji="👍", source="reaction")
    return profile.id


def test_a_weeks_papers_carry_their_days_scores_and_this_channels_reactions(db):
    profile_id = _posted_week(db)
    papers = db.week_papers("slack", "C1", profile_id, MON, MON + dt.timedelta(days=6))
    ids = [p.arxiv_id for p in papers]
    assert ids == [p.arxiv_id for p in sample_papers(3)]
    first, second, third = papers
    assert (first.relevance, first.novelty, first.reactions) == (9, 7, 0)  # C2's 👍 is another channel's
    assert (second.positive, second.negative, second.reactions, second.net) == (2, 1, 4, 1)
    assert third.date == WED and third.score == 16


def test_a_weeks_figures_add_up_its_runs_and_reactions(db):
    profile_id = _posted_week(db)
    figures = db.week_figures("slack", "C1", profile_id, MON, MON + dt.timedelta(days=6))
    assert figures == WeekFigures(read=200, scored=80, posted=3, reactions=4, cost_usd=0.5)
    assert db.week_figures("slack", "C9", profile_id, MON, MON).posted == 0


def test_a_week_is_claimed_once_and_a_posted_week_never_again(db):
    token = db.claim_week("slack", "C1", MON)
    assert token is not None
    assert db.claim_week("slack", "C1", MON) is None  # a fresh claim of another attempt
    assert db.claim_week("slack", "C2", MON) is not None  # another channel's week is its own
    db.record_week("slack", "C1", MON, token, "ts-1")
    assert db.weekly_message("slack", "C1", MON) == "ts-1"
    assert db.claim_week("slack", "C1", MON) is None
    assert db.weekly_message("slack", "C1", NEXT_MON) is None


def test_a_released_or_stale_claim_can_be_taken_again(db, monkeypatch):
    token = db.claim_week("slack", "C1", MON)
    assert token is not None
    db.release_week("slack", "C1", MON, token)  # the post failed: nothing is in the channel
    again = db.claim_week("slack", "C1", MON)
    assert again is not None
    monkeypatch.setattr(weekly, "STALE_CLAIM", dt.timedelta(seconds=-1))  # the claimer died long ago
    assert db.claim_week("slack", "C1", MON) not in (None, again)


def test_two_processes_claiming_a_week_at_once_get_one_claim_between_them(database_url):
    Store.open(database_url).close()
    barrier = threading.Barrier(2)

    def claim() -> str | None:
        store = Store.open(database_url)
        try:
            barrier.wait()
            return store.claim_week("slack", "C1", MON)
        finally:
            store.close()

    with ThreadPoolExecutor(2) as pool:
        tokens = [f.result() for f in [pool.submit(claim) for _ in range(2)]]
    assert sum(token is not None for token in tokens) == 1
