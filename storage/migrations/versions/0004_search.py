"""Full-text search over papers: an FTS5 table kept in step by triggers on SQLite, a GIN index on PostgreSQL.

Revision ID: 0004_search
Revises: 0003_learning
Create Date: 2026-11-23

No model changes: storage/search.py holds the same DDL for databases create_all makes. The statements are
repeated here, as they were at this revision, so later edits there cannot change what this revision did.
Papers already stored are indexed.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_search"
down_revision: str | None = "0003_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUTHORS = "(SELECT group_concat(value, ' ') FROM json_each(CASE WHEN json_valid({0}) THEN {0} ELSE '[]' END))"
_NEW = f"new.rowid, new.title, new.abstract, {_AUTHORS.format('new.authors')}"
_OLD = f"'delete', old.rowid, old.title, old.abstract, {_AUTHORS.format('old.authors')}"
_COLUMNS = "rowid, title, abstract, authors"
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS paper_fts USING fts5(title, abstract, authors, content='', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS paper_fts_insert AFTER INSERT ON paper BEGIN "
    f"INSERT INTO paper_fts({_COLUMNS}) VALUES ({_NEW}); END",
    f"CREATE TRIGGER IF NOT EXISTS paper_fts_delete AFTER DELETE ON paper BEGIN "
    f"INSERT INTO paper_fts(paper_fts, {_COLUMNS}) VALUES ({_OLD}); END",
    "CREATE TRIGGER IF NOT EXISTS paper_fts_update AFTER UPDATE OF title, abstract, authors ON paper "
    "WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors BEGIN "
    f"INSERT INTO paper_fts(paper_fts, {_COLUMNS}) VALUES ({_OLD}); "
    f"INSERT INTO paper_fts({_COLUMNS}) VALUES ({_NEW}); END",
    f"INSERT INTO paper_fts({_COLUMNS}) SELECT rowid, title, abstract, {_AUTHORS.format('authors')} FROM paper",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS paper_fts_update",
    "DROP TRIGGER IF EXISTS paper_fts_delete",
    "DROP TRIGGER IF EXISTS paper_fts_insert",
    "DROP TABLE IF EXISTS paper_fts",
)
POSTGRES_UPGRADE = (
    "CREATE INDEX IF NOT EXISTS ix_paper_search ON paper "
    "USING gin ((to_tsvector('english', title || ' ' || abstract || ' ' || authors::jsonb::text)))",
)
POSTGRES_DOWNGRADE = ("DROP INDEX IF EXISTS ix_paper_search",)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRES_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRES_DOWNGRADE})
