"""Reactions change the ranking, within bounds, and every paper says why it ranks where it does.

A paper close (TF-IDF cosine) to papers the channel 👍'd gains up to ``max_points`` on its R+N (which
runs from 2 to 20), one close to 👎'd papers loses as much; the LLM's judgment still decides which
papers make the digest and dominates the order. A member's own reactions count double in their personal
ranking (``/arxiv me``).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.domain.counting import counted
from bot.domain.feedback import Reaction
from bot.domain.models import RankedPaper
from bot.scoring.local_scorer import parse_topics
from bot.scoring.ranking import rank_key

SIMILAR = 0.12  # cosine above which two abstracts are "similar" (related work shares terms, others ~0.02)
NEIGHBOURS = 3  # the closest reacted papers that count, per direction
SATURATION = 0.6  # summed similarity that earns 3/4 of the full adjustment (e.g. two papers at 0.3)
MEMBER_WEIGHT = 2.0
TOPIC_MATCH = 0.05
TOPIC_NAME_CHARS = 40
SKLEARN = ("sklearn.feature_extraction.text", "sklearn.linear_model")  # what ranking and the prefilter use


async def load_off_the_loop() -> None:
    """scikit-learn's import costs seconds of CPU: the first run pays it on a thread rather than on the event
    loop, and a process that never ranks a digest never loads it (the idle process stays small)."""
    missing = [name for name in SKLEARN if name not in sys.modules]
    if missing:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in missing])


@dataclass(frozen=True)
class Signal:
    """A reacted paper as ranking evidence."""

    arxiv_id: str
    text: str
    positive: bool
    weight: float = 1.0


def signals(channel: Sequence[Reaction], member: str | None = None) -> list[Signal]:
    """The channel's reactions, one per paper (its majority), and the member's own ones counted double."""
    votes: dict[str, list[Reaction]] = {}
    for reaction in channel:
        votes.setdefault(reaction.arxiv_id, []).append(reaction)
    found: list[Signal] = []
    for arxiv_id, reactions in votes.items():
        text = f"{reactions[0].title}. {reactions[0].abstract}"
        balance = sum(1 if r.kind == "positive" else -1 for r in reactions)
        if balance:
            found.append(Signal(arxiv_id, text, balance > 0))
        if member is not None:
            own = [r for r in reactions if r.user == member]
            found += [Signal(arxiv_id, text, r.kind == "positive", MEMBER_WEIGHT) for r in own]
    return found


def adjust(
    ranked: Sequence[RankedPaper], evidence: Sequence[Signal], criteria: str, *, max_points: float,
    audience: str = "the channel",
) -> list[RankedPaper]:
    """Re-rank by R+N plus the bounded feedback adjustment (ties: relevance, then the LLM's order) and
    explain each paper: the criteria topic it matches and the reactions that moved it."""
    if not ranked:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer  # slow import, needed only here

    topics, _ = parse_topics(criteria)
    docs = [f"{item.paper.title}. {item.paper.abstract}" for item in ranked]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs + [s.text for s in evidence] + [t.text for t in topics])
    papers = matrix[: len(docs)]
    reacted = matrix[len(docs) : len(docs) + len(evidence)]
    topic_sim = (papers @ matrix[len(docs) + len(evidence) :].T).toarray()
    similarity = (papers @ reacted.T).toarray() if evidence else np.zeros((len(docs), 0))

    adjusted: list[tuple[float, RankedPaper]] = []
    for i, item in enumerate(ranked):
        parts: list[str] = []
        if topics and topic_sim.shape[1] and topic_sim[i].max() >= TOPIC_MATCH:
            best = int(topic_sim[i].argmax())
            name = topics[best].name
            name = name if len(name) <= TOPIC_NAME_CHARS else name[: TOPIC_NAME_CHARS - 1] + "…"
            parts.append(f"matches topic {best + 1}: {name}" if len(topics) > 1 else f"matches the criteria: {name}")
        liked, disliked, push = _evidence(similarity[i], evidence, item.paper.arxiv_id)
        points = float(max_points * np.tanh(push / SATURATION))  # smooth, so stronger evidence still counts more
        if liked:
            parts.append(f"↑ like {counted(liked, 'paper')} {audience} liked")
        if disliked:
            parts.append(f"↓ like {counted(disliked, 'paper')} {audience} disliked")
        adjusted.append((points, replace(item, adjustment=round(points, 2), explanation="; ".join(parts))))
    order = sorted(adjusted, key=lambda pair: (*rank_key(pair[1].judgment, pair[0]), pair[1].rank))
    return [replace(item, rank=rank) for rank, (_, item) in enumerate(order, start=1)]


def _evidence(row: np.ndarray, evidence: Sequence[Signal], own_id: str) -> tuple[int, int, float]:
    """How many liked and disliked papers are similar, and the signed push of the closest ones."""
    close = [
        (float(row[j]) * s.weight, s) for j, s in enumerate(evidence) if row[j] >= SIMILAR and s.arxiv_id != own_id
    ]
    up = sorted((v for v, s in close if s.positive), reverse=True)[:NEIGHBOURS]
    down = sorted((v for v, s in close if not s.positive), reverse=True)[:NEIGHBOURS]
    liked = len({s.arxiv_id for _, s in close if s.positive})
    disliked = len({s.arxiv_id for _, s in close if not s.positive})
    return liked, disliked, sum(up) - sum(down)


def prompt_examples(reactions: Sequence[Reaction], limit: int) -> str:
    """A few titles the channel liked and disliked, for the prompt's static part (newest first)."""
    if limit <= 0:
        return ""
    liked: list[str] = []
    disliked: list[str] = []
    for signal in sorted(signals(reactions), key=lambda s: s.arxiv_id, reverse=True):
        title = signal.text.split(". ", 1)[0]
        (liked if signal.positive else disliked).append(title)
    liked, disliked = liked[:limit], disliked[:limit]
    if not liked and not disliked:
        return ""
    lines = ["", "**Examples from this team's reactions** (use them to calibrate relevance, not as topics):"]
    lines += [f"- Liked: {title}" for title in liked]
    lines += [f"- Not wanted: {title}" for title in disliked]
    return "\n".join(lines)
