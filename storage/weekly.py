"""Queries for the weekly roundup: a week's posted papers with their scores and reactions, its figures, and the
claim that makes one process post a channel's roundup once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.statuses import FeedbackKind
from bot.domain.weekly import WeekFigures, WeekPaper
from storage.tables import FeedbackRow, PaperRow, PostRow, RunRow, ScoreRow, WeeklyPostRow
from storage.upsert import insert_missing

# A claim with no message after this long was cut off (the process died before posting): another may take it.
STALE_CLAIM = dt.timedelta(minutes=10)


class WeeklyQueries:
    """Mixed into :class:`storage.store.Store`."""

    engine: Engine

    def claim_week(self, platform: str, channel: str, week: dt.date) -> str | None:
        """A token that makes this caller the one to post the channel's roundup of ``week``; None when it is
        posted already or another process holds a fresh claim. INSERT … ON CONFLICT, so two processes racing
        for it get one token between them."""
        token, now = uuid.uuid4().hex, dt.datetime.now(dt.UTC)
        with Session(self.engine) as session:
            insert_missing(session, WeeklyPostRow, [{"platform": platform, "channel": channel, "week": week,
                                                     "claim": token, "claimed_at": now, "message_id": ""}],
                           ["platform", "channel", "week"])
            row = session.exec(
                select(WeeklyPostRow).where(WeeklyPostRow.platform == platform, WeeklyPostRow.channel == channel,
                                            WeeklyPostRow.week == week).with_for_update()
            ).one()
            if row.message_id:
                session.commit()
                return None
            claimed_at = row.claimed_at if row.claimed_at.tzinfo else row.claimed_at.replace(tzinfo=dt.UTC)
            if row.claim != token and claimed_at > now - STALE_CLAIM:
                session.commit()
                return None
            row.claim, row.claimed_at = token, now
            session.add(row)
            session.commit()
            return token

    def record_week(self, platform: str, channel: str, week: dt.date, token: str, message_id: str) -> None:
        with Session(self.engine) as session:
            row = session.exec(
                select(WeeklyPostRow).where(WeeklyPostRow.platform == platform, WeeklyPostRow.channel == channel,
                                            WeeklyPostRow.week == week, WeeklyPostRow.claim == token)
            ).one()
            row.message_id = message_id
            session.add(row)
            session.commit()

    def release_week(self, platform: str, channel: str, week: dt.date, token: str) -> None:
        """Give up a claim that posted nothing (the post failed): the next attempt may take it at once."""
        with Session(self.engine) as session:
            session.execute(delete(WeeklyPostRow).where(
                col(WeeklyPostRow.platform) == platform, col(WeeklyPostRow.channel) == channel,
                col(WeeklyPostRow.week) == week, col(WeeklyPostRow.claim) == token, col(WeeklyPostRow.message_id) == "",
            ))
            session.commit()

    def weekly_message(self, platform: str, channel: str, week: dt.date) -> str | None:
        """The message ID of the channel's roundup of ``week``, once posted."""
        with Session(self.engine) as session:
            message = session.exec(
                select(WeeklyPostRow.message_id).where(WeeklyPostRow.platform == platform,
                                                       WeeklyPostRow.channel == channel, WeeklyPostRow.week == week)
            ).first()
            return message or None

    def week_papers(
        self, platform: str, channel: str, profile_id: int, first: dt.date, last: dt.date
    ) -> list[WeekPaper]:
        """The papers the channel's digests of ``first``…``last`` posted, with the scores of their day's run
        and every reaction the channel gave them."""
        with Session(self.engine) as session:
            posts = session.exec(
                select(PostRow, PaperRow)
                .join(PaperRow, col(PaperRow.arxiv_id) == col(PostRow.arxiv_id))
                .where(PostRow.platform == platform, PostRow.channel == channel,
                       col(PostRow.date) >= first, col(PostRow.date) <= last)
                .order_by(col(PostRow.date), col(PostRow.rank))
            ).all()
            if not posts:
                return []
            ids = [post.arxiv_id for post, _ in posts if post.arxiv_id]
            runs = {run.date: run for run in session.exec(select(RunRow).where(
                RunRow.profile_id == profile_id, col(RunRow.date) >= first, col(RunRow.date) <= last))}
            scores = {(score.arxiv_id, score.criteria_key, score.model): score
                      for score in session.exec(select(ScoreRow).where(col(ScoreRow.arxiv_id).in_(ids)))}
            counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for kind, arxiv_id in session.exec(
                select(col(FeedbackRow.kind), col(FeedbackRow.arxiv_id)).where(
                    FeedbackRow.platform == platform, FeedbackRow.channel == channel,
                    col(FeedbackRow.arxiv_id).in_(ids))
            ):
                counts[arxiv_id][kind] += 1
        papers: list[WeekPaper] = []
        seen: set[str] = set()
        for post, paper in posts:
            if paper.arxiv_id in seen:  # posted on two days of the week: counted once, on the first
                continue
            seen.add(paper.arxiv_id)
            run = runs.get(post.date)
            score = scores.get((paper.arxiv_id, run.criteria_key, run.model)) if run else None
            given = counts.get(paper.arxiv_id, {})
            papers.append(WeekPaper(
                arxiv_id=paper.arxiv_id, title=paper.title, date=post.date,
                relevance=score.relevance if score else None, novelty=score.novelty if score else None,
                positive=given.get(FeedbackKind.POSITIVE, 0), negative=given.get(FeedbackKind.NEGATIVE, 0),
                reactions=sum(given.values()),
            ))
        return papers

    def week_figures(
        self, platform: str, channel: str, profile_id: int, first: dt.date, last: dt.date
    ) -> WeekFigures:
        """Papers read, scored and posted on the digest days ``first``…``last``, the reactions to the posted
        ones, and what the LLM cost (unknown when one run's price is)."""
        papers = self.week_papers(platform, channel, profile_id, first, last)
        with Session(self.engine) as session:
            runs = session.exec(select(RunRow).where(
                RunRow.profile_id == profile_id, col(RunRow.date) >= first, col(RunRow.date) <= last)).all()
        costs = [run.cost_usd for run in runs if run.requests]
        return WeekFigures(
            read=sum(run.total_arxiv for run in runs), scored=sum(run.scanned for run in runs), posted=len(papers),
            reactions=sum(paper.reactions for paper in papers),
            cost_usd=None if any(cost is None for cost in costs) else sum(cost or 0.0 for cost in costs),
        )
