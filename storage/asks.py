"""Queries for questions about papers: full texts per paper and version, the asks, and what they cost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.asks import Ask, AskFigures, Spend
from bot.domain.fulltext import FullText, TextBlock
from bot.domain.models import Usage
from bot.domain.statuses import AskOutcome, PostKind, TextSource
from storage.tables import AskRow, PaperTextRow, PostRow, RunRow
from storage.upsert import upsert


def _full_text(row: PaperTextRow) -> FullText:
    blocks = tuple(TextBlock(section, text, label) for section, text, label in row.blocks)
    return FullText(row.arxiv_id, row.version, TextSource(row.source), blocks, row.title, row.pages)


def _ask(row: AskRow) -> Ask:
    return Ask(
        platform=row.platform, workspace=row.workspace, channel=row.channel, thread=row.thread, user=row.user,
        arxiv_id=row.arxiv_id, question=row.question, answer=row.answer, sections=tuple(row.sections),
        usage=Usage(row.prompt_tokens, row.cached_tokens, row.completion_tokens, 1 if row.prompt_tokens else 0),
        cost_usd=row.cost_usd, outcome=AskOutcome(row.outcome), created_at=_utc(row.created_at), id=row.id,
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes of what was stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class AskQueries:
    """Mixed into :class:`storage.store.Store`; every method is one short transaction."""

    engine: Engine

    # full texts ----------------------------------------------------------------------------

    def save_full_text(self, text: FullText, *, read_at: dt.datetime | None = None) -> None:
        """Keep a paper's text, read at ``read_at`` (now); a version kept already (read again, or by another
        process meanwhile) keeps its text and only counts as read then."""
        with Session(self.engine) as session:
            upsert(session, PaperTextRow, [{
                "arxiv_id": text.arxiv_id, "version": text.version, "source": str(text.source), "title": text.title,
                "pages": text.pages, "blocks": [[b.section, b.text, b.label] for b in text.blocks],
                "fetched_at": read_at or dt.datetime.now(dt.UTC),
            }], ["arxiv_id", "version"], ["fetched_at"])
            session.commit()

    def full_text_checked(self, arxiv_id: str) -> dt.datetime | None:
        """When arXiv was last read for ``arxiv_id``'s text (any version); None when none is kept."""
        with Session(self.engine) as session:
            moment = session.exec(
                select(func.max(PaperTextRow.fetched_at)).where(PaperTextRow.arxiv_id == arxiv_id)
            ).one()
            return _utc(moment) if moment is not None else None

    def full_text(self, arxiv_id: str) -> FullText | None:
        """The newest stored version's text of ``arxiv_id`` (bare ID)."""
        with Session(self.engine) as session:
            row = session.exec(
                select(PaperTextRow).where(PaperTextRow.arxiv_id == arxiv_id)
                .order_by(col(PaperTextRow.version).desc())
            ).first()
            return _full_text(row) if row else None

    # asks ----------------------------------------------------------------------------------

    def record_ask(self, ask: Ask) -> int:
        with Session(self.engine) as session:
            row = AskRow(
                platform=ask.platform, workspace=ask.workspace, channel=ask.channel, thread=ask.thread,
                user=ask.user, arxiv_id=ask.arxiv_id, question=ask.question, answer=ask.answer,
                sections=list(ask.sections), prompt_tokens=ask.usage.prompt_tokens,
                cached_tokens=ask.usage.cached_tokens, completion_tokens=ask.usage.completion_tokens,
                cost_usd=ask.cost_usd, outcome=str(ask.outcome), created_at=ask.created_at or dt.datetime.now(dt.UTC),
            )
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def ask_times(
        self, platform: str, since: dt.datetime, *, workspace: str | None = None, user: str | None = None,
        channel: str | None = None,
    ) -> list[dt.datetime]:
        """When the questions since ``since`` were asked, oldest first: by one person (``workspace`` and
        ``user``) or in one channel."""
        query = select(col(AskRow.created_at)).where(AskRow.platform == platform, col(AskRow.created_at) >= since)
        if user is not None:
            query = query.where(AskRow.workspace == (workspace or ""), AskRow.user == user)
        if channel is not None:
            query = query.where(AskRow.channel == channel)
        with Session(self.engine) as session:
            return [_utc(moment) for moment in session.exec(query.order_by(col(AskRow.created_at)))]

    def thread_asks(
        self, platform: str, channel: str, threads: Collection[str], *, arxiv_id: str | None = None, limit: int = 10,
    ) -> list[Ask]:
        """The newest ``limit`` questions asked in these threads of a channel (about ``arxiv_id`` when given),
        oldest first."""
        query = select(AskRow).where(
            AskRow.platform == platform, AskRow.channel == channel, col(AskRow.thread).in_(list(threads))
        )
        if arxiv_id is not None:
            query = query.where(AskRow.arxiv_id == arxiv_id)
        with Session(self.engine) as session:
            rows = session.exec(query.order_by(col(AskRow.created_at).desc(), col(AskRow.id).desc()).limit(limit))
            return [_ask(row) for row in reversed(list(rows))]

    def ask_figures(self, since: dt.datetime, *, platform: str | None = None, channel: str | None = None) -> AskFigures:
        """Questions since ``since`` (in one channel when given), their tokens and cost."""
        query = select(AskRow).where(col(AskRow.created_at) >= since)
        if platform is not None and channel is not None:
            query = query.where(AskRow.platform == platform, AskRow.channel == channel)
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        costs = [row.cost_usd for row in rows if row.prompt_tokens]
        return AskFigures(
            questions=len(rows), tokens=sum(row.prompt_tokens + row.completion_tokens for row in rows),
            cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
        )

    def spend_since(self, since: dt.datetime) -> Spend:
        """What the LLM cost since ``since`` across every channel: digest runs started since then, and questions."""
        with Session(self.engine) as session:
            runs = session.exec(
                select(col(RunRow.cost_usd), col(RunRow.requests)).where(col(RunRow.started_at) >= since)
            ).all()
            asks = session.exec(
                select(col(AskRow.cost_usd), col(AskRow.prompt_tokens)).where(col(AskRow.created_at) >= since)
            ).all()
        unknown = any(cost is None and used for cost, used in [*runs, *asks])
        return Spend(
            runs_usd=sum(cost or 0.0 for cost, _ in runs), asks_usd=sum(cost or 0.0 for cost, _ in asks),
            unknown=unknown,
        )

    # the posted messages a question can be asked under -----------------------------------------

    def posted_message(self, platform: str, channel: str, message_id: str) -> tuple[dt.date, str, str | None] | None:
        """(day, part, arXiv ID) of a message the bot posted in the channel: the part is "summary", "summary.2", an
        arXiv ID (then also the third value), …; None for any other message."""
        with Session(self.engine) as session:
            row = session.exec(select(PostRow).where(
                PostRow.platform == platform, PostRow.channel == channel, PostRow.message_id == message_id
            )).first()
            return (row.date, row.part, row.arxiv_id) if row else None

    def day_paper(self, platform: str, channel: str, day: dt.date, rank: int) -> tuple[str, str] | None:
        """(arXiv ID, message ID) of the paper posted at ``rank`` in the channel's digest of ``day``."""
        with Session(self.engine) as session:
            row = session.exec(select(PostRow).where(
                PostRow.platform == platform, PostRow.channel == channel, PostRow.date == day, PostRow.rank == rank,
                col(PostRow.arxiv_id).is_not(None),
            )).first()
            return (row.arxiv_id, row.message_id) if row and row.arxiv_id else None

    def paper_messages(self, platform: str, channel: str, arxiv_id: str) -> list[tuple[dt.date, str, str]]:
        """(day, the paper's message, that day's summary message) of each digest that posted ``arxiv_id`` in the
        channel, newest day first (the summary is "" when it is not recorded)."""
        with Session(self.engine) as session:
            posts = session.exec(
                select(PostRow).where(
                    PostRow.platform == platform, PostRow.channel == channel, PostRow.arxiv_id == arxiv_id
                ).order_by(col(PostRow.date).desc())
            ).all()
            found = []
            for post in posts:
                summary = session.exec(select(col(PostRow.message_id)).where(
                    PostRow.platform == platform, PostRow.channel == channel, PostRow.date == post.date,
                    PostRow.part == PostKind.SUMMARY,
                )).first()
                found.append((post.date, post.message_id, summary or ""))
            return found

    def day_messages(self, platform: str, channel: str, day: dt.date) -> list[str]:
        """Every message the bot posted in the channel for ``day``."""
        with Session(self.engine) as session:
            return list(session.exec(select(col(PostRow.message_id)).where(
                PostRow.platform == platform, PostRow.channel == channel, PostRow.date == day
            )))
