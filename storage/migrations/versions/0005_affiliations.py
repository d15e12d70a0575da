"""Papers keep their authors' affiliations; papers stored before TeX decoding are decoded.

Revision ID: 0005_affiliations
Revises: 0004_search
Create Date: 2026-11-30

The feeds decode TeX at ingestion now (bot/domain/tex.py); rows stored before still read ``Przemys{\\l}aw`` and
``$\\sim$44%``. Decoding them here, once, fixes every reader at the root: the renderers, the prefilter's text
and the search index (SQLite's FTS triggers reindex the changed rows; PostgreSQL's index follows the
columns). The decoder is imported from bot/, which storage may import (never adapters/): it is today's
decoder, not a frozen copy, so a database upgraded later gets the better decoding. Downgrading drops the
column but leaves the text decoded: older code reads Unicode as well as it reads TeX.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_affiliations"
down_revision: str | None = "0004_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500  # rows read at a time: an archive of many years stays out of memory
_PAPER = sa.table(
    "paper",
    sa.column("arxiv_id", sa.String()),
    sa.column("title", sa.String()),
    sa.column("abstract", sa.String()),
    sa.column("authors", sa.JSON()),
)


def upgrade() -> None:
    # Batch mode adds a column with ALTER TABLE on SQLite too: the table is not rebuilt, its FTS triggers stay.
    with op.batch_alter_table("paper") as batch_op:
        batch_op.add_column(sa.Column("affiliations", sa.JSON(), nullable=True))
    decode_stored_papers(op.get_bind())


def decode_stored_papers(connection: sa.Connection) -> None:
    """Rewrite the title, abstract and authors of every paper whose text still holds TeX."""
    from bot.domain.tex import decode_tex  # pylatexenc loads only when a database is upgraded

    after = ""
    while True:
        rows = connection.execute(
            sa.select(_PAPER).where(_PAPER.c.arxiv_id > after).order_by(_PAPER.c.arxiv_id).limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            authors = row.authors if isinstance(row.authors, list) else []
            decoded = {
                "title": decode_tex(row.title),
                "abstract": decode_tex(row.abstract),
                "authors": [name for name in (decode_tex(str(author)) for author in authors) if name],
            }
            if (decoded["title"], decoded["abstract"], decoded["authors"]) != (row.title, row.abstract, authors):
                connection.execute(_PAPER.update().where(_PAPER.c.arxiv_id == row.arxiv_id).values(**decoded))
        after = rows[-1].arxiv_id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite >= 3.35 drops a column in place; batch mode would rebuild paper and lose its FTS triggers.
        op.execute("ALTER TABLE paper DROP COLUMN affiliations")
    else:
        op.drop_column("paper", "affiliations")
