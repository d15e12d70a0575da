"""Runs record the thresholds their ranking used, so the archive ranks a past day as it was posted.

Revision ID: 0006_run_thresholds
Revises: 0005_affiliations
Create Date: 2026-11-30

Runs stored before stay NULL: nothing in the database says what they used, and the archive stands the
profile's current thresholds in for them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_run_thresholds"
down_revision: str | None = "0005_affiliations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = ("min_relevance", "min_novelty")  # both NULL on the runs stored before


def upgrade() -> None:
    with op.batch_alter_table("run") as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run") as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
