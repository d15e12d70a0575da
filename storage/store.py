"""Queries on our tables. Each method is one short transaction: no LLM call ever runs inside one."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, col, select

from bot.domain.criteria import CriteriaVersion
from bot.domain.models import Announcement, Judgment, Paper, Profile, Tldr, Usage
from bot.domain.runs import Run
from bot.domain.settings import DEFAULT_DB_MAX_OVERFLOW, DEFAULT_DB_POOL_SIZE
from bot.domain.statuses import FeedbackKind, RunStatus
from storage.archive import ArchiveQueries
from storage.asks import AskQueries
from storage.channels import ChannelQueries
from storage.db import make_engine
from storage.drafts import DraftQueries
from storage.follows import FollowQueries
from storage.learning import LearningQueries
from storage.locks import release_all
from storage.migrate import prepare
from storage.offload import DbThreads
from storage.runs import RunQueries, process_name, run_row, to_run
from storage.search import SearchQueries
from storage.tables import (
    AnnouncementRow,
    CriteriaVersionRow,
    FeedbackRow,
    FeedDayRow,
    PaperRow,
    ProfileRow,
    RunRow,
    ScoreRow,
    TldrRow,
    to_value,
)
from storage.upsert import insert_missing, upsert
from storage.weekly import WeeklyQueries

P = ParamSpec("P")
R = TypeVar("R")
KEPT_ANNOUNCEMENTS = 16  # (feed, day)s whose papers a store keeps in memory (the first kept goes first)


def _paper(row: PaperRow, announce_type: str = "new") -> Paper:
    # Affiliations pair with the authors by position: a list that no longer lines up with them is dropped.
    affiliations = row.affiliations or []
    return Paper(
        arxiv_id=row.arxiv_id,
        title=row.title,
        authors=tuple(row.authors),
        abstract=row.abstract,
        categories=tuple(row.categories),
        announce_type=announce_type,
        affiliations=tuple(affiliations) if len(affiliations) == len(row.authors) and any(affiliations) else (),
    )


class Store(
    ChannelQueries, RunQueries, ArchiveQueries, SearchQueries, LearningQueries, FollowQueries, WeeklyQueries,
    DraftQueries, AskQueries,
):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # A thread per pooled connection: async callers queue here, and never for a connection.
        self.threads = DbThreads(engine.pool.size() if isinstance(engine.pool, QueuePool) else 1)
        self._announcements: dict[tuple[str, dt.date], tuple[tuple[object, ...], Announcement]] = {}
        self._announcements_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, pool_size: int = DEFAULT_DB_POOL_SIZE,
             max_overflow: int = DEFAULT_DB_MAX_OVERFLOW) -> Store:
        """Connect and bring the schema to this code's (see storage.migrate.prepare)."""
        engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        try:
            prepare(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.threads.close()
        release_all(self.engine)
        self.engine.dispose()

    async def aio(self, call: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``await store.aio(store.record_post, ...)``: a store call from async code, on the store's threads so
        the event loop never waits for the database. The call is made even if the caller is cancelled."""
        return await self.threads.run(call, *args, **kwargs)

    def locked_run(self, profile_id: int, date: dt.date) -> contextlib.AbstractAsyncContextManager[bool]:
        """``async with store.locked_run(...) as held``: :meth:`run_lock` for async code, taken and let go on
        the store's threads."""
        return self.threads.entered(lambda: self.run_lock(profile_id, date))

    # papers and announcements -------------------------------------------------------------

    def save_papers(self, papers: Iterable[Paper]) -> None:
        """Store papers, updating the ones we have (another process may save the same day at once)."""
        now = dt.datetime.now(dt.UTC)
        rows = {
            paper.arxiv_id: {
                "arxiv_id": paper.arxiv_id, "title": paper.title, "abstract": paper.abstract,
                "authors": list(paper.authors), "categories": list(paper.categories), "updated_at": now,
                "affiliations": list(paper.affiliations) if any(paper.affiliations) else None,
            }
            for paper in papers
        }
        with Session(self.engine) as session:
            # Affiliations come from the RSS feed only: an arXiv API look-up of the same paper keeps them.
            upsert(session, PaperRow, list(rows.values()), ["arxiv_id"],
                   ["title", "abstract", "authors", "categories", "updated_at"], keep_unless_given=["affiliations"])
            session.commit()

    def get_paper(self, arxiv_id: str) -> Paper | None:
        with Session(self.engine) as session:
            row = session.get(PaperRow, arxiv_id)
            return _paper(row) if row else None

    def liked_papers(self, platform: str, channel: str, since: dt.datetime) -> list[Paper]:
        """The papers someone in the channel gave a 👍 (any positive signal) since ``since``, first liked first."""
        query = (
            select(PaperRow, func.min(FeedbackRow.created_at))
            .join(FeedbackRow, col(FeedbackRow.arxiv_id) == col(PaperRow.arxiv_id))
            .where(
                FeedbackRow.platform == platform, FeedbackRow.channel == channel,
                FeedbackRow.kind == FeedbackKind.POSITIVE, col(FeedbackRow.created_at) >= since,
            )
            .group_by(col(PaperRow.arxiv_id))
            .order_by(func.min(FeedbackRow.created_at), col(PaperRow.arxiv_id))
        )
        with Session(self.engine) as session:
            return [_paper(row) for row, _ in session.exec(query).all()]

    def save_announcement(self, feed: str, announcement: Announcement) -> None:
        self.save_papers(announcement.papers)
        with Session(self.engine) as session:
            upsert(session, FeedDayRow, [{
                "feed": feed, "date": announcement.date, "total_in_feed": announcement.total_in_feed,
                "source": announcement.source, "fetched_at": dt.datetime.now(dt.UTC),
            }], ["feed", "date"], ["total_in_feed", "source", "fetched_at"])
            insert_missing(session, AnnouncementRow, [
                {"feed": feed, "date": announcement.date, "arxiv_id": paper.arxiv_id,
                 "announce_type": paper.announce_type, "position": position}
                for position, paper in enumerate(announcement.papers)
            ], ["feed", "date", "arxiv_id"])
            session.commit()

    def load_announcement(self, feed: str, date: dt.date) -> Announcement | None:
        with Session(self.engine) as session:
            day = session.get(FeedDayRow, (feed, date))
            if day is None:
                return None
            joined = (
                col(PaperRow.arxiv_id) == col(AnnouncementRow.arxiv_id),
                (AnnouncementRow.feed == feed) & (AnnouncementRow.date == date),
            )
            # A thousand channels' runs load the same day: the papers are read again only when a row of them
            # changed (the database answers that without sending them).
            count, changed = session.exec(
                select(func.count(), func.max(PaperRow.updated_at)).select_from(AnnouncementRow)
                .join(PaperRow, joined[0]).where(joined[1])
            ).one()
            version = (day.fetched_at, day.total_in_feed, day.source, count, changed)
            with self._announcements_lock:
                kept = self._announcements.get((feed, date))
            if kept is not None and kept[0] == version:
                return kept[1]
            rows = session.exec(
                select(AnnouncementRow, PaperRow).join(PaperRow, joined[0]).where(joined[1])
                .order_by(col(AnnouncementRow.position))
            ).all()
            papers = tuple(_paper(paper, ann.announce_type) for ann, paper in rows)
            announcement = Announcement(date=date, papers=papers, total_in_feed=day.total_in_feed, source=day.source)
            with self._announcements_lock:
                self._announcements[(feed, date)] = (version, announcement)
                while len(self._announcements) > KEPT_ANNOUNCEMENTS:
                    del self._announcements[next(iter(self._announcements))]
            return announcement

    # profiles and criteria ----------------------------------------------------------------

    def ensure_profile(
        self,
        name: str,
        *,
        categories: Sequence[str],
        min_relevance: int,
        min_novelty: int,
        top_n: int | None,
        default_criteria: str,
        update: bool = False,
    ) -> Profile:
        """Get the profile, creating it with the default criteria; ``update`` applies the given settings."""
        with Session(self.engine) as session:
            row = session.exec(select(ProfileRow).where(ProfileRow.name == name)).first()
            if row is None or update:
                row = row or ProfileRow(name=name)
                row.categories = list(categories)
                row.min_relevance, row.min_novelty, row.top_n = min_relevance, min_novelty, top_n
                session.add(row)
                session.flush()
            assert row.id is not None
            if self._current_criteria(session, row.id) is None:
                session.add(CriteriaVersionRow(profile_id=row.id, version=1, text=default_criteria, author="default"))
            session.commit()
            return self._profile(session, row)

    def get_profile(self, name: str) -> Profile | None:
        with Session(self.engine) as session:
            row = session.exec(select(ProfileRow).where(ProfileRow.name == name)).first()
            return self._profile(session, row) if row else None

    def profile_by_id(self, profile_id: int) -> Profile:
        with Session(self.engine) as session:
            return self._profile(session, session.get_one(ProfileRow, profile_id))

    def update_profile(
        self,
        profile_id: int,
        *,
        categories: Sequence[str] | None = None,
        min_relevance: int | None = None,
        min_novelty: int | None = None,
        language: str | None = None,
    ) -> Profile:
        """Change a profile's categories, thresholds and/or language (the caller validated them)."""
        with Session(self.engine) as session:
            row = session.get_one(ProfileRow, profile_id)
            if categories is not None:
                row.categories = list(categories)
            if min_relevance is not None:
                row.min_relevance = min_relevance
            if min_novelty is not None:
                row.min_novelty = min_novelty
            if language is not None:
                row.language = language
            session.add(row)
            session.commit()
            return self._profile(session, row)

    def _profile(self, session: Session, row: ProfileRow) -> Profile:
        assert row.id is not None
        current = self._current_criteria(session, row.id)
        assert current is not None
        return Profile(
            id=row.id,
            name=row.name,
            categories=tuple(row.categories),
            min_relevance=row.min_relevance,
            min_novelty=row.min_novelty,
            top_n=row.top_n,
            criteria=current.text,
            criteria_version=current.version,
            language=row.language,
        )

    @staticmethod
    def _current_criteria(session: Session, profile_id: int) -> CriteriaVersionRow | None:
        return session.exec(
            select(CriteriaVersionRow)
            .where(CriteriaVersionRow.profile_id == profile_id, col(CriteriaVersionRow.reverted).is_(False))
            .order_by(col(CriteriaVersionRow.version).desc())
        ).first()

    def set_criteria(self, profile_id: int, text: str, author: str = "") -> int:
        """Store a new criteria version (the caller validated the text); returns its number."""
        with Session(self.engine) as session:
            newest = session.exec(
                select(func.max(CriteriaVersionRow.version)).where(CriteriaVersionRow.profile_id == profile_id)
            ).one()
            version = (newest or 0) + 1
            session.add(CriteriaVersionRow(profile_id=profile_id, version=version, text=text, author=author))
            session.commit()
            return version

    def undo_criteria(self, profile_id: int) -> int | None:
        """Put the previous version back in force; None when there is nothing to undo."""
        with Session(self.engine) as session:
            active = session.exec(
                select(CriteriaVersionRow)
                .where(CriteriaVersionRow.profile_id == profile_id, col(CriteriaVersionRow.reverted).is_(False))
                .order_by(col(CriteriaVersionRow.version).desc())
            ).all()
            if len(active) < 2:
                return None
            active[0].reverted = True
            session.add(active[0])
            session.commit()
            return active[1].version

    def criteria_history(self, profile_id: int) -> list[CriteriaVersion]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(CriteriaVersionRow)
                .where(CriteriaVersionRow.profile_id == profile_id)
                .order_by(col(CriteriaVersionRow.version).desc())
            )
            return [to_value(CriteriaVersion, row) for row in rows]

    # TL;DRs ------------------------------------------------------------------------------

    def get_tldrs(self, arxiv_ids: Iterable[str], language: str, model: str) -> dict[str, Tldr]:
        """The stored TL;DRs (and translated comments) of these papers in this language by this model, by arXiv ID."""
        ids = list(dict.fromkeys(arxiv_ids))
        found: dict[str, Tldr] = {}
        with Session(self.engine) as session:
            for start in range(0, len(ids), 500):  # stay under the databases' bound-parameter limits
                rows = session.exec(select(TldrRow).where(
                    col(TldrRow.arxiv_id).in_(ids[start:start + 500]), TldrRow.language == language,
                    TldrRow.model == model,
                ))
                found.update((row.arxiv_id, Tldr(row.text, row.comment, row.comment_source)) for row in rows)
        return found

    def save_tldrs(self, tldrs: dict[str, Tldr], language: str, model: str) -> None:
        """Store TL;DRs of papers already stored; one written meanwhile by another process is kept."""
        with Session(self.engine) as session:
            insert_missing(session, TldrRow, [
                {"arxiv_id": pid, "language": language, "model": model, "text": tldr.text, "comment": tldr.comment,
                 "comment_source": tldr.comment_source, "created_at": dt.datetime.now(dt.UTC)}
                for pid, tldr in tldrs.items()
            ], ["arxiv_id", "language", "model"])
            session.commit()

    # scores ------------------------------------------------------------------------------

    def get_judgments(self, arxiv_ids: Iterable[str], criteria_key: str, model: str) -> dict[str, Judgment]:
        ids = list(arxiv_ids)
        found: dict[str, Judgment] = {}
        with Session(self.engine) as session:
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                rows = session.exec(
                    select(ScoreRow).where(
                        col(ScoreRow.arxiv_id).in_(ids[start : start + 500]),
                        ScoreRow.criteria_key == criteria_key,
                        ScoreRow.model == model,
                    )
                )
                for row in rows:
                    found[row.arxiv_id] = Judgment(
                        row.arxiv_id, row.relevance, row.novelty, row.comment, row.approximate
                    )
        return found

    def save_judgments(self, judgments: Iterable[Judgment], criteria_key: str, model: str) -> None:
        batch: dict[str, Judgment] = {}
        for judgment in judgments:
            batch.setdefault(judgment.arxiv_id, judgment)  # the first judgment of a paper counts
        rows = [
            {"arxiv_id": j.arxiv_id, "criteria_key": criteria_key, "model": model, "relevance": j.relevance,
             "novelty": j.novelty, "comment": j.comment, "approximate": j.approximate}
            for j in batch.values()
        ]
        with Session(self.engine) as session:
            insert_missing(session, ScoreRow, rows, ["arxiv_id", "criteria_key", "model"])
            session.commit()

    # runs --------------------------------------------------------------------------------

    def start_run(
        self, profile_id: int, date: dt.date, *, model: str, criteria_key: str, criteria_version: int = 0,
        prompt_examples: str = "",
    ) -> int:
        """The run row of (profile, day), created on first use; a re-run reuses and adds to it. It records the
        profile's thresholds, which the run's ranking uses, for the archive to rank the day again."""
        with Session(self.engine) as session:
            profile = session.get_one(ProfileRow, profile_id)
            row = run_row(session, profile_id, date)
            if (row.model, row.criteria_key) != (model, criteria_key):
                # Other criteria or another model: a new digest, so its spend starts from zero.
                row.prompt_tokens = row.cached_tokens = row.completion_tokens = row.requests = 0
                row.cost_usd = None
            row.status, row.model, row.criteria_key = RunStatus.STARTED, model, criteria_key
            row.criteria_version, row.prompt_examples = criteria_version, prompt_examples
            row.min_relevance, row.min_novelty = profile.min_relevance, profile.min_novelty
            row.started_at, row.finished_at = dt.datetime.now(dt.UTC), None
            row.owner, row.heartbeat_at, row.attempts = process_name(), row.started_at, row.attempts + 1
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def add_run_usage(self, run_id: int, usage: Usage, cost_usd: float | None) -> Run:
        """Add this attempt's tokens and cost; the run's totals are the day's whole spend. One UPDATE adding to the
        stored figures: replies of one run arrive at once and are recorded on several threads."""
        added = {
            "prompt_tokens": col(RunRow.prompt_tokens) + usage.prompt_tokens,
            "cached_tokens": col(RunRow.cached_tokens) + usage.cached_tokens,
            "completion_tokens": col(RunRow.completion_tokens) + usage.completion_tokens,
            "requests": col(RunRow.requests) + usage.requests,
            "heartbeat_at": dt.datetime.now(dt.UTC),
            # An unknown price makes the day's cost unknown: never a misleading partial sum.
            "cost_usd": None if cost_usd is None else func.coalesce(col(RunRow.cost_usd), 0.0) + cost_usd,
        }
        with Session(self.engine) as session:
            session.execute(update(RunRow).where(col(RunRow.id) == run_id).values(added))
            session.commit()
            return to_run(session.get_one(RunRow, run_id))

    def finish_run(
        self,
        run_id: int,
        *,
        status: RunStatus,
        total_arxiv: int,
        scanned: int,
        relevant: int,
        unscored: int,
        message: str = "",
    ) -> Run:
        with Session(self.engine) as session:
            row = session.get_one(RunRow, run_id)
            row.status, row.message = status, message
            row.total_arxiv, row.scanned, row.relevant, row.unscored = total_arxiv, scanned, relevant, unscored
            row.finished_at = dt.datetime.now(dt.UTC)
            session.add(row)
            session.commit()
            session.refresh(row)
            return to_run(row)

    def get_run(self, profile_id: int, date: dt.date) -> Run | None:
        with Session(self.engine) as session:
            row = session.exec(select(RunRow).where(RunRow.profile_id == profile_id, RunRow.date == date)).first()
            return to_run(row) if row else None
