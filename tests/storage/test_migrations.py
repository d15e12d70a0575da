"""Schema migrations on SQLite and PostgreSQL: the revisions build exactly the models' schema, keep rows, and
``prepare`` (what Store.open runs) handles every kind of database it can meet, one process at a time."""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from bot.domain.authors import parse_followed
from bot.domain.errors import StorageError
from bot.domain.models import Tldr
from bot.domain.taxonomy import feed_key
from bot.entrypoints.cli import app
from storage import migrate
from storage.db import make_engine
from storage.search import FTS_TABLES
from storage.store import Store
from storage.tables import RunRow
from tests.storage.conftest import postgres_schema

BOLT_TABLES = {"slack_installations", "slack_bots", "slack_oauth_states"}
NEW_RUN_COLUMNS = {"owner", "heartbeat_at", "attempts", "llm_batch_id", "criteria_version", "prompt_examples"}
RUN_THRESHOLDS = {"min_relevance", "min_novelty"}  # 0006_run_thresholds
HEAD = "0012_asks"
WHEN = dt.datetime(2025, 3, 6, 9, 30, tzinfo=dt.UTC)
REAL_FEED = Path(__file__).parents[1] / "fixtures" / "arxiv" / "rss_cs.LG+cs.AI_2025-03-25.xml"
DAY = dt.date(2025, 3, 6)
runner = CliRunner()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = make_engine(database_url)
    yield made
    made.dispose()


def schema_diff(engine: Engine, **options: Any) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty: they match)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={**migrate.context_options(), **options})
        return compare_metadata(context, SQLModel.metadata)


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def add_bolt_tables(engine: Engine) -> None:
    """What slack-bolt's installation and OAuth state stores create in our database (multi-workspace installs)."""
    SQLAlchemyInstallationStore(client_id="client", engine=engine).create_tables()
    SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine).create_tables()


def execute(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql))


def our_tables(engine: Engine) -> dict[str, sa.Table]:
    present = table_names(engine)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=[name for name in SQLModel.metadata.tables if name in present])
    return dict(metadata.tables)


def rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of our tables as the database holds them, in primary-key order."""
    with engine.connect() as connection:
        return {
            name: [dict(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key)).mappings()]
            for name, table in our_tables(engine).items()
        }


def fill_0001(engine: Engine) -> None:
    """One row in every table of the 0001_initial schema, written as the code of that time wrote them."""
    tables = our_tables(engine)
    values: dict[str, list[dict[str, Any]]] = {
        "paper": [
            dict(arxiv_id="2503.00001", title="MoE", authors=["A", "B"], abstract="Experts.", categories=["cs.LG"],
                 updated_at=WHEN),
        ],
        "feed_day": [dict(feed="cs.AI+cs.LG", date=DAY, total_in_feed=1, source="rss", fetched_at=WHEN)],
        "announcement": [dict(feed="cs.AI+cs.LG", date=DAY, arxiv_id="2503.00001", announce_type="new", position=0)],
        "profile": [
            dict(name="default", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, created_at=WHEN)
        ],
        "criteria_version": [
            dict(profile_id=1, version=1, text="1. MoE", author="cli", reverted=False, created_at=WHEN)
        ],
        "score": [
            dict(arxiv_id="2503.00001", criteria_key="k" * 64, model="gpt-4o-mini", relevance=9, novelty=7,
                 comment="on topic", approximate=False, created_at=WHEN),
        ],
        "run": [
            dict(profile_id=1, date=DAY, status="done", model="gpt-4o-mini", criteria_key="k", total_arxiv=1,
                 scanned=1, relevant=1, unscored=0, prompt_tokens=1000, cached_tokens=500, completion_tokens=50,
                 requests=1, cost_usd=0.0012, message="", started_at=WHEN, finished_at=WHEN),
        ],
        "subscription": [
            dict(platform="slack", workspace="T1", channel="C1", profile_id=1, active=True, created_by="U1",
                 schedule_time="09:00", timezone="Europe/Berlin", post_empty_days=False, created_at=WHEN),
        ],
        "post": [
            dict(platform="slack", channel="C1", date=DAY, part="2503.00001", arxiv_id="2503.00001", rank=1,
                 message_id="1741253400.000100", created_at=WHEN),
        ],
        "feedback": [
            dict(platform="slack", channel="C1", user="U2", arxiv_id="2503.00001", kind="positive", emoji="+1",
                 source="reaction", created_at=WHEN),
        ],
        "seen_event": [dict(event_id="Ev1", seen_at=WHEN)],
    }  # fmt: skip
    with engine.begin() as connection:
        for name, data in values.items():  # parents before children
            connection.execute(tables[name].insert(), data)


# the revisions -----------------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_schema_of_the_models(engine):
    add_bolt_tables(engine)
    migrate.upgrade(engine)  # every revision in turn, not the create_all shortcut
    assert migrate.current(engine) == migrate.head()
    assert schema_diff(engine) == []  # tables, columns, types, nullability, indexes, unique and foreign keys
    # The bolt tables are still there, and only include_object keeps autogenerate from dropping them.
    assert table_names(engine) >= BOLT_TABLES
    unfiltered = schema_diff(engine, include_object=None)
    search_tables = FTS_TABLES if engine.dialect.name == "sqlite" else set()  # storage.search's, not models
    assert {change[1].name for change in unfiltered if change[0] == "remove_table"} == BOLT_TABLES | search_tables


def test_a_database_at_0001_keeps_its_rows_through_upgrade_downgrade_and_upgrade(engine):
    add_bolt_tables(engine)
    migrate.upgrade(engine, "0001_initial")
    assert migrate.current(engine) == "0001_initial"
    missing = {change[3].name for change in schema_diff(engine) if change[0] == "add_column" and change[2] == "run"}
    assert missing == NEW_RUN_COLUMNS | RUN_THRESHOLDS
    fill_0001(engine)
    before = rows(engine)

    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []
    after = rows(engine)
    changed = {"run", "subscription", "paper", "profile"}  # tables that gained columns
    assert {name: data for name, data in after.items() if name not in changed and name in before} == {
        name: data for name, data in before.items() if name not in changed
    }
    for name in changed:
        assert [{key: row[key] for key in before[name][0]} for row in after[name]] == before[name]
    assert [(row["learn_from_feedback"], row["feedback_since"]) for row in after["subscription"]] == [(True, None)]
    assert [row["affiliations"] for row in after["paper"]] == [None]
    assert [row["language"] for row in after["profile"]] == ["en"]
    [run] = after["run"]
    assert {key: run[key] for key in before["run"][0]} == before["run"][0]
    assert (run["owner"], run["heartbeat_at"], run["attempts"], run["llm_batch_id"]) == ("", None, 0, "")
    with Session(engine) as session:  # and the models read and write the migrated table
        loaded = session.get(RunRow, 1)
        assert loaded is not None and loaded.cost_usd == 0.0012 and loaded.attempts == 0
        loaded.owner, loaded.attempts, loaded.heartbeat_at = "host:1", 1, WHEN
        session.add(loaded)
        session.commit()

    migrate.downgrade(engine, "0001_initial")
    assert migrate.current(engine) == "0001_initial"
    assert not (NEW_RUN_COLUMNS | RUN_THRESHOLDS) & {column["name"] for column in sa.inspect(engine).get_columns("run")}
    assert rows(engine) == before
    assert table_names(engine) >= BOLT_TABLES

    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []
    assert rows(engine)["run"][0]["attempts"] == 0


def filled_up_to(engine: Engine, revision: str) -> dict[str, list[dict[str, Any]]]:
    """A row in every table of 0001_initial, upgraded to ``revision``: the rows it then holds."""
    migrate.upgrade(engine, "0001_initial")
    fill_0001(engine)
    migrate.upgrade(engine, revision)
    return rows(engine)


def test_runs_before_0006_keep_their_rows_and_record_no_thresholds_until_they_run_again(engine):
    before = filled_up_to(engine, "0005_affiliations")
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []
    [run] = rows(engine)["run"]
    assert {key: run[key] for key in before["run"][0]} == before["run"][0]
    assert (run["min_relevance"], run["min_novelty"]) == (None, None)  # not known: the archive uses the profile's
    store = Store(engine)
    stored = store.get_run(1, DAY)
    assert stored is not None and (stored.min_relevance, stored.min_novelty) == (None, None)
    store.update_profile(1, min_relevance=9, min_novelty=8)
    store.start_run(1, DAY + dt.timedelta(days=1), model="gpt-4o-mini", criteria_key="k")
    again = store.get_run(1, DAY + dt.timedelta(days=1))
    assert again is not None and (again.min_relevance, again.min_novelty) == (9, 8)

    migrate.downgrade(engine, "0005_affiliations")
    assert migrate.current(engine) == "0005_affiliations"
    assert not RUN_THRESHOLDS & {column["name"] for column in sa.inspect(engine).get_columns("run")}
    assert rows(engine)["run"][0] == before["run"][0]
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []


def test_0007_adds_followed_authors_and_its_downgrade_drops_them_keeping_the_rest(engine):
    migrate.upgrade(engine, "0001_initial")
    fill_0001(engine)
    migrate.upgrade(engine, "0006_run_thresholds")
    before = rows(engine)

    migrate.upgrade(engine, "0007_follows")
    assert migrate.current(engine) == "0007_follows"
    store = Store(engine)
    assert store.follow(1, parse_followed("Kaiming He"), by="U1") and store.followed(1)[0].shown == "Kaiming He"
    assert not store.follow(1, parse_followed("kaiming  he"))  # the unique (profile, key) holds on both databases

    migrate.downgrade(engine, "0006_run_thresholds")
    assert "followed_author" not in table_names(engine) and rows(engine) == before
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == [] and store.followed(1) == []


def test_sqlite_batch_mode_can_rebuild_a_table_that_rows_point_at(tmp_path):
    """A future revision that alters paper or profile on SQLite copies, drops and renames the table: with the
    foreign keys storage.db turns on, the drop would fail. The migration transaction turns them off meanwhile."""
    engine = make_engine(f"sqlite:///{tmp_path / 'rebuild.db'}")
    try:
        migrate.upgrade(engine, "0001_initial")
        fill_0001(engine)  # criteria_version, run and subscription rows point at the profile
        migrate.upgrade(engine)
        before = rows(engine)
        with migrate._migration_transaction(engine) as connection:
            operations = Operations(MigrationContext.configure(connection, opts=migrate.context_options()))
            with operations.batch_alter_table("profile", recreate="always") as batch_op:
                batch_op.alter_column("name", existing_type=sa.String(length=200), existing_nullable=False)
        assert rows(engine) == before and schema_diff(engine) == []
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def stored_before_tex_decoding(feed: Path) -> list[dict[str, Any]]:
    """The feed's papers as the code before TeX decoding stored them: raw TeX, authors split at every comma."""
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    return [
        dict(
            arxiv_id=item.findtext("link", "").rsplit("/", 1)[-1],
            title=item.findtext("title", ""),
            abstract=item.findtext("description", "").split("Abstract:", 1)[-1].strip(),
            authors=[name.strip() for name in item.findtext(dc, "").split(",")],
            categories=["cs.LG"],
            updated_at=WHEN,
        )
        for item in ET.parse(feed).iter("item")
    ]


