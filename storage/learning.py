"""What learning reads and writes: labelled papers, reactions, versioned prefilter models, and what the
prefilter and the feedback did to each paper of a day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.criteria import Suggestion
from bot.domain.feedback import Reaction
from bot.domain.statuses import FeedbackKind, Route
from bot.domain.training import Decision, LearnedModel, ScoredPaper
from storage.tables import (
    AnnouncementRow,
    DecisionRow,
    FeedbackRow,
    LearnedModelRow,
    PaperRow,
    RunRow,
    ScoreRow,
    SubscriptionRow,
    SuggestionRow,
    to_value,
)
from storage.upsert import insert_missing, upsert

KEEP_MODEL_VERSIONS = 20  # older model rows are deleted (their decisions keep the version number)


def _decision(row: DecisionRow) -> Decision:
    return to_value(Decision, row, route=Route(row.route))


class LearningQueries:
    """Mixed into :class:`storage.store.Store`."""

    engine: Engine

    # labels --------------------------------------------------------------------------------------

    def scored_papers(self, profile_id: int) -> list[ScoredPaper]:
        """Every LLM judgment (not approximate) made for the profile's runs, dated by the run's day."""
        with Session(self.engine) as session:
            runs = session.exec(
                select(
                    col(RunRow.date), col(RunRow.criteria_key), col(RunRow.model), col(RunRow.criteria_version)
                ).where(RunRow.profile_id == profile_id)
            ).all()
            found: dict[str, ScoredPaper] = {}
            for day, key, model, version in sorted(runs):
                rows = session.exec(
                    select(ScoreRow, PaperRow)
                    .join(PaperRow, col(PaperRow.arxiv_id) == col(ScoreRow.arxiv_id))
                    .join(AnnouncementRow, col(AnnouncementRow.arxiv_id) == col(ScoreRow.arxiv_id))
                    .where(
                        ScoreRow.criteria_key == key, ScoreRow.model == model, col(ScoreRow.approximate).is_(False),
                        AnnouncementRow.date == day,
                    )
                ).all()
                for score, paper in rows:
                    found[paper.arxiv_id] = ScoredPaper(
                        paper.arxiv_id, paper.title, paper.abstract, day, score.relevance, score.novelty, key,
                        version, categories=tuple(paper.categories or ()),
                    )
        return list(found.values())

    def reactions(self, profile_id: int, *, user: str | None = None) -> list[Reaction]:
        """👍/👎 on papers in the profile's channels, after each channel's ``feedback reset``; the newest
        signal of a person on a paper wins."""
        with Session(self.engine) as session:
            channels = session.exec(select(SubscriptionRow).where(SubscriptionRow.profile_id == profile_id)).all()
            reactions: dict[tuple[str, str], Reaction] = {}
            for channel in channels:
                query = (
                    select(FeedbackRow, PaperRow)
                    .join(PaperRow, col(PaperRow.arxiv_id) == col(FeedbackRow.arxiv_id))
                    .where(
                        FeedbackRow.platform == channel.platform, FeedbackRow.channel == channel.channel,
                        col(FeedbackRow.kind).in_((FeedbackKind.POSITIVE, FeedbackKind.NEGATIVE)),
                    )
                    .order_by(col(FeedbackRow.id))
                )
                if channel.feedback_since is not None:
                    query = query.where(col(FeedbackRow.created_at) >= channel.feedback_since)
                if user is not None:
                    query = query.where(FeedbackRow.user == user)
                for feedback, paper in session.exec(query).all():
                    reactions[(feedback.user, paper.arxiv_id)] = Reaction(
                        feedback.user, paper.arxiv_id, paper.title, paper.abstract, FeedbackKind(feedback.kind),
                        feedback.created_at,
                    )
        return list(reactions.values())

    # models --------------------------------------------------------------------------------------

    def save_model(
        self, profile_id: int, *, criteria_version: int, labels: int, positives: int, reactions: int,
        cutoff: float | None, metrics: Mapping[str, object], weights: bytes, train_seconds: float,
    ) -> int:
        """Store a new model version (the newest is in force); returns its version number."""
        with Session(self.engine) as session:
            latest = session.exec(
                select(func.max(LearnedModelRow.version)).where(LearnedModelRow.profile_id == profile_id)
            ).one()
            version = (latest or 0) + 1
            session.add(
                LearnedModelRow(
                    profile_id=profile_id, version=version, criteria_version=criteria_version, labels=labels,
                    positives=positives, reactions=reactions, cutoff=cutoff, metrics=dict(metrics),
                    weights=weights, train_seconds=train_seconds,
                )
            )
            session.execute(
                delete(LearnedModelRow).where(
                    col(LearnedModelRow.profile_id) == profile_id,
                    col(LearnedModelRow.version) <= version - KEEP_MODEL_VERSIONS,
                )
            )
            session.commit()
            return version

    def feedback_enabled(self, profile_id: int) -> bool:
        """Whether reactions may shape the profile's ranking and prompt (a channel's ``feedback on|off``)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(SubscriptionRow.learn_from_feedback).where(
                    SubscriptionRow.profile_id == profile_id, col(SubscriptionRow.active).is_(True)
                )
            ).all()
        return any(rows)

    def latest_model(self, profile_id: int) -> LearnedModel | None:
        with Session(self.engine) as session:
            row = session.exec(
                select(LearnedModelRow)
                .where(LearnedModelRow.profile_id == profile_id)
                .order_by(col(LearnedModelRow.version).desc())
                .limit(1)
            ).first()
            return to_value(LearnedModel, row) if row else None

    # decisions -----------------------------------------------------------------------------------

    def decisions(self, profile_id: int, date: dt.date) -> dict[str, Decision]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(DecisionRow).where(DecisionRow.profile_id == profile_id, DecisionRow.date == date)
            ).all()
            return {row.arxiv_id: _decision(row) for row in rows}

    def save_decisions(self, profile_id: int, date: dt.date, decisions: Iterable[Decision]) -> None:
        """Add the prefilter's routes for the day's papers that have none yet (a re-run keeps the day's routes)."""
        # One statement for the day's few hundred rows: row by row through the ORM it was the most CPU a run
        # spent on its database thread, time the event loop waited for the GIL.
        rows: dict[str, dict[str, object]] = {}
        for decision in decisions:  # the first of a paper's decisions counts, as for a re-run
            rows.setdefault(decision.arxiv_id, asdict(decision) | {
                "profile_id": profile_id, "date": date, "route": str(decision.route)})
        with Session(self.engine) as session:
            insert_missing(session, DecisionRow, list(rows.values()), ["profile_id", "date", "arxiv_id"])
            session.commit()

    def save_ranking_notes(
        self, profile_id: int, date: dt.date, notes: Mapping[str, tuple[int, int, float, str]]
    ) -> None:
        """Per posted paper: (LLM rank, final rank, feedback adjustment, explanation)."""
        rows = [{"profile_id": profile_id, "date": date, "arxiv_id": arxiv_id, "llm_rank": llm_rank, "rank": rank,
                 "adjustment": adjustment, "explanation": explanation}
                for arxiv_id, (llm_rank, rank, adjustment, explanation) in notes.items()]
        with Session(self.engine) as session:
            upsert(session, DecisionRow, rows, ["profile_id", "date", "arxiv_id"],
                   ["llm_rank", "rank", "adjustment", "explanation"])
            session.commit()

    def decisions_since(self, profile_id: int, since: dt.date) -> list[Decision]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(DecisionRow).where(DecisionRow.profile_id == profile_id, col(DecisionRow.date) >= since)
            )
            return [_decision(row) for row in rows]

    def sample_weights(self, profile_id: int) -> dict[str, float]:
        """Papers scored as the random sample below the cutoff stand for all the skipped ones of their day:
        arXiv ID → how many papers each stands for."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(col(DecisionRow.date), col(DecisionRow.arxiv_id), col(DecisionRow.route)).where(
                    DecisionRow.profile_id == profile_id, col(DecisionRow.route).in_((Route.SAMPLE, Route.SKIPPED))
                )
            ).all()
        below = Counter(day for day, _, _ in rows)
        sampled = Counter(day for day, _, route in rows if route == Route.SAMPLE)
        return {arxiv_id: below[day] / sampled[day] for day, arxiv_id, route in rows if route == Route.SAMPLE}

    # suggestions ---------------------------------------------------------------------------------

    def add_suggestion(self, profile_id: int, text: str, rationale: str, requested_by: str) -> int:
        with Session(self.engine) as session:
            row = SuggestionRow(profile_id=profile_id, text=text, rationale=rationale, requested_by=requested_by)
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def get_suggestion(self, profile_id: int, suggestion_id: int) -> Suggestion | None:
        with Session(self.engine) as session:
            row = session.get(SuggestionRow, suggestion_id)
            return to_value(Suggestion, row) if row is not None and row.profile_id == profile_id else None

    def mark_suggestion_applied(self, suggestion_id: int, version: int) -> None:
        with Session(self.engine) as session:
            row = session.get(SuggestionRow, suggestion_id)
            if row is not None:
                row.applied_version = version
                session.add(row)
                session.commit()
