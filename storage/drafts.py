"""Queries for a channel's pending criteria change (previewed before it applies)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.criteria import CriteriaDraft
from storage.tables import CriteriaDraftRow


class DraftQueries:
    """Mixed into :class:`storage.store.Store`; every method is one short transaction."""

    engine: Engine

    def set_draft(self, profile_id: int, draft: CriteriaDraft) -> None:
        """Make ``draft`` the profile's pending change, replacing any earlier one."""
        with Session(self.engine) as session:
            session.exec(delete(CriteriaDraftRow).where(col(CriteriaDraftRow.profile_id) == profile_id))
            session.add(CriteriaDraftRow(profile_id=profile_id, text=draft.text, author=draft.author,
                                         suggestion=draft.suggestion))
            session.commit()

    def get_draft(self, profile_id: int) -> CriteriaDraft | None:
        with Session(self.engine) as session:
            row = session.exec(select(CriteriaDraftRow).where(CriteriaDraftRow.profile_id == profile_id)).first()
            return CriteriaDraft(row.text, row.author, row.suggestion) if row is not None else None

    def clear_draft(self, profile_id: int) -> bool:
        """Forget the pending change; False when there was none."""
        with Session(self.engine) as session:
            result = session.exec(delete(CriteriaDraftRow).where(col(CriteriaDraftRow.profile_id) == profile_id))
            session.commit()
            return bool(result.rowcount)