def test_papers_stored_with_raw_tex_read_back_decoded_and_are_found_by_their_decoded_words(engine):
    migrate.upgrade(engine, "0004_search")
    papers = stored_before_tex_decoding(REAL_FEED)
    feed, day = feed_key(["cs.LG"]), dt.date(2025, 3, 25)
    tables = our_tables(engine)
    with engine.begin() as connection:
        connection.execute(tables["paper"].insert(), papers)
        connection.execute(tables["feed_day"].insert(), [dict(feed=feed, date=day, total_in_feed=4, source="rss",
                                                              fetched_at=WHEN)])
        connection.execute(tables["announcement"].insert(), [
            dict(feed=feed, date=day, arxiv_id=paper["arxiv_id"], announce_type="new", position=position)
            for position, paper in enumerate(papers)
        ])  # fmt: skip
    raw = {paper["arxiv_id"]: paper for paper in papers}
    assert "$\\sim$44%" in raw["2503.18216"]["abstract"] and "Jo\\~ao Silva" in raw["2503.17407"]["authors"]

    migrate.upgrade(engine)
    store = Store(engine)
    rana, survey = store.get_paper("2503.18216"), store.get_paper("2503.17407")
    assert rana is not None and survey is not None
    assert "reducing FLOPs by ~44% in state-of-the-art" in rana.abstract
    assert "João Silva" in survey.authors
    assert "Przemysław Nowak (Faculty of Mathematics" in survey.authors  # the old split is not repaired
    loaded = store.load_announcement(feed, day)
    assert loaded is not None and [p.arxiv_id for p in loaded.papers] == list(raw)
    assert not any("\\" in text for p in loaded.papers for text in (p.title, p.abstract, *p.authors))
    # The search index holds the decoded text (SQLite's triggers reindexed the rewritten rows).
    profile = store.ensure_profile(
        "default", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, default_criteria="1. MoE"
    )
    store.start_run(profile.id, day, model="gpt-4o-mini", criteria_key="k")
    assert [hit.arxiv_id for hit in store.search_papers(profile.id, "Przemysław")] == ["2503.17407"]
    assert [hit.arxiv_id for hit in store.search_papers(profile.id, "Gültekin")] == ["2503.18758"]

    # Downgrading drops the column in place: the text stays decoded and the search index keeps working.
    migrate.downgrade(engine, "0004_search")
    assert "affiliations" not in {column["name"] for column in sa.inspect(engine).get_columns("paper")}
    assert {row["arxiv_id"]: row["abstract"] for row in rows(engine)["paper"]}["2503.18216"] == rana.abstract
    if engine.dialect.name == "sqlite":  # a rebuilt paper table would have lost the FTS triggers
        with engine.connect() as connection:
            triggers = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
            assert set(triggers) == {"paper_fts_insert", "paper_fts_delete", "paper_fts_update"}


