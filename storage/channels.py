"""Queries for chat channels: subscriptions, the message map of posted digests, feedback, event dedupe."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.feedback import Feedback
from bot.domain.models import Subscription
from bot.domain.statuses import FeedbackKind
from storage.tables import FeedbackRow, PostRow, RunRow, SeenEventRow, SubscriptionRow, to_value


def _subscription(row: SubscriptionRow) -> Subscription:
    return to_value(Subscription, row)


class ChannelQueries:
    """Mixed into :class:`storage.store.Store`; every method is one short transaction."""

    engine: Engine

    # subscriptions ------------------------------------------------------------------------

    def subscribe(self, platform: str, workspace: str, channel: str, user: str, profile_id: int) -> Subscription:
        """Create or re-activate the channel's subscription (a returning channel keeps its settings)."""
        with Session(self.engine) as session:
            row = self._subscription_row(session, platform, channel)
            if row is None:
                row = SubscriptionRow(
                    platform=platform, workspace=workspace, channel=channel, profile_id=profile_id, created_by=user
                )
            row.active = True
            session.add(row)
            session.commit()
            session.refresh(row)
            return _subscription(row)

    def get_subscription(self, platform: str, channel: str) -> Subscription | None:
        with Session(self.engine) as session:
            row = self._subscription_row(session, platform, channel)
            return _subscription(row) if row else None

    def subscription_by_id(self, subscription_id: int) -> Subscription | None:
        with Session(self.engine) as session:
            row = session.get(SubscriptionRow, subscription_id)
            return _subscription(row) if row else None

    def active_subscriptions(self, platform: str | None = None) -> list[Subscription]:
        with Session(self.engine) as session:
            query = select(SubscriptionRow).where(col(SubscriptionRow.active).is_(True))
            if platform is not None:
                query = query.where(SubscriptionRow.platform == platform)
            return [_subscription(row) for row in session.exec(query.order_by(col(SubscriptionRow.id)))]

    def update_subscription(self, platform: str, channel: str, **values: Any) -> Subscription:
        allowed = {"active", "schedule_time", "timezone", "post_empty_days", "learn_from_feedback", "feedback_since",
                   "weekly_day", "weekly_time"}
        if not set(values) <= allowed:
            raise ValueError(f"cannot update {sorted(set(values) - allowed)} on a subscription")
        with Session(self.engine) as session:
            row = self._subscription_row(session, platform, channel)
            if row is None:
                raise LookupError(f"{platform} channel {channel} has no subscription")
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
            session.refresh(row)
            return _subscription(row)

    @staticmethod
    def _subscription_row(session: Session, platform: str, channel: str) -> SubscriptionRow | None:
        return session.exec(
            select(SubscriptionRow).where(SubscriptionRow.platform == platform, SubscriptionRow.channel == channel)
        ).first()

    # the message map ----------------------------------------------------------------------

    def posted_parts(self, platform: str, channel: str, date: dt.date) -> dict[str, str]:
        """``{part: message_id}`` of what is already in the channel for that day."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(PostRow).where(PostRow.platform == platform, PostRow.channel == channel, PostRow.date == date)
            )
            return {row.part: row.message_id for row in rows}

    def record_post(
        self,
        platform: str,
        channel: str,
        date: dt.date,
        part: str,
        message_id: str,
        *,
        arxiv_id: str | None = None,
        rank: int | None = None,
    ) -> None:
        with Session(self.engine) as session:
            session.add(
                PostRow(
                    platform=platform, channel=channel, date=date, part=part, message_id=message_id,
                    arxiv_id=arxiv_id, rank=rank,
                )
            )
            session.commit()

    def paper_of_message(self, platform: str, channel: str, message_id: str) -> str | None:
        """The arXiv ID a posted paper message carries; None for any other message."""
        with Session(self.engine) as session:
            return session.exec(
                select(PostRow.arxiv_id).where(
                    PostRow.platform == platform, PostRow.channel == channel, PostRow.message_id == message_id
                )
            ).first()

    def latest_posted_day(self, platform: str, channel: str) -> dt.date | None:
        with Session(self.engine) as session:
            return session.exec(
                select(func.max(PostRow.date)).where(
                    PostRow.platform == platform, PostRow.channel == channel, col(PostRow.rank).is_not(None)
                )
            ).one()

    def paper_at_rank(self, platform: str, channel: str, rank: int) -> tuple[dt.date, str] | None:
        """(day, arXiv ID) of the paper ranked ``rank`` in the channel's newest posted digest."""
        day = self.latest_posted_day(platform, channel)
        if day is None:
            return None
        with Session(self.engine) as session:
            arxiv_id = session.exec(
                select(PostRow.arxiv_id).where(
                    PostRow.platform == platform, PostRow.channel == channel, PostRow.date == day, PostRow.rank == rank
                )
            ).first()
            return (day, arxiv_id) if arxiv_id else None

    # feedback -----------------------------------------------------------------------------

    def add_feedback(
        self, platform: str, channel: str, user: str, arxiv_id: str, *, kind: str, emoji: str, source: str
    ) -> bool:
        """Store one signal; False when the same person already gave the same emoji to the paper here."""
        with Session(self.engine) as session:
            session.add(
                FeedbackRow(
                    platform=platform, channel=channel, user=user, arxiv_id=arxiv_id, kind=kind, emoji=emoji,
                    source=source,
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return False
            return True

    def remove_feedback(self, platform: str, channel: str, user: str, arxiv_id: str, emoji: str) -> bool:
        with Session(self.engine) as session:
            result = session.execute(
                delete(FeedbackRow).where(
                    col(FeedbackRow.platform) == platform,
                    col(FeedbackRow.channel) == channel,
                    col(FeedbackRow.user) == user,
                    col(FeedbackRow.arxiv_id) == arxiv_id,
                    col(FeedbackRow.emoji) == emoji,
                )
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]  # a DML result has rowcount; the stubs say Result

    def feedback_for(self, platform: str, channel: str) -> list[Feedback]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(FeedbackRow)
                .where(FeedbackRow.platform == platform, FeedbackRow.channel == channel)
                .order_by(col(FeedbackRow.id))
            )
            return [to_value(Feedback, row, kind=FeedbackKind(row.kind)) for row in rows]

    # event dedupe -------------------------------------------------------------------------

    def first_sighting(self, event_id: str, *, keep: dt.timedelta = dt.timedelta(days=2)) -> bool:
        """True the first time an event ID is seen; IDs older than ``keep`` are forgotten."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.engine) as session:
            session.execute(delete(SeenEventRow).where(col(SeenEventRow.seen_at) < now - keep))
            session.add(SeenEventRow(event_id=event_id, seen_at=now))
            try:
                session.commit()
            except IntegrityError:
                return False
            return True

    # statistics ---------------------------------------------------------------------------

    def channel_stats(self, platform: str, channel: str, profile_id: int, since: dt.date) -> dict[str, Any]:
        """Figures for ``/arxiv stats``: days and papers posted, spend and reactions since ``since``."""
        with Session(self.engine) as session:
            posts = session.exec(
                select(PostRow).where(
                    PostRow.platform == platform, PostRow.channel == channel, col(PostRow.date) >= since
                )
            ).all()
            runs = session.exec(
                select(RunRow).where(RunRow.profile_id == profile_id, col(RunRow.date) >= since)
            ).all()
            feedback = session.exec(
                select(FeedbackRow).where(
                    FeedbackRow.platform == platform,
                    FeedbackRow.channel == channel,
                    col(FeedbackRow.created_at) >= dt.datetime.combine(since, dt.time(), dt.UTC),
                )
            ).all()
        costs = [run.cost_usd for run in runs if run.requests]
        return {
            "days_posted": len({p.date for p in posts}),
            "papers_posted": sum(1 for p in posts if p.arxiv_id),
            "papers_scanned": sum(run.scanned for run in runs),
            "papers_announced": sum(run.total_arxiv for run in runs),
            "requests": sum(run.requests for run in runs),
            "tokens": sum(run.prompt_tokens + run.completion_tokens for run in runs),
            # One run with an unknown price makes the month's sum unknown, never a misleading partial.
            "cost_usd": None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
            "reactions": dict(Counter(f.kind for f in feedback)),
            "people": len({f.user for f in feedback}),
        }
