"""Full-text search over the papers of a profile's past digests (``/arxiv search``).

SQLite: an FTS5 table ``paper_fts`` (contentless, rowid = the paper row's rowid) that triggers on ``paper``
keep in step, ranked by bm25. PostgreSQL: an expression GIN index on the paper's text, ranked by ts_rank.
Revision 0004_search creates both for migrated databases; the listeners below create them when
``create_all`` makes the ``paper`` table (what ``storage.migrate.prepare`` does for an empty database).

A future revision that rebuilds ``paper`` on SQLite (batch mode copies, drops and renames it) loses the
triggers and renumbers rowids: it must drop ``paper_fts``, then run :data:`SQLITE_DDL` and
:data:`SQLITE_INDEX_EXISTING` again (as 0004_search does).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import DDL, event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from bot.domain.models import normalize_arxiv_id
from bot.domain.search import SearchHit, search_words
from bot.domain.taxonomy import feed_key
from storage.tables import PaperRow, ProfileRow

FTS_TABLE = "paper_fts"
# Tables SQLite makes for an FTS5 table (contentless: no _content): not ours to compare with the models.
FTS_TABLES = frozenset({FTS_TABLE, *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config"))})
PG_INDEX = "ix_paper_search"

# Authors are stored as JSON text (non-ASCII as \u escapes): the triggers index the decoded names.
_AUTHORS = "(SELECT group_concat(value, ' ') FROM json_each(CASE WHEN json_valid({0}) THEN {0} ELSE '[]' END))"
_NEW = f"new.rowid, new.title, new.abstract, {_AUTHORS.format('new.authors')}"
_OLD = f"'delete', old.rowid, old.title, old.abstract, {_AUTHORS.format('old.authors')}"
_COLUMNS = "rowid, title, abstract, authors"
SQLITE_DDL: tuple[str, ...] = (
    # Porter stemming matches "transformers" to "transformer"; bm25 weights title 10, abstract 1, authors 5.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, abstract, authors, content='', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS paper_fts_insert AFTER INSERT ON paper BEGIN "
    f"INSERT INTO {FTS_TABLE}({_COLUMNS}) VALUES ({_NEW}); END",
    # A contentless table forgets a row only when told the exact text it indexed.
    f"CREATE TRIGGER IF NOT EXISTS paper_fts_delete AFTER DELETE ON paper BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, {_COLUMNS}) VALUES ({_OLD}); END",
    # save_papers rewrites every paper of each announcement it stores: only real text changes reindex.
    f"CREATE TRIGGER IF NOT EXISTS paper_fts_update AFTER UPDATE OF title, abstract, authors ON paper "
    "WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, {_COLUMNS}) VALUES ({_OLD}); "
    f"INSERT INTO {FTS_TABLE}({_COLUMNS}) VALUES ({_NEW}); END",
)
SQLITE_INDEX_EXISTING = (
    f"INSERT INTO {FTS_TABLE}({_COLUMNS}) SELECT rowid, title, abstract, {_AUTHORS.format('authors')} FROM paper"
)
# The GIN index serves exactly this expression: the query below must spell it the same way. Authors go through
# jsonb, whose text form decodes the \u escapes the JSON column holds.
PG_DOCUMENT = "to_tsvector('english', title || ' ' || abstract || ' ' || authors::jsonb::text)"
PG_DDL = f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON paper USING gin (({PG_DOCUMENT}))"

_PAPER_TABLE: sa.Table = PaperRow.__table__  # type: ignore[attr-defined]  # SQLModel sets it; its stubs do not say so
for _statement in SQLITE_DDL:
    event.listen(_PAPER_TABLE, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(_PAPER_TABLE, "after_create", DDL(PG_DDL).execute_if(dialect="postgresql"))
event.listen(_PAPER_TABLE, "after_drop", DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"))


def fts5_query(words: list[str]) -> str:
    """Every word as a quoted FTS5 string (``AND`` is a word, not an operator); all must match."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


_HITS_SQLITE = (
    f"SELECT paper.arxiv_id AS arxiv_id, bm25({FTS_TABLE}, 10.0, 1.0, 5.0) AS score FROM {FTS_TABLE} "
    f"JOIN paper ON paper.rowid = {FTS_TABLE}.rowid WHERE {FTS_TABLE} MATCH :query"
)
_HITS_POSTGRES = (
    "SELECT arxiv_id, -ts_rank(setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', authors::jsonb::text), 'B') || setweight(to_tsvector('english', abstract), 'D'), "
    f"websearch_to_tsquery('english', :query)) AS score FROM paper "
    f"WHERE {PG_DOCUMENT} @@ websearch_to_tsquery('english', :query)"
)
_HITS_ID = "SELECT arxiv_id, 0.0 AS score FROM paper WHERE arxiv_id = :query"
# The profile's papers: announced in its feed on a day it has a run for; scores as that run stored them.
_SEARCH = """
WITH hits AS ({hits}),
days AS (
    SELECT a.arxiv_id AS arxiv_id, MAX(a.date) AS date
    FROM announcement AS a
    JOIN hits AS h ON h.arxiv_id = a.arxiv_id
    JOIN run AS r ON r.profile_id = :profile AND r.date = a.date
    WHERE a.feed = :feed
    GROUP BY a.arxiv_id
)
SELECT p.arxiv_id AS arxiv_id, p.title AS title, p.authors AS authors, d.date AS date,
       s.relevance AS relevance, s.novelty AS novelty
FROM hits AS h
JOIN days AS d ON d.arxiv_id = h.arxiv_id
JOIN paper AS p ON p.arxiv_id = h.arxiv_id
JOIN run AS r ON r.profile_id = :profile AND r.date = d.date
LEFT JOIN score AS s ON s.arxiv_id = h.arxiv_id AND s.criteria_key = r.criteria_key AND s.model = r.model
ORDER BY h.score, d.date DESC, h.arxiv_id
LIMIT :limit
"""


class SearchQueries:
    """Mixed into :class:`storage.store.Store`."""

    engine: Engine

    def search_papers(self, profile_id: int, words: str, limit: int = 10) -> list[SearchHit]:
        """Papers of the profile's past digests matching every word (or the arXiv ID given), best match first.

        An empty list when nothing matches or the query has no words.
        """
        arxiv_id = normalize_arxiv_id(words)
        found = search_words(words)
        if arxiv_id is None and not found:
            return []
        with self.engine.connect() as connection:
            categories = connection.execute(
                sa.select(col(ProfileRow.categories)).where(col(ProfileRow.id) == profile_id)
            ).scalar_one()
            hits, query = self._hits(connection, arxiv_id, found)
            statement = sa.text(_SEARCH.format(hits=hits)).columns(
                sa.column("arxiv_id", sa.String),
                sa.column("title", sa.String),
                sa.column("authors", sa.JSON),
                sa.column("date", sa.Date),
                sa.column("relevance", sa.Integer),
                sa.column("novelty", sa.Integer),
            )
            rows = connection.execute(
                statement, {"query": query, "profile": profile_id, "feed": feed_key(categories), "limit": limit}
            ).all()
        return [
            SearchHit(row.arxiv_id, row.title, tuple(row.authors or ()), row.date, row.relevance, row.novelty)
            for row in rows
        ]

    @staticmethod
    def _hits(connection: Connection, arxiv_id: str | None, words: list[str]) -> tuple[str, str]:
        """The dialect's matching subquery and its parameter."""
        if arxiv_id is not None:
            return _HITS_ID, arxiv_id
        if connection.dialect.name == "postgresql":
            return _HITS_POSTGRES, " ".join(words)
        return _HITS_SQLITE, fts5_query(words)
