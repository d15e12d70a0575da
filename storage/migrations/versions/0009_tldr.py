"""Profiles have a language for their TL;DRs; TL;DRs are stored per paper, language and model.

Revision ID: 0009_tldr
Revises: 0008_weekly
Create Date: 2026-11-30

Profiles stored before read English, what every digest was written in until now.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_tldr"
down_revision: str | None = "0008_weekly"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profile") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=40), nullable=False, server_default="en"))
    op.create_table(
        "tldr",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["arxiv_id"], ["paper.arxiv_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("arxiv_id", "language", "model"),
    )
    op.create_index("ix_tldr_arxiv_id", "tldr", ["arxiv_id"])


def downgrade() -> None:
    op.drop_index("ix_tldr_arxiv_id", table_name="tldr")
    op.drop_table("tldr")
    with op.batch_alter_table("profile") as batch_op:
        batch_op.drop_column("language")
