"""Queries on run rows: which days a profile still owes its channel, who works on a run, and how it ended."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.runs import Run
from bot.domain.statuses import FINAL_RUNS, UNFINISHED_RUNS, RunStatus
from storage.locks import try_run_lock
from storage.tables import AnnouncementRow, RunRow, to_value
from storage.upsert import insert_missing


def process_name() -> str:
    """Who holds a run: enough to find the process in logs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def to_run(row: RunRow) -> Run:
    return to_value(Run, row, status=RunStatus(row.status))


def run_row(session: Session, profile_id: int, date: dt.date) -> RunRow:
    """The run row of (profile, day), created if missing and locked for this transaction: two processes
    (two schedulers starting together) may ask for it at the same moment, and both get the one row."""
    insert_missing(session, RunRow, [{"profile_id": profile_id, "date": date, "status": RunStatus.STARTED,
                                      "started_at": dt.datetime.now(dt.UTC)}], ["profile_id", "date"])
    return session.exec(
        select(RunRow).where(RunRow.profile_id == profile_id, RunRow.date == date).with_for_update()
    ).one()


class RunQueries:
    """Mixed into :class:`storage.store.Store`."""

    engine: Engine

    def run_lock(self, profile_id: int, date: dt.date) -> contextlib.AbstractContextManager[bool]:
        """Hold the run's lock across processes for a ``with`` block if nobody else does; gives whether we got it."""
        return try_run_lock(self.engine, profile_id, date)

    def run_statuses(self, profile_id: int, dates: Iterable[dt.date]) -> dict[dt.date, RunStatus]:
        wanted = list(dates)
        if not wanted:
            return {}
        with Session(self.engine) as session:
            rows = session.exec(
                select(col(RunRow.date), col(RunRow.status))
                .where(RunRow.profile_id == profile_id, col(RunRow.date).in_(wanted))
            ).all()
            return {date: RunStatus(status) for date, status in rows}

    def latest_final_run(self, profile_id: int) -> dt.date | None:
        """The newest day this profile's channel has fully received (posted, empty or skipped)."""
        with Session(self.engine) as session:
            return session.exec(
                select(col(RunRow.date))
                .where(RunRow.profile_id == profile_id, col(RunRow.status).in_(FINAL_RUNS))
                .order_by(col(RunRow.date).desc())
            ).first()

    def unfinished_after(self, profile_id: int, day: dt.date) -> list[dt.date]:
        """Days after ``day`` whose run was cut off, oldest first: an ``/arxiv run`` a restart interrupted."""
        with Session(self.engine) as session:
            return list(session.exec(
                select(col(RunRow.date))
                .where(RunRow.profile_id == profile_id, col(RunRow.date) > day, col(RunRow.status).in_(UNFINISHED_RUNS))
                .order_by(col(RunRow.date))
            ))

    def mark_run(self, profile_id: int, date: dt.date, status: RunStatus, message: str = "") -> Run:
        """Set a run's status, creating the row for days that never got as far as scoring."""
        with Session(self.engine) as session:
            row = run_row(session, profile_id, date)
            row.status = status
            if message:
                row.message = message
            row.heartbeat_at = dt.datetime.now(dt.UTC)
            if status in FINAL_RUNS:
                row.finished_at = row.heartbeat_at
            session.add(row)
            session.commit()
            session.refresh(row)
            return to_run(row)

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

    def get_run_by_id(self, run_id: int) -> Run:
        with Session(self.engine) as session:
            return to_run(session.get_one(RunRow, run_id))
