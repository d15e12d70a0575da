"""Learning: prefilter models, per-paper decisions, criteria suggestions, a channel's feedback switch, and the
criteria version of a run.

Revision ID: 0003_learning
Revises: 0002_run_claims
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_learning"
down_revision: str | None = "0002_run_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch_op:
        batch_op.add_column(sa.Column("criteria_version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("prompt_examples", sa.String(), nullable=False, server_default=""))
    with op.batch_alter_table("subscription") as batch_op:
        batch_op.add_column(sa.Column("learn_from_feedback", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("feedback_since", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "learned_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("criteria_version", sa.Integer(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("train_seconds", sa.Float(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profile.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "version"),
    )
    op.create_index("ix_learned_model_profile_id", "learned_model", ["profile_id"])
    op.create_table(
        "paper_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("prefilter_score", sa.Float(), nullable=True),
        sa.Column("route", sa.String(length=10), nullable=False),
        sa.Column("llm_rank", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("adjustment", sa.Float(), nullable=False),
        sa.Column("explanation", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profile.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "date", "arxiv_id"),
    )
    op.create_index("ix_paper_decision_profile_id", "paper_decision", ["profile_id"])
    op.create_index("ix_paper_decision_date", "paper_decision", ["date"])
    op.create_table(
        "criteria_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("rationale", sa.String(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profile.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_criteria_suggestion_profile_id", "criteria_suggestion", ["profile_id"])


def downgrade() -> None:
    op.drop_index("ix_criteria_suggestion_profile_id", table_name="criteria_suggestion")
    op.drop_table("criteria_suggestion")
    op.drop_index("ix_paper_decision_date", table_name="paper_decision")
    op.drop_index("ix_paper_decision_profile_id", table_name="paper_decision")
    op.drop_table("paper_decision")
    op.drop_index("ix_learned_model_profile_id", table_name="learned_model")
    op.drop_table("learned_model")
    with op.batch_alter_table("subscription") as batch_op:
        batch_op.drop_column("feedback_since")
        batch_op.drop_column("learn_from_feedback")
    with op.batch_alter_table("run") as batch_op:
        batch_op.drop_column("prompt_examples")
        batch_op.drop_column("criteria_version")