# prepare: what Store.open runs -------------------------------------------------------------------------


def test_prepare_creates_an_empty_database_from_the_models_and_stamps_head(engine, monkeypatch):
    add_bolt_tables(engine)  # not ours: the database still counts as empty

    def no_migrations(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an empty database is created from the models, without running the revisions")

    monkeypatch.setattr(command, "upgrade", no_migrations)
    migrate.prepare(engine)
    assert migrate.current(engine) == migrate.head()
    assert schema_diff(engine) == [] and table_names(engine) >= BOLT_TABLES


def test_prepare_adopts_an_unversioned_database_of_the_0001_schema(engine):
    """A database create_all made before migrations existed: stamped 0001_initial, then upgraded."""
    migrate.upgrade(engine, "0001_initial")
    fill_0001(engine)
    execute(engine, "DROP TABLE alembic_version")
    execute(engine, "DROP TABLE seen_event")  # as if made before that table existed too
    assert migrate.current(engine) is None

    migrate.prepare(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []
    [run] = rows(engine)["run"]
    assert run["status"] == "done" and (run["owner"], run["attempts"], run["llm_batch_id"]) == ("", 0, "")


def test_prepare_adopts_an_unversioned_database_of_the_last_schema_before_migrations(engine):
    migrate.upgrade(engine, migrate.PRE_MIGRATIONS_HEAD)  # what Store.open's create_all made before migrations
    execute(engine, "DROP TABLE alembic_version")
    migrate.prepare(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []


def test_prepare_refuses_a_run_table_with_only_some_of_the_new_columns(engine):
    migrate.upgrade(engine, "0001_initial")
    execute(engine, "DROP TABLE alembic_version")
    execute(engine, "ALTER TABLE run ADD COLUMN owner VARCHAR(100) DEFAULT '' NOT NULL")
    with pytest.raises(StorageError, match="lacks attempts, heartbeat_at, llm_batch_id"):
        migrate.prepare(engine)
    assert migrate.current(engine) is None  # nothing stamped


def test_prepare_leaves_a_database_at_head_alone(database_url):
    store = Store.open(database_url)
    store.ensure_profile(
        "default", categories=["cs.LG"], min_relevance=7, min_novelty=6, top_n=None, default_criteria="1. MoE"
    )
    before = rows(store.engine)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        migrate.prepare(store.engine)
    finally:
        store.close()
    writes = [s for s in statements if s.lstrip().split()[0].upper() in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}]
    assert statements and writes == []
    engine = make_engine(database_url)
    try:
        assert rows(engine) == before and migrate.current(engine) == migrate.head()
    finally:
        engine.dispose()


def test_a_database_migrated_by_a_newer_version_is_refused_with_a_clear_error(database_url, engine):
    migrate.prepare(engine)
    execute(engine, "UPDATE alembic_version SET version_num = '0099_from_the_future'")
    for attempt in (lambda: migrate.prepare(engine), lambda: migrate.upgrade(engine), lambda: Store.open(database_url)):
        with pytest.raises(StorageError, match=r"migrated by a newer version of arxiv-digest.*Upgrade arxiv-digest"):
            attempt()
    assert migrate.current(engine) == "0099_from_the_future"


def test_an_unknown_target_revision_is_a_storage_error(engine):
    with pytest.raises(StorageError, match="Cannot migrate the database to 'nope'"):
        migrate.upgrade(engine, "nope")


def test_processes_preparing_one_new_database_at_once_all_succeed_and_it_ends_at_head(database_url):
    starters = 4
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(database_url)  # an engine each, like separate processes
        try:
            barrier.wait(timeout=10)
            migrate.prepare(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
                migrate.head()
            ]
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_postgres_schemas_keep_databases_apart():
    """The isolation the PostgreSQL tests rely on: a database in one schema is invisible from another."""
    with postgres_schema() as first, postgres_schema() as second:
        one, other = make_engine(first), make_engine(second)
        try:
            migrate.prepare(one)
            assert migrate.current(one) == migrate.head()
            assert migrate.current(other) is None and table_names(other) == set()
        finally:
            one.dispose()
            other.dispose()


def test_profiles_before_0009_read_english_and_tldrs_are_stored_per_language_and_model(engine):
    before = filled_up_to(engine, "0008_weekly")
    migrate.upgrade(engine)
    assert migrate.current(engine) == HEAD and schema_diff(engine) == []
    store = Store(engine)
    assert store.profile_by_id(1).language == "en"
    assert store.update_profile(1, language="de").language == "de"
    [paper] = before["paper"]
    store.save_tldrs({paper["arxiv_id"]: Tldr("Sie zeigen etwas.")}, "de", "gpt-4o-mini")
    assert store.get_tldrs([paper["arxiv_id"]], "de", "gpt-4o-mini") == {paper["arxiv_id"]: Tldr("Sie zeigen etwas.")}

    migrate.downgrade(engine, "0008_weekly")
    assert "tldr" not in table_names(engine)
    assert "language" not in {column["name"] for column in sa.inspect(engine).get_columns("profile")}
    assert rows(engine) == before
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []


def test_tldrs_before_0011_have_no_translated_comment_and_keep_their_rows_both_ways(engine):
    filled_up_to(engine, "0010_criteria_drafts")
    with engine.begin() as connection:
        paper = connection.execute(sa.text("SELECT arxiv_id FROM paper")).scalar_one()
        connection.execute(sa.text(
            "INSERT INTO tldr (arxiv_id, language, model, text, created_at) VALUES (:p, 'de', 'm', 'Sie zeigen X.', :t)"
        ), {"p": paper, "t": WHEN})
    before = rows(engine)
    migrate.upgrade(engine)
    assert migrate.current(engine) == HEAD and schema_diff(engine) == []
    store = Store(engine)
    assert store.get_tldrs([paper], "de", "m") == {paper: Tldr("Sie zeigen X.")}  # the English comment stands
    store.save_tldrs({paper: Tldr("Ils montrent X.", "Passe au sujet 1.", "Matches topic 1.")}, "fr", "m")
    assert store.get_tldrs([paper], "fr", "m")[paper].comment_for("Matches topic 1.") == "Passe au sujet 1."

    migrate.downgrade(engine, "0010_criteria_drafts")
    assert not {"comment", "comment_source"} & {c["name"] for c in sa.inspect(engine).get_columns("tldr")}
    assert [row for row in rows(engine)["tldr"] if row["language"] == "de"] == before["tldr"]
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []


# arxiv-digest db ---------------------------------------------------------------------------------------


def test_cli_db_current_and_upgrade(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0 and result.output.startswith("not versioned"), result.output

    result = runner.invoke(app, ["db", "upgrade", "--revision", "0001_initial"])
    assert result.exit_code == 0, result.output
    assert result.output == f"Upgraded the database from no revision to 0001_initial (head is {HEAD}).\n"
    result = runner.invoke(app, ["db", "current"])
    assert result.output == f"0001_initial; head is {HEAD} — run `arxiv-digest db upgrade`\n"

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and f"from 0001_initial to {HEAD} (head)" in result.output, result.output
    assert runner.invoke(app, ["db", "current"]).output == f"{HEAD} (head)\n"
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0 and f"Nothing to do: the database is at {HEAD} (head)" in result.output


def test_cli_db_errors_are_one_clear_line_and_exit_1(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner.invoke(app, ["db", "upgrade", "--revision", "nope"])
    assert result.exit_code == 1 and "Cannot migrate the database to 'nope'" in result.output

    engine = make_engine(database_url)
    try:
        migrate.prepare(engine)
        execute(engine, "UPDATE alembic_version SET version_num = '0099_from_the_future'")
    finally:
        engine.dispose()
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 1 and "0099_from_the_future: unknown here" in result.output, result.output
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 1 and "migrated by a newer version of arxiv-digest" in result.output


def test_cli_db_says_when_the_database_cannot_be_reached(monkeypatch):
    pytest.importorskip("psycopg", reason="install the 'postgres' extra for PostgreSQL tests")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 1 and "Database error" in result.output and "DATABASE_URL" in result.output


def test_channels_before_0008_have_no_weekly_roundup_and_keep_their_rows_both_ways(engine):
    migrate.upgrade(engine, "0006_run_thresholds")
    fill_0001(engine)  # rows as the first release wrote them, in the schema just before
    before = rows(engine)
    migrate.upgrade(engine, "0008_weekly")
    assert migrate.current(engine) == "0008_weekly"
    [sub] = rows(engine)["subscription"]
    assert {key: sub[key] for key in before["subscription"][0]} == before["subscription"][0]
    assert (sub["weekly_day"], sub["weekly_time"]) == (None, "")  # off until an admin turns it on
    store = Store(engine)
    token = store.claim_week("slack", "C1", DAY)
    assert token is not None
    store.record_week("slack", "C1", DAY, token, "1741253400.000200")

    migrate.downgrade(engine, "0006_run_thresholds")
    assert "weekly_post" not in table_names(engine)
    assert not {"weekly_day", "weekly_time"} & {c["name"] for c in sa.inspect(engine).get_columns("subscription")}
    assert rows(engine)["subscription"] == before["subscription"]
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head() and schema_diff(engine) == []
