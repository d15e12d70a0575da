"""Followed authors per profile (/arxiv follow, DIGEST_FOLLOW).

Revision ID: 0007_follows
Revises: 0006_run_thresholds
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_follows"
down_revision: str | None = "0006_run_thresholds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followed_author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profile.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "key"),
    )
    op.create_index("ix_followed_author_profile_id", "followed_author", ["profile_id"])


def downgrade() -> None:
    op.drop_index("ix_followed_author_profile_id", table_name="followed_author")
    op.drop_table("followed_author")
