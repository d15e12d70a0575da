"""Searching a profile's past digests (``Store.search_papers``) on SQLite (FTS5) and PostgreSQL (tsvector), and
the search objects revision 0004_search and ``create_all`` make."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.domain.models import Announcement, Judgment, Paper, Profile
from bot.domain.search import search_words
from bot.domain.taxonomy import feed_key
from storage import migrate
from storage.db import make_engine
from storage.search import FTS_TABLES, PG_INDEX, fts5_query
from storage.store import Store

MODEL, KEY = "gpt-4o-mini", "k" * 64
MON, TUE, WED = dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 3, 5)
TRIGGERS = frozenset({"paper_fts_insert", "paper_fts_delete", "paper_fts_update"})


def paper(
    arxiv_id: str, title: str, abstract: str = "We report results.", authors: Sequence[str] = ("Ann A",)
) -> Paper:
    return Paper(arxiv_id, title, tuple(authors), abstract, ("cs.LG",))


def make_profile(db: Store, name: str = "default", categories: Sequence[str] = ("cs.LG",)) -> Profile:
    return db.ensure_profile(
        name, categories=categories, min_relevance=7, min_novelty=6, top_n=None, default_criteria="1. MoE"
    )


def add_day(
    db: Store, profile: Profile | None, date: dt.date, papers: Sequence[Paper],
    scores: dict[str, tuple[int, int]] | None = None, *, feed: str | None = None,
) -> None:
    """A stored announcement; with a profile, its run of that day and the scores that run stored."""
    db.save_announcement(feed or feed_key(("cs.LG",)), Announcement(date, tuple(papers), len(papers), "rss"))
    if profile is not None:
        db.start_run(profile.id, date, model=MODEL, criteria_key=KEY)
    db.save_judgments([Judgment(pid, r, n, "c") for pid, (r, n) in (scores or {}).items()], KEY, MODEL)


def ids(db: Store, profile: Profile, words: str, limit: int = 10) -> list[str]:
    return [hit.arxiv_id for hit in db.search_papers(profile.id, words, limit)]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_abstract(db):
    me = make_profile(db)
    add_day(db, me, MON, [
        paper("2503.00001", "A survey of graphs", abstract="Mixture of experts appears once in passing."),
        paper("2503.00002", "Sparse mixture of experts at scale"),
        paper("2503.00003", "Protein folding"),
    ])  # fmt: skip
    assert ids(db, me, "experts") == ["2503.00002", "2503.00001"]
    assert ids(db, me, "mixture experts") == ["2503.00002", "2503.00001"]  # every word, in any order


def test_every_word_must_match_and_word_forms_are_stemmed(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Quantized transformers"), paper("2503.00002", "Transformer pruning")])
    assert set(ids(db, me, "transformer")) == {"2503.00001", "2503.00002"}  # "transformers" too
    assert ids(db, me, "transformer pruning") == ["2503.00002"]
    assert ids(db, me, "transformer diffusion") == []


def test_authors_are_searched_including_names_with_accents(db):
    me = make_profile(db)
    add_day(db, me, MON, [
        paper("2503.00001", "Graphs", authors=["Jürgen Müller", "Bo Li"]), paper("2503.00002", "Trees"),
    ])  # fmt: skip
    assert ids(db, me, "Müller") == ["2503.00001"]
    assert ids(db, me, "jürgen müller") == ["2503.00001"]


SYNTAX = [
    "AND", "OR", "NOT", "NEAR", '"', '""', "'", "-", "-experts", "*", "experts*", "^experts", "title:experts",
    "(experts", "experts)", "NEAR(experts mixture)", "a AND OR NOT b", "'; DROP TABLE paper; --", "\\", "%", "_",
    "∑∂", "{experts}", "experts + mixture", "!", "<->", "&", "|", ":query", "%(name)s",
]  # fmt: skip


def test_query_syntax_in_the_words_is_plain_text_and_never_raises(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Sparse mixture of experts", abstract="Gates AND routers, OR not.")])
    for query in SYNTAX:
        hits = db.search_papers(me.id, query)
        assert all(hit.arxiv_id == "2503.00001" for hit in hits), query
    assert ids(db, me, '"experts" -mixture') == ["2503.00001"]  # quotes and minus are not operators
    assert ids(db, me, "experts") == ["2503.00001"]  # and the index is intact


def test_fts5_queries_quote_every_word():
    assert search_words('mixture-of-experts "AND" NEAR(x) *') == ["mixture", "of", "experts", "AND", "NEAR", "x"]
    assert fts5_query(["AND", "x"]) == '"AND" "x"'
    assert search_words("- * \" ()") == [] and search_words("") == []


def test_a_query_without_words_finds_nothing(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Sparse mixture of experts")])
    assert db.search_papers(me.id, "") == [] and db.search_papers(me.id, "  -*  ") == []


def test_limit_caps_the_results_and_keeps_the_best(db):
    me = make_profile(db)
    papers = [paper(f"2503.{i:05d}", f"Experts study {i}", abstract="Other words.") for i in range(1, 13)]
    papers.append(paper("2503.00099", "Experts experts experts", abstract="Experts everywhere, experts."))
    add_day(db, me, MON, papers)
    assert len(ids(db, me, "experts")) == 10  # the default
    assert ids(db, me, "experts", limit=1) == ["2503.00099"]
    assert len(ids(db, me, "experts", limit=50)) == 13


def test_only_papers_of_the_profiles_feed_on_its_run_days_are_found(db):
    me, other = make_profile(db), make_profile(db, "slack:C2", categories=("cs.CV",))
    add_day(db, me, MON, [paper("2503.00001", "Experts on my day")])
    add_day(db, None, TUE, [paper("2503.00002", "Experts on a day without my run")])
    add_day(db, other, MON, [paper("2503.00003", "Experts in the other feed")], feed=feed_key(("cs.CV",)))
    add_day(db, None, WED, [paper("2503.00004", "Experts never announced to anyone")], feed="physics")
    assert ids(db, me, "experts") == ["2503.00001"]
    assert ids(db, other, "experts") == ["2503.00003"]
    assert ids(db, me, "2503.00003") == []  # an ID outside the profile's digests too


def test_hits_carry_the_day_and_the_scores_that_days_run_stored(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Experts early"), paper("2503.00002", "Experts unscored")],
            {"2503.00001": (9, 7)})
    add_day(db, me, TUE, [paper("2503.00001", "Experts early")])  # announced again (another list) the next day
    hits = {hit.arxiv_id: hit for hit in db.search_papers(me.id, "experts")}
    assert len(db.search_papers(me.id, "experts")) == 2  # once each, on the newest day
    assert (hits["2503.00001"].date, hits["2503.00001"].relevance, hits["2503.00001"].novelty) == (TUE, 9, 7)
    assert (hits["2503.00002"].date, hits["2503.00002"].relevance, hits["2503.00002"].novelty) == (MON, None, None)
    assert hits["2503.00001"].title == "Experts early" and hits["2503.00001"].authors == ("Ann A",)
    assert hits["2503.00001"].url == "https://arxiv.org/abs/2503.00001"


def test_newer_days_come_first_among_equal_matches(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Experts")])
    add_day(db, me, WED, [paper("2503.00003", "Experts")])
    add_day(db, me, TUE, [paper("2503.00002", "Experts")])
    assert ids(db, me, "experts") == ["2503.00003", "2503.00002", "2503.00001"]


def test_an_arxiv_id_or_url_finds_its_paper(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Experts"), paper("2503.00002", "Graphs")])
    assert ids(db, me, "2503.00002") == ["2503.00002"]
    assert ids(db, me, "arXiv:2503.00002v3") == ["2503.00002"]
    assert ids(db, me, "https://arxiv.org/abs/2503.00001") == ["2503.00001"]


def test_a_paper_whose_text_changes_is_found_by_its_new_words_only(db):
    me = make_profile(db)
    add_day(db, me, MON, [paper("2503.00001", "Experts routing"), paper("2503.00002", "Graphs")])
    db.save_papers([paper("2503.00001", "Diffusion sampling", abstract="Revised."), paper("2503.00002", "Graphs")])
    assert ids(db, me, "experts") == [] and ids(db, me, "diffusion") == ["2503.00001"]
    assert ids(db, me, "graphs") == ["2503.00002"]  # rewritten unchanged: indexed once, still found


# the search objects -------------------------------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def search_objects(engine: Engine) -> dict[str, str]:
    """Name → DDL of the search objects in the database."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE name LIKE 'paper_fts%' AND sql IS NOT NULL"
            )
        else:
            rows = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE indexname = %(name)s AND schemaname = current_schema()",
                {"name": PG_INDEX},
            )
        return {name: sql for name, sql in rows}


