"""Queries for followed authors (/arxiv follow) and the authors a channel liked (its suggestions)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.authors import FollowedName, author_words
from bot.domain.statuses import FeedbackKind
from storage.tables import FeedbackRow, FollowedAuthorRow, PaperRow


def _followed(row: FollowedAuthorRow) -> FollowedName:
    return FollowedName(row.name, tuple(row.key.split()))


class FollowQueries:
    """Mixed into :class:`storage.store.Store`; every method is one short transaction."""

    engine: Engine

    def follow(self, profile_id: int, name: FollowedName, *, by: str = "") -> bool:
        """Follow ``name``; False when the profile already follows that person (however it was written)."""
        with Session(self.engine) as session:
            session.add(FollowedAuthorRow(profile_id=profile_id, key=name.key, name=name.shown, added_by=by))
            try:
                session.commit()
            except IntegrityError:  # the unique (profile, key): followed already, maybe by another process just now
                return False
            return True

    def unfollow(self, profile_id: int, name: FollowedName) -> FollowedName | None:
        """Stop following ``name``; the follow as it was stored (its spelling), or None when there was none."""
        with Session(self.engine) as session:
            row = session.exec(select(FollowedAuthorRow).where(
                FollowedAuthorRow.profile_id == profile_id, FollowedAuthorRow.key == name.key)).first()
            if row is None:
                return None
            removed = _followed(row)
            session.execute(delete(FollowedAuthorRow).where(col(FollowedAuthorRow.id) == row.id))
            session.commit()
            return removed

    def followed(self, profile_id: int) -> list[FollowedName]:
        """The profile's followed authors, in the order they were followed."""
        with Session(self.engine) as session:
            rows = session.exec(select(FollowedAuthorRow).where(FollowedAuthorRow.profile_id == profile_id)
                                .order_by(col(FollowedAuthorRow.id))).all()
            return [_followed(row) for row in rows]

    def liked_authors(self, platform: str, channel: str) -> list[tuple[str, int]]:
        """Authors of the papers the channel 👍'd, most liked papers first (ties in arXiv ID order): (name as on
        the paper, papers). Spellings of one person ("Przemys{\\l}aw", "Przemysław") count together under the
        first seen."""
        with Session(self.engine) as session:
            liked = (
                select(FeedbackRow.arxiv_id)
                .where(FeedbackRow.platform == platform, FeedbackRow.channel == channel,
                       FeedbackRow.kind == FeedbackKind.POSITIVE)
            )
            # A paper liked by several people counts once (JSON has no equality on PostgreSQL: no DISTINCT on it).
            papers = session.exec(select(PaperRow.authors).where(col(PaperRow.arxiv_id).in_(liked))
                                  .order_by(col(PaperRow.arxiv_id))).all()
        shown: dict[tuple[str, ...], str] = {}
        counts: Counter[tuple[str, ...]] = Counter()
        for authors in papers:
            for author in dict.fromkeys(authors):
                words = author_words(author)
                shown.setdefault(words, author)
                counts[words] += 1
        return [(shown[words], n) for words, n in counts.most_common()]
