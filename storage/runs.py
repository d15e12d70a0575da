"""Queries on run rows: which days a profile still owes its channel, who works on a run, and how it ended."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.tables import AnnouncementRow, RunRow
from storage.upsert import insert_missing

# A run in one of these states needs nothing more; any other state is finished by the next attempt.
FINAL = frozenset({"posted", "empty", "skipped"})
# Runs cut off before their messages were all out (a restart, a crash): scored or being scored.
UNFINISHED = frozenset({"started", "done", "partial"})


def process_name() -> str:
    """Who holds a run: enough to find the process in logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_row(session: Session, profile_id: int, date: dt.date) -> RunRow:
    """The run row of (profile, day), created if missing and locked for this transaction: two processes
    (two schedulers starting together) may ask for it at the same moment, and both get the one row."""
    insert_missing(session, RunRow, [{"profile_id": profile_id, "date": date, "status": "started",
                                      "started_at": dt.datetime.now(dt.UTC)}], ["profile_id", "date"])
    return session.exec(
        select(RunRow).where(RunRow.profile_id == profile_id, RunRow.date == date).with_for_update()
    ).one()


class RunQueries:
    engine: Engine

    def run_statuses(self, profile_id: int, dates: Iterable[dt.date]) -> dict[dt.date, str]:
        wanted = list(dates)
        if not wanted:
            return {}
        with Session(self.engine) as session:
            rows = session.exec(
                select(col(RunRow.date), col(RunRow.status))
                .where(RunRow.profile_id == profile_id, col(RunRow.date).in_(wanted))
            ).all()
            return {date: status for date, status in rows}

    def latest_final_run(self, profile_id: int) -> dt.date | None:
        """The newest day this profile's channel has fully received (posted, empty or skipped)."""
        with Session(self.engine) as session:
            return session.exec(
                select(col(RunRow.date))
                .where(RunRow.profile_id == profile_id, col(RunRow.status).in_(FINAL))
                .order_by(col(RunRow.date).desc())
            ).first()

    def unfinished_after(self, profile_id: int, day: dt.date) -> list[dt.date]:
        """Days after ``day`` whose run was cut off, oldest first: an ``/arxiv run`` a restart interrupted."""
        with Session(self.engine) as session:
            return list(session.exec(
                select(col(RunRow.date))
                .where(RunRow.profile_id == profile_id, col(RunRow.date) > day, col(RunRow.status).in_(UNFINISHED))
                .order_by(col(RunRow.date))
            ))

    def mark_run(self, profile_id: int, date: dt.date, status: str, message: str = "") -> RunRow:
        """Set a run's status, creating the row for days that never got as far as scoring."""
        with Session(self.engine) as session:
            row = run_row(session, profile_id, date)
            row.status = status
            if message:
                row.message = message
            row.heartbeat_at = dt.datetime.now(dt.UTC)
            if status in FINAL:
                row.finished_at = row.heartbeat_at
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    def announced_later(self, feed: str, date: dt.date) -> set[str]:
        """IDs a feed announced after ``date``: a day rebuilt from the API must not repeat them."""
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(AnnouncementRow.arxiv_id).where(AnnouncementRow.feed == feed, AnnouncementRow.date > date)
                )
            )

    def set_batch_id(self, run_id: int, batch_id: str) -> None:
        with Session(self.engine) as session:
            row = session.get_one(RunRow, run_id)
            row.llm_batch_id = batch_id
            session.add(row)
            session.commit()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def get_run_by_id(self, run_id: int) -> RunRow:
        with Session(self.engine) as session:
            return session.get_one(RunRow, run_id)