def test_revision_0004_makes_the_search_objects_create_all_makes_and_removes_them(engine):
    migrate.prepare(engine)  # an empty database: create_all, and storage.search's listeners
    created = search_objects(engine)
    expected = {PG_INDEX} if engine.dialect.name == "postgresql" else FTS_TABLES | TRIGGERS
    assert set(created) == expected
    migrate.downgrade(engine, "0003_learning")
    assert search_objects(engine) == {}
    migrate.upgrade(engine)
    assert search_objects(engine) == created


def test_revision_0004_indexes_the_papers_stored_before_it(engine):
    migrate.upgrade(engine, "0003_learning")
    tables = sa.MetaData()
    tables.reflect(engine, only=["paper", "feed_day", "announcement"])
    with engine.begin() as connection:  # the day as the code of 0003 stored it (today's store needs 0005)
        connection.execute(tables.tables["paper"].insert(), [dict(
            arxiv_id="2503.00001", title="Sparse mixture of experts", authors=["Jürgen Müller"],
            abstract="We report results.", categories=["cs.LG"], updated_at=dt.datetime(2025, 3, 3, tzinfo=dt.UTC),
        )])
        connection.execute(tables.tables["feed_day"].insert(), [dict(
            feed="cs.LG", date=MON, total_in_feed=1, source="rss", fetched_at=dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
        )])
        connection.execute(tables.tables["announcement"].insert(), [dict(
            feed="cs.LG", date=MON, arxiv_id="2503.00001", announce_type="new", position=0
        )])  # fmt: skip
    migrate.upgrade(engine)
    db = Store(engine)
    me = make_profile(db)
    db.start_run(me.id, MON, model=MODEL, criteria_key=KEY)
    assert ids(db, me, "experts") == ["2503.00001"] and ids(db, me, "Müller") == ["2503.00001"]
    db.save_papers([paper("2503.00002", "Experts again")])  # and the triggers keep it in step from now on
    add_day(db, me, TUE, [paper("2503.00002", "Experts again")])
    assert set(ids(db, me, "experts")) == {"2503.00001", "2503.00002"}
