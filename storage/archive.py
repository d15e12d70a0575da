"""Read-only queries for the archive site: a profile's runs and the feed each day was read from."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.runs import Run
from storage.runs import to_run
from storage.tables import AnnouncementRow, FeedDayRow, RunRow, ScoreRow


class ArchiveQueries:
    """Mixed into :class:`storage.store.Store`."""

    engine: Engine

    def profile_runs(self, profile_id: int) -> list[Run]:
        """Every run of the profile, oldest day first."""
        with Session(self.engine) as session:
            rows = session.exec(select(RunRow).where(RunRow.profile_id == profile_id).order_by(col(RunRow.date)))
            return [to_run(row) for row in rows]

    def run_feed(self, run: Run, current_feed: str) -> str | None:
        """The feed the run's day was read from: the profile's current one if it has that day, else (the profile's
        categories changed since) the feed of that day with the most papers scored under the run's criteria."""
        with Session(self.engine) as session:
            if session.get(FeedDayRow, (current_feed, run.date)) is not None:
                return current_feed
            scored = func.count(col(ScoreRow.id))
            return session.exec(
                select(AnnouncementRow.feed)
                .join(ScoreRow, col(ScoreRow.arxiv_id) == col(AnnouncementRow.arxiv_id))
                .where(
                    AnnouncementRow.date == run.date,
                    ScoreRow.criteria_key == run.criteria_key,
                    ScoreRow.model == run.model,
                )
                .group_by(col(AnnouncementRow.feed))
                .order_by(scored.desc(), col(AnnouncementRow.feed))
            ).first()
