"""Run rows remember who works on them: owner, heartbeat, attempts and an OpenAI batch job in progress.

Revision ID: 0002_run_claims
Revises: 0001_initial
Create Date: 2026-11-22

Server defaults fill the rows already there (and keep an older process's inserts valid).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_run_claims"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("llm_batch_id", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("run") as batch_op:
        batch_op.drop_column("llm_batch_id")
        batch_op.drop_column("attempts")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("owner")
