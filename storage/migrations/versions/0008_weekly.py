"""The weekly roundup: a channel's roundup day and time, and the roundups posted (one per channel and ISO week).

Revision ID: 0008_weekly
Revises: 0007_follows
Create Date: 2026-11-30

Channels subscribed before have no roundup (weekly_day NULL) until an admin turns it on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_weekly"
down_revision: str | None = "0007_follows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "weekly_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "channel", "week"),
    )
    with op.batch_alter_table("subscription") as batch_op:
        batch_op.add_column(sa.Column("weekly_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("weekly_time", sa.String(length=5), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_table("weekly_post")
    with op.batch_alter_table("subscription") as batch_op:
        batch_op.drop_column("weekly_time")
        batch_op.drop_column("weekly_day")
