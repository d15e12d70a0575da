"""Storage on SQLite and, where a server is reachable, PostgreSQL (127.0.0.1:5432, database test)."""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from adapters.arxiv_rss import parse_feed
from bot.domain.models import Announcement, Judgment, Paper, Tldr, Usage
from bot.domain.taxonomy import feed_key
from storage.store import Store


def paper(i: int, announce_type: str = "new") -> Paper:
    return Paper(f"2503.{i:05d}", f"Title {i}", ("A", "B"), f"Abstract {i}", ("cs.LG", "stat.ML"), announce_type)


def profile(db: Store, name: str = "default"):
    return db.ensure_profile(
        name, categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, default_criteria="1. MoE"
    )


def test_the_store_takes_and_gives_domain_values_never_table_rows():
    """storage/ is a seam: outside it nothing builds or reads a row."""
    for name, method in inspect.getmembers(Store, inspect.isfunction):
        if name.startswith("_"):
            continue
        for hint in typing.get_type_hints(method).values():
            parts = [hint, *typing.get_args(hint), *(a for arg in typing.get_args(hint) for a in typing.get_args(arg))]
            assert not any(isinstance(p, type) and issubclass(p, SQLModel) for p in parts), f"Store.{name}: {hint}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    store.close()


def test_an_announcement_round_trips_in_feed_order(db):
    day = dt.date(2025, 3, 6)
    announcement = Announcement(day, (paper(3), paper(1, "cross"), paper(2)), total_in_feed=5, source="test")
    db.save_announcement(feed_key(["cs.LG", "cs.AI"]), announcement)
    db.save_announcement(feed_key(["cs.LG", "cs.AI"]), announcement)  # saving twice adds nothing
    loaded = db.load_announcement(feed_key(["cs.AI", "cs.LG"]), day)
    assert loaded == announcement
    assert db.load_announcement("cs.LG+cs.AI", dt.date(2025, 3, 7)) is None


def test_a_day_loaded_again_is_the_same_until_another_process_changes_one_of_its_papers(db, database_url):
    day = dt.date(2025, 3, 6)
    db.save_announcement("cs.LG", Announcement(day, (paper(1), paper(2)), total_in_feed=2, source="test"))
    first = db.load_announcement("cs.LG", day)
    assert db.load_announcement("cs.LG", day) is first  # a thousand runs of the day read its papers once
    other = Store.open(database_url)  # another process
    try:
        other.save_papers([replace(paper(2), abstract="Abstract 2, second version")])
        assert db.load_announcement("cs.LG", day).papers[1].abstract == "Abstract 2, second version"
        other.save_announcement("cs.LG", Announcement(day, (paper(1), paper(2), paper(3)), 3, "test"))
        assert [p.arxiv_id for p in db.load_announcement("cs.LG", day).papers] == [
            "2503.00001", "2503.00002", "2503.00003"]
    finally:
        other.close()


def test_affiliations_round_trip_apart_from_the_names_and_a_save_without_them_keeps_them(db):
    real_day = Path(__file__).parents[1] / "fixtures" / "arxiv" / "rss_cs.LG+cs.AI_2025-03-25.xml"
    announcement = parse_feed(real_day.read_bytes(), keep_types=("new", "cross", "replace"), source="rss")
    db.save_announcement("cs.AI+cs.LG", announcement)
    loaded = db.load_announcement("cs.AI+cs.LG", announcement.date)
    assert loaded == announcement  # equality leaves affiliations out: compare them apart
    assert [p.affiliations for p in loaded.papers] == [p.affiliations for p in announcement.papers]
    survey = {p.arxiv_id: p for p in loaded.papers}["2503.17407"]
    assert survey.authors[:2] == ("Ana Araujo", "Breno Costa") and survey.authors[-2] == "João Silva"
    assert survey.affiliations[:2] == (
        "University of Brasilia Brazil, The University of Melbourne Australia", "University of Brasilia Brazil",
    )
    assert survey.affiliations[-2] == "" and len(survey.affiliations) == len(survey.authors) == 8
    assert {p.arxiv_id: p.affiliations for p in loaded.papers}["2503.18216"] == ()  # the feed gives none

    db.save_papers([replace(survey, affiliations=())])  # an arXiv API look-up of the same paper has none
    assert db.get_paper("2503.17407").affiliations == survey.affiliations
    db.save_papers([replace(paper(9), affiliations=())])  # stored without, then fetched from the feed with
    db.save_papers([replace(paper(9), affiliations=("MIT", ""))])
    assert db.get_paper("2503.00009").affiliations == ("MIT", "")
    # A later save whose author list no longer lines up with the stored affiliations: they are not shown.
    db.save_papers([replace(survey, authors=survey.authors[:3], affiliations=())])
    assert db.get_paper("2503.17407").affiliations == ()


def test_an_empty_day_is_remembered_as_fetched(db):
    db.save_announcement("cs.LG", Announcement(dt.date(2025, 3, 8), (), 0, "test"))
    assert db.load_announcement("cs.LG", dt.date(2025, 3, 8)).is_empty


