"""A channel's pending criteria change, previewed before it applies.

Revision ID: 0010_criteria_drafts
Revises: 0009_tldr
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_criteria_drafts"
down_revision: str | None = "0009_tldr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "criteria_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("suggestion", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profile.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id"),
    )
    op.create_index("ix_criteria_draft_profile_id", "criteria_draft", ["profile_id"])


def downgrade() -> None:
    op.drop_index("ix_criteria_draft_profile_id", table_name="criteria_draft")
    op.drop_table("criteria_draft")
