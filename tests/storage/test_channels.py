"""Subscriptions, the message map, feedback and event dedupe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from bot.domain.models import Paper, Usage
from storage.store import Store

DAY = dt.date(2025, 3, 6)


def profile_id(db: Store, name: str = "slack:C1") -> int:
    return db.ensure_profile(
        name, categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, default_criteria="topics"
    ).id


def test_a_channel_subscribes_once_and_a_returning_channel_keeps_its_settings(db):
    pid = profile_id(db)
    first = db.subscribe("slack", "T1", "C1", "U1", pid)
    db.update_subscription("slack", "C1", schedule_time="07:30", timezone="Asia/Tokyo")
    db.update_subscription("slack", "C1", active=False)
    assert db.active_subscriptions() == []
    again = db.subscribe("slack", "T1", "C1", "U2", pid)
    assert again.id == first.id and again.created_by == "U1" and again.schedule_time == "07:30"
    assert [s.channel for s in db.active_subscriptions("slack")] == ["C1"]
    assert db.active_subscriptions("discord") == []
    with pytest.raises(ValueError):
        db.update_subscription("slack", "C1", profile_id=99)
    with pytest.raises(LookupError):
        db.update_subscription("slack", "C404", active=False)


def test_profiles_change_categories_and_thresholds(db):
    pid = profile_id(db)
    changed = db.update_profile(pid, categories=["cs.CL"], min_relevance=9)
    assert (changed.categories, changed.min_relevance, changed.min_novelty) == (("cs.CL",), 9, 6)
    assert db.profile_by_id(pid) == changed


def test_the_message_map_finds_papers_by_message_and_by_rank(db):
    db.record_post("slack", "C1", DAY, "summary", "100.1")
    db.record_post("slack", "C1", DAY, "2503.00001", "100.2", arxiv_id="2503.00001", rank=1)
    db.record_post("slack", "C1", DAY + dt.timedelta(days=1), "2503.00009", "200.2", arxiv_id="2503.00009", rank=1)
    assert db.posted_parts("slack", "C1", DAY) == {"summary": "100.1", "2503.00001": "100.2"}
    assert db.paper_of_message("slack", "C1", "100.2") == "2503.00001"
    assert db.paper_of_message("slack", "C1", "100.1") is None
    assert db.paper_of_message("discord", "C1", "100.2") is None
    assert db.paper_at_rank("slack", "C1", 1) == (DAY + dt.timedelta(days=1), "2503.00009")
    assert db.paper_at_rank("slack", "C1", 2) is None
    with pytest.raises(IntegrityError):  # a part is posted once per channel and day
        db.record_post("slack", "C1", DAY, "summary", "100.9")


def test_feedback_is_one_row_per_person_paper_and_emoji(db):
    args = ("slack", "C1", "U1", "2503.00001")
    assert db.add_feedback(*args, kind="positive", emoji="👍", source="reaction")
    assert not db.add_feedback(*args, kind="positive", emoji="👍", source="button")
    assert db.add_feedback(*args, kind="later", emoji="👀", source="reaction")
    assert db.remove_feedback(*args, "👍") and not db.remove_feedback(*args, "👍")
    assert [(f.kind, f.emoji) for f in db.feedback_for("slack", "C1")] == [("later", "👀")]


def test_an_event_id_is_new_only_once_and_old_ids_are_forgotten(db):
    assert db.first_sighting("slack:Ev1") and not db.first_sighting("slack:Ev1")
    assert db.first_sighting("slack:Ev2", keep=dt.timedelta(0))
    assert db.first_sighting("slack:Ev1", keep=dt.timedelta(0))  # pruned, so new again


def test_channel_stats_sum_the_month(db):
    pid = profile_id(db)
    run = db.start_run(pid, DAY, model="gpt-4o-mini", criteria_key="k")
    db.add_run_usage(run, Usage(1000, 0, 100, 2), 0.25)
    db.finish_run(run, status="done", total_arxiv=50, scanned=50, relevant=3, unscored=0)
    db.record_post("slack", "C1", DAY, "summary", "1.1")
    db.record_post("slack", "C1", DAY, "2503.00001", "1.2", arxiv_id="2503.00001", rank=1)
    db.add_feedback("slack", "C1", "U1", "2503.00001", kind="positive", emoji="👍", source="reaction")
    stats = db.channel_stats("slack", "C1", pid, DAY.replace(day=1))
    assert stats["days_posted"] == 1 and stats["papers_posted"] == 1 and stats["papers_scanned"] == 50
    assert stats["cost_usd"] == pytest.approx(0.25) and stats["reactions"] == {"positive": 1}


def test_liked_papers_are_the_channels_positive_signals_since_a_time_each_paper_once(db: Store) -> None:
    papers = [Paper(f"2503.0000{i}", f"Paper {i}", ("A B",), "x", ("cs.LG",)) for i in range(1, 5)]
    db.save_papers(papers)
    for user, pid, kind, emoji in [("U1", "2503.00002", "positive", "👍"), ("U2", "2503.00001", "positive", "🔥"),
                                   ("U3", "2503.00002", "positive", "⭐"), ("U1", "2503.00003", "negative", "👎")]:
        db.add_feedback("slack", "C1", user, pid, kind=kind, emoji=emoji, source="reaction")
    db.add_feedback("slack", "C2", "U1", "2503.00004", kind="positive", emoji="👍", source="reaction")
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert [p.arxiv_id for p in db.liked_papers("slack", "C1", an_hour_ago)] == ["2503.00002", "2503.00001"]
    assert db.liked_papers("slack", "C1", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)) == []