def test_judgments_are_kept_per_paper_criteria_and_model(db):
    db.save_papers([paper(1), paper(2)])
    db.save_judgments([Judgment("2503.00001", 9, 7, "MoE")], "key-a", "gpt-4o-mini")
    db.save_judgments([Judgment("2503.00001", 2, 2, "again")], "key-a", "gpt-4o-mini")  # first one stays
    db.save_judgments([Judgment("2503.00001", 3, 3)], "key-b", "gpt-4o-mini")
    db.save_judgments([Judgment("2503.00001", 4, 4)], "key-a", "gpt-4o")
    assert db.get_judgments(["2503.00001", "2503.00002"], "key-a", "gpt-4o-mini") == {
        "2503.00001": Judgment("2503.00001", 9, 7, "MoE")
    }
    assert db.get_judgments(["2503.00001"], "key-b", "gpt-4o-mini")["2503.00001"].relevance == 3
    assert db.get_judgments(["2503.00001"], "key-a", "gpt-4o")["2503.00001"].relevance == 4


def test_criteria_versions_can_be_undone_and_history_keeps_everything(db):
    created = profile(db)
    assert (created.criteria, created.criteria_version) == ("1. MoE", 1)
    assert db.set_criteria(created.id, "1. Quantization", author="ana") == 2
    assert db.get_profile("default").criteria == "1. Quantization"
    assert db.undo_criteria(created.id) == 1
    assert db.get_profile("default").criteria == "1. MoE"
    assert db.undo_criteria(created.id) is None  # the first version stays
    history = db.criteria_history(created.id)
    assert [(h.version, h.reverted) for h in history] == [(2, True), (1, False)]
    assert db.set_criteria(created.id, "1. Sparsity") == 3


def test_profile_settings_update_only_when_asked(db):
    created = profile(db)
    same = db.ensure_profile(
        "default", categories=["cs.CL"], min_relevance=9, min_novelty=9, top_n=5, default_criteria="other"
    )
    assert same == created
    updated = db.ensure_profile(
        "default",
        categories=["cs.CL"],
        min_relevance=9,
        min_novelty=9,
        top_n=5,
        default_criteria="other",
        update=True,
    )
    assert (updated.categories, updated.min_relevance, updated.top_n, updated.criteria) == (("cs.CL",), 9, 5, "1. MoE")


def test_a_run_adds_up_the_days_usage_and_restarts_for_another_model(db):
    created = profile(db)
    day = dt.date(2025, 3, 6)
    run_id = db.start_run(created.id, day, model="gpt-4o-mini", criteria_key="k")
    db.add_run_usage(run_id, Usage(1000, 500, 100, 2), 0.01)
    assert db.start_run(created.id, day, model="gpt-4o-mini", criteria_key="k") == run_id
    row = db.add_run_usage(run_id, Usage(10, 0, 1, 1), 0.001)
    assert (row.prompt_tokens, row.cached_tokens, row.requests) == (1010, 500, 3)
    assert row.cost_usd == pytest.approx(0.011)
    db.finish_run(run_id, status="done", total_arxiv=3, scanned=3, relevant=1, unscored=0)
    assert db.get_run(created.id, day).status == "done"
    db.start_run(created.id, day, model="gpt-4o", criteria_key="k")
    row = db.add_run_usage(run_id, Usage(5, 0, 1, 1), None)
    assert row.prompt_tokens == 5 and row.cost_usd is None  # unknown price: unknown cost, not $0


def test_many_ids_are_looked_up_in_chunks(db):
    papers = [paper(i) for i in range(1200)]
    db.save_papers(papers)
    db.save_judgments([Judgment(p.arxiv_id, 5, 5) for p in papers], "k", "m")
    assert len(db.get_judgments([p.arxiv_id for p in papers], "k", "m")) == 1200


def test_a_profile_reads_english_until_its_language_is_set(db):
    pid = profile(db).id
    assert db.profile_by_id(pid).language == "en"
    assert db.update_profile(pid, language="zh").language == "zh"
    assert db.profile_by_id(pid).language == "zh" and db.profile_by_id(pid).min_relevance == 7


def test_tldrs_are_kept_per_paper_language_and_model_and_the_first_one_written_stays(db):
    db.save_papers([paper(1), paper(2)])
    db.save_tldrs({"2503.00001": Tldr("They do X."), "2503.00002": Tldr("They do Y.")}, "en", "m")
    db.save_tldrs({"2503.00001": Tldr("Sie tun X.", "Passt zu Thema 1.", "Matches topic 1.")}, "de", "m")
    db.save_tldrs({"2503.00001": Tldr("A second answer.")}, "en", "m")  # another process raced us: the first stays
    assert db.get_tldrs(["2503.00001", "2503.00002", "2503.00003"], "en", "m") == {
        "2503.00001": Tldr("They do X."), "2503.00002": Tldr("They do Y.")}
    [german] = db.get_tldrs(["2503.00001", "2503.00002"], "de", "m").values()
    assert german.text == "Sie tun X." and german.comment_for("Matches topic 1.") == "Passt zu Thema 1."
    assert german.comment_for("Matches topic 2 (other criteria).") is None
    assert db.get_tldrs(["2503.00001"], "en", "other-model") == {}
