"""What feedback did: a member's own ranking of a posted day (``/arxiv me``) and the week's moves
(``/arxiv stats``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.domain.models import Profile, RankedPaper
from bot.domain.settings import Settings
from bot.learning import preferences
from storage.store import Store


@dataclass(frozen=True)
class PersonalRanking:
    day: dt.date
    ranked: list[RankedPaper]  # rank: the member's; the channel's rank is in ``channel_rank``
    channel_rank: dict[str, int]
    own_reactions: int


def posted_ranking(store: Store, profile: Profile, day: dt.date) -> list[RankedPaper]:
    """The ranked papers of a posted day, in the LLM's order (as they were before feedback moved them)."""
    run = store.get_run(profile.id, day)
    if run is None:
        return []
    notes = {d.arxiv_id: d for d in store.decisions(profile.id, day).values() if d.llm_rank is not None}
    judged = store.get_judgments(notes, run.criteria_key, run.model)
    ranked: list[RankedPaper] = []
    for arxiv_id, note in sorted(notes.items(), key=lambda pair: pair[1].llm_rank or 0):
        paper = store.get_paper(arxiv_id)
        if paper is not None and arxiv_id in judged:
            ranked.append(RankedPaper(paper, judged[arxiv_id], note.llm_rank or 0))
    return ranked


def personal_ranking(
    store: Store, settings: Settings, profile: Profile, day: dt.date, user: str
) -> PersonalRanking:
    """The day's digest re-ranked with the channel's reactions and the member's own counted double."""
    reactions = store.reactions(profile.id)
    own = sum(1 for r in reactions if r.user == user)
    ranked = posted_ranking(store, profile, day)
    channel = {arxiv_id: d.rank for arxiv_id, d in store.decisions(profile.id, day).items() if d.rank is not None}
    mine = preferences.adjust(
        ranked, preferences.signals(reactions, member=user), profile.criteria, max_points=settings.feedback_weight,
        audience="you",
    )
    return PersonalRanking(day, mine, channel, own)


@dataclass(frozen=True)
class FeedbackWeek:
    raised: int
    lowered: int
    biggest: tuple[str, int, int] | None  # (title, LLM rank, final rank)


def feedback_week(store: Store, profile: Profile, today: dt.date) -> FeedbackWeek:
    """How reactions moved posted papers in the last seven days."""
    moved = [
        d for d in store.decisions_since(profile.id, today - dt.timedelta(days=7))
        if d.rank is not None and d.llm_rank is not None and d.rank != d.llm_rank
    ]
    raised = sum(1 for d in moved if (d.rank or 0) < (d.llm_rank or 0))
    # The largest move; between equal ones, a paper feedback raised.
    biggest = max(moved, key=lambda d: (abs((d.llm_rank or 0) - (d.rank or 0)), (d.rank or 0) < (d.llm_rank or 0)),
                  default=None)
    detail = None
    if biggest is not None:
        paper = store.get_paper(biggest.arxiv_id)
        detail = (paper.title if paper else biggest.arxiv_id, biggest.llm_rank or 0, biggest.rank or 0)
    return FeedbackWeek(raised, len(moved) - raised, detail)
