"""TL;DRs carry the criteria comment translated into their language, with the English comment it translates.

Revision ID: 0011_translated_comments
Revises: 0010_criteria_drafts
Create Date: 2026-11-30

TL;DRs stored before have none: their channels show the English comment, as they did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_translated_comments"
down_revision: str | None = "0010_criteria_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tldr") as batch_op:
        batch_op.add_column(sa.Column("comment", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("comment_source", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tldr") as batch_op:
        batch_op.drop_column("comment_source")
        batch_op.drop_column("comment")
